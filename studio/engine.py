"""The generation engine: one request per image, all in flight at once, each reported as it lands.

Image models reject candidateCount > 1, so a batch of N is N concurrent calls on ``client.aio``.
The engine owns one event loop thread, so the client's connection pool stays bound to one loop
while Streamlit's script thread receives results through a queue and draws them one by one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import queue
import random
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime

from google import genai
from google.genai import types

from studio import images
from studio.catalogue import DEFAULT_CATALOGUE, Catalogue, ModelSpec
from studio.failures import classify_answer, classify_exception
from studio.redact import redact_json
from studio.request import GenerationRequest, validate
from studio.results import Failure, FailureKind, GeneratedImage, ImageResult, Usage

DEFAULT_TIMEOUT_S = 300.0
RETRY_KINDS = frozenset({FailureKind.QUOTA, FailureKind.OVERLOADED, FailureKind.SERVER_ERROR, FailureKind.NETWORK})
MAX_RETRY_DELAY_S = 60.0
OnResult = Callable[[ImageResult], None]
OnRetry = Callable[[int, Failure, float], None]


def backoff_delay(attempt: int, failure: Failure, base_s: float = 1.0) -> float:
    """Seconds to wait before the next attempt: the server's RetryInfo wins, else exponential + jitter."""
    if failure.retry_after_s is not None:
        return failure.retry_after_s + random.uniform(0, 0.25)
    return min(MAX_RETRY_DELAY_S, base_s * 2 ** (attempt - 1)) + random.uniform(0, base_s / 2)


def build_config(request: GenerationRequest, spec: ModelSpec, seed: int | None, vertex: bool) -> types.GenerateContentConfig:
    """The google-genai config for one image of the request."""
    image_config: dict = {"aspect_ratio": request.aspect_ratio}
    if not spec.size_is_ignored:
        image_config["image_size"] = request.image_size
    if vertex:  # only Vertex AI lets the server encode PNG/JPEG for us
        image_config["image_output_options"] = types.ImageConfigImageOutputOptions(
            mime_type=f"image/{request.output_format.lower()}",
            compression_quality=request.jpeg_quality if request.output_format == "JPEG" else None)
    config: dict = {"response_modalities": ["TEXT", "IMAGE"], "image_config": types.ImageConfig(**image_config),
                    "should_return_http_response": True}  # the raw answer keeps finishMessage
    if seed is not None:
        config["seed"] = seed
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.system_instruction:
        config["system_instruction"] = request.system_instruction
    if request.include_thoughts and spec.supports_thoughts:
        config["thinking_config"] = types.ThinkingConfig(include_thoughts=True)
    return types.GenerateContentConfig(**config)


def build_contents(request: GenerationRequest) -> list:
    """The prompt first, then the reference images in the order the person gave them."""
    parts: list = [request.prompt]
    parts += [types.Part.from_bytes(data=ref.data, mime_type=ref.mime_type) for ref in request.references]
    return parts


def request_json(request: GenerationRequest, config: types.GenerateContentConfig, model_id: str) -> dict:
    """The request as sent, for history and JSON views: image bytes elided, no secrets."""
    parts: list[dict] = [{"text": request.prompt}]
    parts += [{"inlineData": {"mimeType": r.mime_type,
                              "data": f"<{len(r.data)} bytes elided>"}} for r in request.references]
    return {"model": model_id, "contents": [{"role": "user", "parts": parts}],
            "generationConfig": config.model_dump(mode="json", exclude_none=True)}


