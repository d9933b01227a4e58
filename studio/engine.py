"""The generation engine: one request per image, all in flight at once, each reported as it lands.

Image models reject candidateCount > 1, so a batch of N is N concurrent calls on ``client.aio``.
``run`` drives the engine's own event loop on the calling thread (Streamlit's script thread), so
callbacks run there and may touch ``st`` elements; the loop is kept between runs because the SDK's
(and the OAuth mode's injected) connection pools are bound to the loop that opened them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from google import genai
from google.genai import types

from studio import images, turns
from studio.catalogue import DEFAULT_CATALOGUE, Catalogue, ModelSpec
from studio.failures import classify_answer, classify_exception, error_json
from studio.redact import redact_json, redact_text
from studio.request import GenerationRequest, validate
from studio.results import PLAIN_MESSAGES, Failure, FailureKind, GeneratedImage, ImageResult, Usage

DEFAULT_TIMEOUT_S = 300.0
FLEX_TIMEOUT_S = 900.0  # the flex tier is "minutes, not seconds": one request may wait this long
MAX_RETRY_DELAY_S = 60.0  # a server asking for a longer wait (daily quota) is not retried
RETRY_KINDS = frozenset({FailureKind.QUOTA, FailureKind.OVERLOADED, FailureKind.SERVER_ERROR,
                         FailureKind.NETWORK, FailureKind.TIMEOUT})
STUDIO_NAME = "Nano Banana Pro studio"
CAPACITY_REASON = "MODEL_CAPACITY_EXHAUSTED"
OnResult = Callable[[ImageResult], None]
OnRetry = Callable[[int, Failure, float], None]


@dataclass(frozen=True)
class ImageEvent:
    """Something that happened to one image before its result: what a live view shows.

    ``kind`` is ``sending`` (attempt n goes out), ``retrying`` (after ``failure``, in ``delay_s``),
    ``draft`` (an interim thought image arrived), ``thought`` (the thinking text so far) or ``preview``
    (the final image's thumbnail, sent from a worker thread before the image is re-encoded).
    """

    index: int
    kind: str
    attempt: int = 0
    failure: Failure | None = None
    delay_s: float = 0.0
    draft: GeneratedImage | None = field(default=None, repr=False)
    thought_text: str = ""
    preview: bytes = field(default=b"", repr=False)


OnEvent = Callable[[ImageEvent], None]


def backoff_delay(attempt: int, failure: Failure, base_s: float = 1.0, cap_s: float = MAX_RETRY_DELAY_S) -> float:
    """Seconds before the next attempt: the server's RetryInfo wins, else exponential + jitter (capped)."""
    if failure.retry_after_s is not None:
        return min(cap_s, failure.retry_after_s) + random.uniform(0, 0.25)
    return min(cap_s, base_s * 2 ** (attempt - 1)) + random.uniform(0, base_s / 2)


def is_capacity_exhausted(failure: Failure) -> bool:
    """Google's 503 saying the model has no capacity for now (ErrorInfo reason ``MODEL_CAPACITY_EXHAUSTED``):
    retrying for minutes rarely helps, so the studio offers another model at once instead."""
    return CAPACITY_REASON in f"{failure.detail} {failure.message}"  # 503 on the Gemini API; some proxies say 429


def build_config(request: GenerationRequest, spec: ModelSpec, seed: int | None,
                 vertex: bool) -> types.GenerateContentConfig:
    """The google-genai config for one image of the request."""
    image_config: dict = {"aspect_ratio": request.aspect_ratio}
    if not spec.size_is_ignored:
        image_config["image_size"] = request.image_size
    if vertex:  # only Vertex AI lets the server encode PNG/JPEG for us
        image_config["image_output_options"] = types.ImageConfigImageOutputOptions(
            mime_type=f"image/{request.output_format.lower()}",
            compression_quality=request.jpeg_quality if request.output_format == "JPEG" else None)
    config: dict = {"response_modalities": ["TEXT", "IMAGE"], "image_config": types.ImageConfig(**image_config),
                    "should_return_http_response": True}  # the SDK's parsed answer drops finishMessage
    if seed is not None:
        config["seed"] = seed
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.system_instruction:
        config["system_instruction"] = request.system_instruction
    thinking: dict = {}
    if request.include_thoughts and spec.supports_thoughts:
        thinking["include_thoughts"] = True
    if request.thinking_level and request.thinking_level in spec.thinking_levels:
        thinking["thinking_level"] = types.ThinkingLevel(request.thinking_level.upper())
    if thinking:
        config["thinking_config"] = types.ThinkingConfig(**thinking)
    search = _search_tool(request, spec)
    if search is not None:  # Grounding with Google Search; the answer then carries groundingMetadata
        config["tools"] = [types.Tool(google_search=search)]
    if request.lane == "flex" and "flex" in spec.lanes:  # a top-level field on the wire: "serviceTier"
        config["service_tier"] = types.ServiceTier.FLEX
    if not vertex:  # Gemini API only (the SDK refuses it for Vertex AI); a top-level "store" on the wire
        config["store"] = bool(request.store)
    return types.GenerateContentConfig(**config)


def _search_tool(request: GenerationRequest, spec: ModelSpec) -> types.GoogleSearch | None:
    """Web search alone stays ``googleSearch: {}``; image search names both kinds in ``searchTypes``."""
    web = request.grounding
    pictures = request.image_search and "image_search" in spec.grounding
    if not pictures:
        return types.GoogleSearch() if web else None
    return types.GoogleSearch(search_types=types.SearchTypes(web_search=types.WebSearch() if web else None,
                                                             image_search=types.ImageSearch()))


def build_contents(request: GenerationRequest) -> list:
    """The prompt first, the references' roles (when tagged), then the images in the order the person gave them;
    an edit sends the thread's earlier turns before them (``studio/threads.py``)."""
    if request.conversation or request.region is not None:  # a region edit's images follow its instruction
        return turns.sdk_contents(request.conversation, request)
    parts: list = [request.prompt, *_preamble(request)]
    parts += [types.Part.from_bytes(data=ref.data, mime_type=ref.mime_type) for ref in request.references]
    return parts


def _preamble(request: GenerationRequest) -> list[str]:
    """The roles' sentence as its own text part (studio.roles); none when no reference is tagged."""
    text = request.preamble()
    return [text] if text else []


def _camel(value: object) -> object:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.title() for word in rest)