class Engine:
    """Runs batches on one genai client. Create one per connection and reuse it."""

    def __init__(self, client: genai.Client, catalogue: Catalogue = DEFAULT_CATALOGUE, *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_attempts: int = 4, retry_base_s: float = 1.0,
                 secrets: tuple[str, ...] = (), vertex: bool = False) -> None:
        self.client = client
        self.catalogue = catalogue
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.secrets = secrets
        self.vertex = vertex
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()

    # ---- async API ------------------------------------------------------------------
    async def stream(self, request: GenerationRequest, on_retry: OnRetry | None = None) -> AsyncIterator[ImageResult]:
        """Yield each image's result as soon as it finishes (completion order, not index order)."""
        request = validate(request, self.catalogue)
        spec = self.catalogue.resolve(request.model_id)
        tasks = [asyncio.ensure_future(self._one(i, request, spec, on_retry)) for i in range(request.count)]
        try:
            for finished in asyncio.as_completed(tasks):
                yield await finished
        finally:
            for task in tasks:
                task.cancel()

    async def _one(self, index: int, request: GenerationRequest, spec: ModelSpec,
                   on_retry: OnRetry | None) -> ImageResult:
        seed = None if request.seed is None else (request.seed + index) % 2**31
        config = build_config(request, spec, seed, self.vertex)
        sent = request_json(request, config, spec.model_id)
        contents = build_contents(request)
        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await asyncio.wait_for(
                    self.client.aio.models.generate_content(model=spec.model_id, contents=contents, config=config),
                    timeout=self.timeout_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = classify_exception(exc, self.secrets)
                if self._should_retry(failure, attempt):
                    delay = backoff_delay(attempt, failure, self.retry_base_s)
                    if on_retry:
                        on_retry(index, failure, delay)
                    await asyncio.sleep(delay)
                    continue
                return ImageResult(index=index, failure=failure, attempts=attempt, request_json=sent,
                                   latency_s=time.perf_counter() - started)
            try:  # decoding and re-encoding is CPU work: keep it off the event loop
                return await asyncio.to_thread(self._result, index, request, seed, response, sent, attempt,
                                               time.perf_counter() - started)
            except Exception as exc:  # an answer we cannot read must not take the batch down
                return ImageResult(index=index, failure=classify_exception(exc, self.secrets), attempts=attempt,
                                   request_json=sent, latency_s=time.perf_counter() - started)

    def _should_retry(self, failure: Failure, attempt: int) -> bool:
        if attempt >= self.max_attempts:
            return False
        if failure.retry_after_s is not None and failure.retry_after_s > MAX_RETRY_DELAY_S:
            return False
        if "limit: 0" in failure.message or "limit: 0" in failure.detail:
            return False  # no quota at all: waiting will not help
        return failure.kind in RETRY_KINDS or failure.http_status == 408

    def _result(self, index: int, request: GenerationRequest, seed: int | None, response: types.GenerateContentResponse,
                sent: dict, attempts: int, latency_s: float) -> ImageResult:
        """Read Google's raw answer: the SDK's parsed model drops fields such as finishMessage."""
        body = response.sdk_http_response.body if response.sdk_http_response else None
        raw = json.loads(body or "{}")
        if not isinstance(raw, dict):
            raise ValueError("the answer is not a JSON object")
        candidates = raw.get("candidates") or []
        candidate = candidates[0] if candidates else None
        parts = ((candidate or {}).get("content") or {}).get("parts") or []
        finals = [p for p in parts if _inline(p) and not p.get("thought")]
        drafts = tuple(_draft(_inline_bytes(p)) for p in parts if _inline(p) and p.get("thought"))
        text = "".join(p["text"] for p in parts if p.get("text") and not p.get("thought"))
        thought_text = "".join(p["text"] for p in parts if p.get("text") and p.get("thought"))
        block_reason = (raw.get("promptFeedback") or {}).get("blockReason")
        finish = (candidate or {}).get("finishReason")
        finish_message = (candidate or {}).get("finishMessage")
        failure = classify_answer(has_candidates=candidate is not None, block_reason=block_reason,
                                  finish_reason=finish, finish_message=finish_message, has_image=bool(finals),
                                  text=text)
        model_version = str(raw.get("modelVersion") or "")
        image = None
        if finals:
            recipe = {**request.recipe(), "seed": seed, "index": index,
                      "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                      "model_version": model_version, "studio": "Nano Banana Pro studio"}
            image = images.encode_output(_inline_bytes(finals[0]), request.output_format, request.jpeg_quality, recipe)
            image = replace(image, declared_mime_type=str(_inline(finals[0]).get("mimeType")
                                                          or _inline(finals[0]).get("mime_type") or ""))
        usage = raw.get("usageMetadata") or {}
        return ImageResult(
            index=index, image=image, failure=failure, drafts=drafts, text=text, thought_text=thought_text,
            finish_reason=finish, finish_message=finish_message, block_reason=block_reason,
            usage=Usage(prompt_tokens=int(usage.get("promptTokenCount") or 0),
                        output_tokens=int(usage.get("candidatesTokenCount") or 0),
                        thoughts_tokens=int(usage.get("thoughtsTokenCount") or 0),
                        total_tokens=int(usage.get("totalTokenCount") or 0)),
            model_version=model_version, response_id=str(raw.get("responseId") or ""),
            latency_s=latency_s, attempts=attempts, request_json=sent,
            response_json=redact_json(raw, self.secrets))

    # ---- sync API for Streamlit -------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="studio-engine", daemon=True).start()
                self._loop = loop
            return self._loop

    def run(self, request: GenerationRequest, on_result: OnResult | None = None,
            on_retry: OnRetry | None = None) -> list[ImageResult]:
        """Run a batch; callbacks fire on the calling thread as each image finishes. Results in index order."""
        events: queue.Queue = queue.Queue()

        async def pump() -> None:
            try:
                async for result in self.stream(request, lambda i, f, d: events.put(("retry", (i, f, d)))):
                    events.put(("result", result))
            except BaseException as exc:
                events.put(("error", exc))
            finally:
                events.put(("done", None))

        future = asyncio.run_coroutine_threadsafe(pump(), self._ensure_loop())
        results: list[ImageResult] = []
        while True:
            kind, payload = events.get()
            if kind == "result":
                results.append(payload)
                if on_result:
                    on_result(payload)
            elif kind == "retry" and on_retry:
                on_retry(*payload)
            elif kind == "error":
                future.cancel()
                raise payload
            elif kind == "done":
                break
        return sorted(results, key=lambda r: r.index)

    def close(self) -> None:
        if self._loop and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)


def _inline(part: dict) -> dict:
    return part.get("inlineData") or part.get("inline_data") or {}


def _inline_bytes(part: dict) -> bytes:
    return base64.b64decode(_inline(part).get("data") or "")


def _draft(data: bytes) -> GeneratedImage:
    """An interim thought image, kept as-is for the detail view (never a result)."""
    info = images.inspect(data, "draft")
    return GeneratedImage(data=data, mime_type=images.MIME.get(info.format, "image/png"), width=info.width,
                          height=info.height, declared_mime_type="")