def request_json(request: GenerationRequest, config: types.GenerateContentConfig, model_id: str,
                 secrets: tuple[str, ...] = ()) -> dict:
    """The request in Google's wire shape, for history and JSON views: image bytes elided, no secrets."""
    parts: list[dict] = [{"text": request.prompt}]
    if request.region is not None:  # the region's words, picture and mask, as turns.user_content sends them
        parts += [{"text": request.region.preamble()},
                  *({"inlineData": {"mimeType": m, "data": d}} for m, d in request.region.images())]
    parts += [{"text": text} for text in _preamble(request)]
    parts += [{"inlineData": {"mimeType": r.mime_type, "data": r.data}} for r in request.references]
    generation = config.model_dump(mode="json", exclude_none=True, exclude={"should_return_http_response"})
    body: dict = {"model": model_id, "contents": [*request.conversation, {"role": "user", "parts": parts}]}
    system = generation.pop("system_instruction", None)
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    tools = generation.pop("tools", None)
    if tools:  # a request-level field on the wire, beside generationConfig
        body["tools"] = _camel(tools)
    for field_name, wire in (("service_tier", "serviceTier"), ("store", "store")):  # request-level too
        if field_name in generation:
            body[wire] = generation.pop(field_name)
    body["generationConfig"] = _camel(generation)
    return redact_json(body, secrets)  # type: ignore[return-value]


@dataclass
class _Attempt:
    """Bookkeeping for one image across its attempts."""

    index: int
    seed: int | None
    sent: dict
    started: float
    attempts: int = 0
    timed_out: bool = False

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class Engine:
    """Runs batches on one genai client. Create one per connection and reuse it (it holds the client)."""

    def __init__(self, client: genai.Client, catalogue: Catalogue = DEFAULT_CATALOGUE, *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_attempts: int = 4, retry_base_s: float = 1.0,
                 max_retry_delay_s: float = MAX_RETRY_DELAY_S, secrets: tuple[str, ...] = (),
                 vertex: bool | None = None, max_overload_attempts: int = 6,
                 overload_base_s: float | None = None, flex_timeout_s: float = FLEX_TIMEOUT_S) -> None:
        self.client = client  # a reference for as long as the engine lives: a GC'd client closes its pool mid-call (docs/GEMINI-API.md)
        self.catalogue = catalogue
        self.timeout_s = timeout_s
        self.flex_timeout_s = flex_timeout_s
        self.max_attempts = max(1, max_attempts)
        self.retry_base_s = retry_base_s
        self.max_retry_delay_s = max_retry_delay_s
        # Google's 503 "overloaded" carries no RetryInfo and an episode lasts minutes: a longer, slower budget
        self.max_overload_attempts = max(1, max_overload_attempts)
        self.overload_base_s = overload_base_s if overload_base_s is not None else retry_base_s * 5
        self.secrets = tuple(s for s in secrets if s)
        self.vertex = bool(client.vertexai) if vertex is None else vertex
        self._loop: asyncio.AbstractEventLoop | None = None
        self._run_lock = threading.Lock()

    # ---- async API ------------------------------------------------------------------
    async def stream(self, request: GenerationRequest, on_retry: OnRetry | None = None) -> AsyncGenerator[ImageResult]:
        """Yield each image's result as soon as it finishes (completion order, not index order).

        Raises ``ValidationError`` before sending anything when the request is invalid. A failed image
        is a result with ``failure`` set; it never takes the rest of the batch with it.
        """
        request = validate(request, self.catalogue)
        spec = self.catalogue.resolve(request.model_id)
        tasks = [asyncio.ensure_future(self._one(i, request, spec, on_retry)) for i in range(request.count)]
        try:
            for finished in asyncio.as_completed(tasks):
                yield await finished
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _one(self, index: int, request: GenerationRequest, spec: ModelSpec,
                   on_retry: OnRetry | None) -> ImageResult:
        def on_event(event: ImageEvent) -> None:
            if on_retry and event.kind == "retrying" and event.failure is not None:
                on_retry(event.index, event.failure, event.delay_s)

        return await self.generate_one(request, index, spec=spec, on_event=on_event)

    def streams(self, request: GenerationRequest, spec: ModelSpec) -> bool:
        """Stream when the person watches the thinking: drafts then arrive while the image is made."""
        return bool(request.include_thoughts and spec.supports_thoughts)

    async def generate_one(self, request: GenerationRequest, index: int, *, spec: ModelSpec | None = None,
                           on_event: OnEvent | None = None,
                           before_attempt: Callable[[], Awaitable[None]] | None = None) -> ImageResult:
        """Image ``index`` of an already validated request, with retries; never raises but CancelledError.

        ``on_event`` is called on the event loop's thread for each attempt, retry, draft and thought.
        A request with one prompt per image sends image ``index``'s own prompt.
        """
        request = request.for_image(index)
        spec = spec or self.catalogue.resolve(request.model_id)
        seed = request.seed_for(index)
        config = build_config(request, spec, seed, self.vertex)
        state = _Attempt(index, seed, request_json(request, config, spec.model_id, self.secrets),
                         time.perf_counter())
        timeout_s = self.timeout_s
        if config.service_tier is not None:  # flex answers in minutes, not seconds: wait longer for this one
            timeout_s = max(self.timeout_s, self.flex_timeout_s)
            config = config.model_copy(update={"http_options": types.HttpOptions(timeout=int(timeout_s * 1000))})
        try:
            contents = build_contents(request)
        except turns.TurnError as exc:  # a stored turn that cannot be sent back: nothing is sent
            failure = Failure(FailureKind.INVALID_REQUEST, str(exc), "")
            return ImageResult(index=index, failure=failure, attempts=0, request_json=state.sent)
        streaming = self.streams(request, spec)
        emit = on_event or (lambda event: None)
        while True:
            state.attempts += 1
            if before_attempt is not None:
                await before_attempt()  # e.g. renew a Google token that expires soon, before this attempt
            emit(ImageEvent(index, "sending", attempt=state.attempts))
            try:
                if streaming:
                    raw = await asyncio.wait_for(self._streamed_answer(spec, contents, config, index, emit),
                                                 timeout=timeout_s)
                else:
                    response = await asyncio.wait_for(
                        self.client.aio.models.generate_content(model=spec.model_id, contents=contents,
                                                                config=config),
                        timeout=timeout_s)
                    raw = response  # read in a worker thread below: a 4K answer is megabytes of JSON
            except Exception as exc:  # CancelledError is a BaseException: cancellation passes through
                failure = classify_exception(exc, self.secrets)
                delay = self.retry_delay(state, failure)
                if delay is None:
                    return ImageResult(index=index, failure=failure, attempts=state.attempts,
                                       request_json=state.sent, response_json=error_json(exc, self.secrets),
                                       latency_s=state.elapsed())
                state.timed_out = state.timed_out or failure.kind is FailureKind.TIMEOUT
                emit(ImageEvent(index, "retrying", attempt=state.attempts, failure=failure, delay_s=delay))
                await asyncio.sleep(delay)
                continue
            # decoding and re-encoding a 4K image is CPU work: keep it off the event loop
            return await asyncio.to_thread(self._read_answer, request, state, raw, emit)

    async def _streamed_answer(self, spec: ModelSpec, contents: list, config: types.GenerateContentConfig,
                               index: int, emit: OnEvent) -> object:
        """Read a stream, reporting drafts and thinking as they arrive; returns the chunks merged into one answer."""
        stream_config = config.model_copy(update={"should_return_http_response": None})
        chunks: list[dict] = []
        thoughts = ""
        stream = await self.client.aio.models.generate_content_stream(model=spec.model_id, contents=contents,
                                                                       config=stream_config)
        async for chunk in stream:
            body = chunk.model_dump(mode="json", exclude_none=True, by_alias=True, exclude={"sdk_http_response"})
            chunks.append(body)
            for part in _parts_of(body):
                if part.get("thought") and _inline(part):
                    draft = await asyncio.to_thread(_draft, part)
                    emit(ImageEvent(index, "draft", draft=draft))
                elif part.get("thought") and part.get("text"):
                    thoughts += str(part["text"])
                    emit(ImageEvent(index, "thought", thought_text=redact_text(thoughts, self.secrets)))
        return merge_stream(chunks)

    def retry_delay(self, state: _Attempt, failure: Failure) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help (or the budget is spent)."""
        if is_capacity_exhausted(failure):
            return None
        if failure.kind is FailureKind.OVERLOADED:
            if state.attempts >= self.max_overload_attempts:
                return None
            return backoff_delay(state.attempts, failure, self.overload_base_s, self.max_retry_delay_s)
        if state.attempts >= self.max_attempts:
            return None
        if failure.kind not in RETRY_KINDS and failure.http_status != 408:
            return None
        if failure.kind is FailureKind.TIMEOUT and state.timed_out:
            return None  # one retry after a timeout; each costs up to timeout_s and may be billed
        if failure.retry_after_s is not None and failure.retry_after_s > self.max_retry_delay_s:
            return None  # "come back in an hour": say so now rather than hold the batch
        if "limit: 0" in failure.message or "limit: 0" in failure.detail:
            return None  # no quota at all: waiting will not help
        return backoff_delay(state.attempts, failure, self.retry_base_s, self.max_retry_delay_s)

    def _read_answer(self, request: GenerationRequest, state: _Attempt, raw: object,
                     emit: OnEvent | None = None) -> ImageResult:
        """Google's raw answer as an ImageResult; an answer we cannot read is a MALFORMED result."""
        if isinstance(raw, types.GenerateContentResponse):
            raw = _raw_body(raw)
        try:
            if isinstance(raw, Exception):
                raise raw
            if not isinstance(raw, dict):
                raise ValueError(f"the answer is a JSON {type(raw).__name__}, not an object")
            return self._result(request, state, raw, emit)
        except Exception as exc:
            detail = classify_exception(exc, self.secrets).detail  # redacted "Type: text"
            failure = Failure(FailureKind.MALFORMED, PLAIN_MESSAGES[FailureKind.MALFORMED], detail)
            shown = raw if isinstance(raw, dict) else {}
            return ImageResult(index=state.index, failure=failure, attempts=state.attempts,
                               request_json=state.sent, response_json=_redacted_dict(shown, self.secrets),
                               latency_s=state.elapsed())

    def _result(self, request: GenerationRequest, state: _Attempt, raw: dict,
                emit: OnEvent | None = None) -> ImageResult:
        candidates = raw.get("candidates") or []
        candidate = candidates[0] if candidates and isinstance(candidates[0], dict) else None
        parts = [p for p in ((candidate or {}).get("content") or {}).get("parts") or [] if isinstance(p, dict)]
        finals = [p for p in parts if _inline(p) and not p.get("thought")]
        drafts = tuple(_draft(p) for p in parts if _inline(p) and p.get("thought"))
        # the model may echo the prompt, and a prompt may hold a pasted key: redact what it says too
        texts = [str(p["text"]) for p in parts if p.get("text") and not p.get("thought")]
        if len(finals) > 1:  # Flash may interleave several images: say so rather than drop them silently
            texts.append(f"[The model returned {len(finals)} images in one answer; the studio keeps the first.]")
        text = redact_text("\n\n".join(texts), self.secrets)
        thought_text = redact_text("".join(str(p["text"]) for p in parts if p.get("text") and p.get("thought")),
                                   self.secrets)
        block_reason = (raw.get("promptFeedback") or {}).get("blockReason")
        finish = (candidate or {}).get("finishReason")
        finish_message = (candidate or {}).get("finishMessage")
        finish_message = redact_text(str(finish_message), self.secrets) if finish_message else None
        failure = classify_answer(has_candidates=candidate is not None, block_reason=block_reason,
                                  finish_reason=finish, finish_message=finish_message, has_image=bool(finals),
                                  text=text, secrets=self.secrets)
        model_version = str(raw.get("modelVersion") or "")
        thumbnail = _thumbnail(_inline_bytes(finals[0])) if finals and failure is None else b""
        if thumbnail and emit is not None:
            emit(ImageEvent(state.index, "preview", preview=thumbnail))  # seen before the re-encode below
        image = self._final_image(request, state, finals[0], model_version) if finals else None
        if image is not None and failure is None and not thumbnail:
            thumbnail = images.make_thumbnail(image.data)
        return ImageResult(
            index=state.index, image=image, failure=failure, drafts=drafts, thumbnail=thumbnail, text=text,
            thought_text=thought_text,
            finish_reason=finish, finish_message=finish_message, block_reason=block_reason,
            usage=_usage(raw.get("usageMetadata") or {}), model_version=model_version,
            response_id=str(raw.get("responseId") or ""), latency_s=state.elapsed(), attempts=state.attempts,
            request_json=state.sent, response_json=redact_json(raw, self.secrets),  # type: ignore[arg-type]
            model_parts=tuple(turns.model_turn_parts(parts)) if image is not None else ())

    def _final_image(self, request: GenerationRequest, state: _Attempt, part: dict,
                     model_version: str) -> GeneratedImage:
        """The image in the requested format with its recipe; the real format comes from the bytes.

        Bytes already in that format (Vertex AI encodes what ``imageOutputOptions`` asks) keep their pixels
        as sent: the recipe is spliced in as metadata. Only another format is decoded and re-encoded.
        A region edit's answer is not the version (its composite, always PNG, is): it keeps the model's own
        format, so a 4K answer is not encoded as a PNG only to be decoded again for the composite.
        """
        recipe = {**request.recipe(), "seed": state.seed, "index": state.index,
                  "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "model_version": model_version, "studio": STUDIO_NAME}
        data = _inline_bytes(part)
        fmt, sent = request.output_format, images.detect_format(data)
        if request.region is not None and request.region.composites and sent in ("PNG", "JPEG"):
            fmt = sent
        image = images.encode_output(data, fmt, request.jpeg_quality, recipe)
        return replace(image, declared_mime_type=_declared_mime(part))

    # ---- the batch lane: the same requests and answers, carried by Google's Batch API ----
    def batch_item(self, request: GenerationRequest, index: int) -> tuple[list, types.GenerateContentConfig, dict]:
        """Image ``index`` as a batch item (its own prompt): contents, config, and the request as History shows it."""
        request = request.for_image(index)
        spec = self.catalogue.resolve(request.model_id)
        config = build_config(request, spec, request.seed_for(index), self.vertex)
        # a Batch API item carries neither a service tier nor store: the batch is its own lane
        item_config = config.model_copy(update={"should_return_http_response": None, "service_tier": None,
                                                "store": None})
        return build_contents(request), item_config, request_json(request, item_config, spec.model_id, self.secrets)

    def read_batch_answer(self, request: GenerationRequest, index: int, sent: dict, answer: dict | None,
                          error: dict | None, waited_s: float) -> ImageResult:
        """One batch item's answer (or Google's error for it) as an ImageResult, like an interactive answer."""
        request = request.for_image(index)
        state = _Attempt(index, request.seed_for(index), sent, time.perf_counter() - waited_s, attempts=1)
        if answer is not None:
            return self._read_answer(request, state, answer)
        message = redact_text(str((error or {}).get("message") or "no answer for this image"), self.secrets)
        failure = Failure(FailureKind.SERVER_ERROR, f"Google's batch could not make this image: {message}",
                          f"batch item error {(error or {}).get('code', '')}".strip())
        return ImageResult(index=index, failure=failure, attempts=1, request_json=sent,
                           response_json={"error": redact_json(error or {}, self.secrets)}, latency_s=waited_s)

    # ---- sync API for Streamlit -------------------------------------------------------
    def run(self, request: GenerationRequest, on_result: OnResult | None = None,
            on_retry: OnRetry | None = None) -> list[ImageResult]:
        """Run a batch on the calling thread; callbacks fire there as each image finishes.

        Returns the results in index order. An exception raised by a callback (e.g. Streamlit stopping
        the script) cancels the images still in flight and propagates.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop running on this thread: the normal case
        else:
            raise RuntimeError("Engine.run() was called inside a running event loop; use `async for` on stream().")
        with self._run_lock:  # one batch at a time per engine: the loop cannot run twice
            loop = self._ensure_loop()
            return loop.run_until_complete(self._collect(request, on_result, on_retry))

    async def _collect(self, request: GenerationRequest, on_result: OnResult | None,
                       on_retry: OnRetry | None) -> list[ImageResult]:
        results: list[ImageResult] = []
        async with contextlib.aclosing(self.stream(request, on_retry)) as stream:
            async for result in stream:
                results.append(result)
                if on_result:
                    on_result(result)
        return sorted(results, key=lambda r: r.index)

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop

    async def aclose(self) -> None:
        """Release the client's connections from inside the loop that used them (the job runner's)."""
        with contextlib.suppress(Exception):
            await self.client.aio.aclose()
        with contextlib.suppress(Exception):
            self.client.close()

    def close(self) -> None:
        """Release the loop and the client's connections (the engine is unusable afterwards)."""
        with self._run_lock:
            loop, self._loop = self._loop, None
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(Exception):
                    loop.run_until_complete(self.client.aio.aclose())
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        with contextlib.suppress(Exception):
            self.client.close()


def _redacted_dict(value: dict, secrets: tuple[str, ...]) -> dict:
    redacted = redact_json(value, secrets)
    return redacted if isinstance(redacted, dict) else {}


def _thumbnail(data: bytes) -> bytes:
    """A thumbnail straight from the API's bytes; empty when they cannot be read (the re-encode says why)."""
    try:
        return images.make_thumbnail(data)
    except Exception:
        return b""


def _raw_body(response: types.GenerateContentResponse) -> object:
    """The answer's JSON as Google sent it (the SDK's parsed form drops fields), or the parse error."""
    try:
        body = response.sdk_http_response.body if response.sdk_http_response else None
        return json.loads(body or "")
    except Exception as exc:
        return exc


def _parts_of(body: dict) -> list[dict]:
    candidates = body.get("candidates") or []
    first = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
    parts = (first.get("content") or {}).get("parts") or []
    return [p for p in parts if isinstance(p, dict)]


def merge_stream(chunks: list[dict]) -> dict:
    """One answer from a stream's chunks: parts in order, the last finish reason, usage and ids that came.

    Live streams put the image in a chunk without ``finishReason`` and ``STOP`` on a later chunk
    (often with an empty text part), and repeat ``usageMetadata`` on every chunk.
    """
    merged: dict = {}
    parts: list[dict] = []  # consecutive text fragments of one kind are joined back into one part
    candidate: dict = {}
    for chunk in chunks:
        for key in ("usageMetadata", "modelVersion", "responseId", "promptFeedback"):
            if chunk.get(key):
                merged[key] = chunk[key]
        candidates = chunk.get("candidates") or []
        if not candidates or not isinstance(candidates[0], dict):
            continue
        first = candidates[0]
        for part in _parts_of(chunk):
            last = parts[-1] if parts else None
            if (last is not None and set(part) <= {"text", "thought"} and set(last) <= {"text", "thought"}
                    and "text" in part and "text" in last and bool(part.get("thought")) == bool(last.get("thought"))):
                parts[-1] = {**last, "text": str(last["text"]) + str(part["text"])}
            else:
                parts.append(part)
        for key, value in first.items():
            if key != "content" and value is not None:
                candidate[key] = value
    if candidate or parts:
        candidate["content"] = {"role": "model", "parts": [p for p in parts if p.get("text") != "" or len(p) > 1]}
        merged["candidates"] = [candidate]
    return merged


def _inline(part: dict) -> dict:
    inline = part.get("inlineData") or part.get("inline_data") or {}
    return inline if isinstance(inline, dict) else {}


def _declared_mime(part: dict) -> str:
    inline = _inline(part)
    return str(inline.get("mimeType") or inline.get("mime_type") or "")


def _inline_bytes(part: dict) -> bytes:
    data = _inline(part).get("data") or ""
    return base64.b64decode(data + "=" * (-len(data) % 4), altchars=b"-_" if ("-" in data or "_" in data) else None)


def _usage(meta: dict) -> Usage:
    def count(key: str) -> int:
        try:
            return int(meta.get(key) or 0)
        except (TypeError, ValueError):
            return 0

    return Usage(prompt_tokens=count("promptTokenCount"), output_tokens=count("candidatesTokenCount"),
                 thoughts_tokens=count("thoughtsTokenCount"), total_tokens=count("totalTokenCount"),
                 tool_tokens=count("toolUsePromptTokenCount"))


def _draft(part: dict) -> GeneratedImage:
    """An interim thought image, kept as-is for the detail view (never a result); a broken one stays empty."""
    data = _inline_bytes(part)
    declared = _declared_mime(part)
    try:
        info = images.inspect(data, "draft")
        return GeneratedImage(data=data, mime_type=images.MIME.get(info.format, declared or "image/png"),
                              width=info.width, height=info.height, declared_mime_type=declared)
    except Exception:  # a bad draft must not cost the final image
        fmt = images.detect_format(data) or ""
        return GeneratedImage(data=data, mime_type=images.MIME.get(fmt, declared), width=0, height=0,
                              declared_mime_type=declared)
