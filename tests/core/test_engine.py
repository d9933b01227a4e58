"""The engine through the real SDK against the emulator on loopback: images, failures, retries, streaming."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import replace

import httpx
import pytest
from google import genai
from google.genai import types

from studio import images
from studio.catalogue import ALL_RATIOS, FLASH, PRO, Catalogue
from studio.credentials import Connection, make_client
from studio.engine import Engine, _Attempt, backoff_delay, build_config, build_contents, request_json
from studio.request import GenerationRequest, ReferenceImage, ValidationError
from studio.results import Failure, FailureKind

PRO_ID = PRO.model_id


def _req(prompt: str = "a red kite over a beach", **kwargs: object) -> GenerationRequest:
    kwargs.setdefault("model_id", PRO_ID)
    return GenerationRequest(prompt=prompt, **kwargs)  # type: ignore[arg-type]


def _one(engine: Engine, request: GenerationRequest, **kwargs: object):
    results = engine.run(request, **kwargs)  # type: ignore[arg-type]
    assert len(results) == request.count
    return results[0]


class _Gate:
    """Holds back the request for one seed until the test opens the gate, so order never rests on timing.

    ``released`` is True once the held request was let through by ``opened``, False when it waited
    ``timeout_s`` in vain (results that only come out together never open it), None while it waits.
    """

    def __init__(self, hold_seed: int, timeout_s: float = 30.0) -> None:
        self.hold_seed = hold_seed
        self.timeout_s = timeout_s
        self.opened = threading.Event()
        self.released: bool | None = None

    async def hook(self, request: httpx.Request) -> None:
        if not request.url.path.endswith("enerateContent"):
            return
        if json.loads(request.content).get("generationConfig", {}).get("seed") == self.hold_seed:
            self.released = await asyncio.to_thread(self.opened.wait, self.timeout_s)

    def engine(self, server) -> Engine:
        """An engine whose async requests pass through this gate (the SDK sends batches on the async client)."""
        client = genai.Client(api_key="test-key", http_options=types.HttpOptions(
            base_url=server.base_url, api_version="v1beta", retry_options=types.HttpRetryOptions(attempts=1),
            httpx_async_client=httpx.AsyncClient(event_hooks={"request": [self.hook]})))
        return Engine(client, max_attempts=1)


def _png(width: int = 8, height: int = 8) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(out, "PNG")
    return out.getvalue()


# ---- what is sent -------------------------------------------------------------------------------

def test_config_follows_the_model() -> None:
    pro = build_config(_req(image_size="2K", include_thoughts=True, temperature=0.4, system_instruction="be bold"),
                       PRO, seed=7, vertex=False)
    assert pro.response_modalities == ["TEXT", "IMAGE"]
    assert pro.image_config.aspect_ratio == "1:1" and pro.image_config.image_size == "2K"
    assert pro.image_config.image_output_options is None, "the Gemini API takes no output format"
    assert pro.thinking_config.include_thoughts is True
    assert (pro.seed, pro.temperature, pro.system_instruction) == (7, 0.4, "be bold")
    flash = build_config(_req(model_id=FLASH.model_id, include_thoughts=True), FLASH, seed=None, vertex=False)
    assert flash.image_config.image_size is None, "Nano Banana ignores the size: do not send it"
    assert flash.thinking_config is None and flash.seed is None and flash.temperature is None
    vertex = build_config(_req(output_format="JPEG", jpeg_quality=70), PRO, seed=None, vertex=True)
    assert vertex.image_config.image_output_options.mime_type == "image/jpeg"
    assert vertex.image_config.image_output_options.compression_quality == 70


def test_references_follow_the_prompt_in_order_and_json_is_wire_shaped() -> None:
    refs = tuple(ReferenceImage(name=f"r{i}", data=_png(8 + i), mime_type="image/png") for i in range(3))
    request = _req(references=refs, system_instruction="house style", seed=3)
    contents = build_contents(request)
    assert contents[0] == request.prompt
    assert [p.inline_data.data for p in contents[1:]] == [r.data for r in refs]
    sent = request_json(request, build_config(request, PRO, 3, False), PRO_ID, secrets=())
    parts = sent["contents"][0]["parts"]
    assert parts[0] == {"text": request.prompt}
    assert [p["inlineData"]["data"] for p in parts[1:]] == [f"<{len(r.data)} bytes elided>" for r in refs]
    assert sent["systemInstruction"] == {"parts": [{"text": "house style"}]}
    config = sent["generationConfig"]
    assert config["responseModalities"] == ["TEXT", "IMAGE"]
    assert config["imageConfig"] == {"aspectRatio": "1:1", "imageSize": "1K"} and config["seed"] == 3
    assert "shouldReturnHttpResponse" not in config


# ---- images -------------------------------------------------------------------------------------

def test_one_png_image_with_everything_the_answer_says(emulator, engine_for) -> None:
    result = _one(engine_for(emulator), _req(seed=41, image_size="1K", aspect_ratio="16:9"))
    assert result.ok and result.status == "ok" and result.attempts == 1
    assert result.image.data.startswith(b"\x89PNG") and result.image.mime_type == "image/png"
    assert (result.image.width, result.image.height) == PRO.pixel_size("16:9", "1K")
    recipe = images.read_recipe(result.image.data)
    assert recipe["prompt"] == "a red kite over a beach" and recipe["seed"] == 41 and recipe["index"] == 0
    assert recipe["created_at"] and recipe["aspect_ratio"] == "16:9"
    assert result.finish_reason == "STOP" and result.model_version and result.response_id
    assert result.usage.total_tokens == (result.usage.prompt_tokens + result.usage.output_tokens
                                         + result.usage.thoughts_tokens) > 0
    assert result.latency_s > 0 and result.drafts == ()
    raw = json.dumps(result.response_json)
    assert "bytes elided>" in raw and len(raw) < 20_000, "image data is elided"
    assert result.request_json["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"


def test_jpeg_output_with_recipe(emulator, engine_for) -> None:
    result = _one(engine_for(emulator), _req(output_format="JPEG", jpeg_quality=80, seed=5))
    assert result.ok and result.image.data.startswith(b"\xff\xd8") and result.image.mime_type == "image/jpeg"
    assert images.read_recipe(result.image.data)["output_format"] == "JPEG"


@pytest.mark.parametrize(("fmt", "magic"), [("PNG", b"\x89PNG"), ("JPEG", b"\xff\xd8")])
def test_wrong_declared_mime_type_is_seen_through(emulator, engine_for, fmt: str, magic: bytes) -> None:
    result = _one(engine_for(emulator), _req(f"mislabelled {fmt} [[fault:wrong_mime]]", output_format=fmt))
    assert result.ok
    assert result.image.declared_mime_type == "image/png", "the API said PNG (for JPEG bytes)"
    assert result.image.data.startswith(magic) and images.detect_format(result.image.data) == fmt


def test_thought_drafts_are_kept_apart_from_the_result(emulator, engine_for) -> None:
    result = _one(engine_for(emulator), _req("think first", include_thoughts=True))
    assert result.ok and result.drafts, "the emulator sends draft images when thoughts are asked for"
    assert all(d.data != result.image.data for d in result.drafts)
    assert all(d.width > 0 for d in result.drafts)
    assert result.thought_text and result.usage.thoughts_tokens > 0
    parts = result.response_json["candidates"][0]["content"]["parts"]
    assert any(p.get("thought") for p in parts)


# ---- failures -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fault", "kind"), [
    ("quota_zero", FailureKind.QUOTA),
    ("overloaded", FailureKind.OVERLOADED),
    ("server_error", FailureKind.SERVER_ERROR),
    ("drop_stream", FailureKind.NETWORK),
    ("prompt_blocked", FailureKind.PROMPT_BLOCKED),
    ("image_safety", FailureKind.OUTPUT_BLOCKED),
    ("text_only", FailureKind.NO_IMAGE),
    ("no_image", FailureKind.NO_IMAGE),
    ("malformed", FailureKind.MALFORMED),
])
def test_every_fault_becomes_its_failure_class(emulator, engine_for, fault: str, kind: FailureKind) -> None:
    result = _one(engine_for(emulator, max_attempts=1), _req(f"fault {fault} [[fault:{fault}]]"))
    assert result.failure is not None and result.failure.kind is kind, result.failure
    assert result.image is None and result.failure.message and result.failure.detail
    assert result.request_json["contents"], "the request is kept for history"
    if fault == "prompt_blocked":
        assert result.block_reason and result.failure.block_reason == result.block_reason
        assert result.status == "blocked"
    if fault == "image_safety":
        assert result.finish_reason == "IMAGE_SAFETY" and result.finish_message
        assert result.failure.detail == result.finish_message, "Google's finishMessage is kept"
    if fault == "text_only":
        assert result.text and result.text[:20] in result.failure.message
    if fault == "quota_zero":
        assert "billing" in result.failure.message and result.response_json["error"]["code"] == 429


def test_quota_limit_zero_is_not_retried(emulator, engine_for) -> None:
    retries: list = []
    result = _one(engine_for(emulator), _req("none left [[fault:quota_zero]]"), on_retry=lambda *a: retries.append(a))
    assert result.failure.kind is FailureKind.QUOTA and result.attempts == 1 and retries == []


def test_unknown_model_is_not_found(emulator, engine_for) -> None:
    result = _one(engine_for(emulator), _req(model_id="gemini-9-ultra-image"))
    assert result.failure.kind is FailureKind.NOT_FOUND and result.attempts == 1


def test_other_400_is_an_invalid_request_with_googles_words(emulator) -> None:
    lenient = Catalogue((replace(PRO, ratios=ALL_RATIOS),))  # lets 1:8 past our own checks
    conn = Connection(mode="api_key", api_key="test-key", base_url=emulator.base_url)
    result = _one(Engine(make_client(conn), lenient), _req(aspect_ratio="1:8"))
    assert result.failure.kind is FailureKind.INVALID_REQUEST and result.failure.http_status == 400
    assert "aspect ratio" in result.failure.message and result.attempts == 1


def test_invalid_key_expired_token_and_narrow_scope(fresh_emulator) -> None:
    server = fresh_emulator()
    httpx.post(f"{server.base_url}/_emulator/tokens",
               json={"add": ["narrow-token"], "scopes": {"narrow-token": ["openid", "email"]}})
    cases = [(Connection(mode="api_key", api_key="AIzaNOPENOPENOPENOPENOPENOPE12", base_url=server.base_url),
              FailureKind.INVALID_API_KEY),
             (Connection(mode="oauth", access_token="expired-token", base_url=server.base_url),
              FailureKind.TOKEN_EXPIRED),
             (Connection(mode="oauth", access_token="narrow-token", base_url=server.base_url),
              FailureKind.INSUFFICIENT_SCOPE)]
    for conn, kind in cases:
        result = _one(Engine(make_client(conn), secrets=conn.secrets()), _req())
        assert result.failure.kind is kind and result.attempts == 1
        blob = repr(result) + result.failure.message + result.failure.detail + json.dumps(result.response_json)
        assert all(secret not in blob for secret in conn.secrets())


def test_no_credentials_is_a_permission_failure(emulator) -> None:
    async def strip_key(request: httpx.Request) -> None:
        request.headers.pop("x-goog-api-key", None)

    def strip_key_sync(request: httpx.Request) -> None:
        request.headers.pop("x-goog-api-key", None)

    client = genai.Client(api_key="unused", http_options=types.HttpOptions(
        base_url=emulator.base_url, api_version="v1beta",
        httpx_client=httpx.Client(event_hooks={"request": [strip_key_sync]}),
        httpx_async_client=httpx.AsyncClient(event_hooks={"request": [strip_key]})))
    result = _one(Engine(client), _req())
    assert result.failure.kind is FailureKind.PERMISSION and result.failure.http_status == 403


def test_hang_times_out_and_is_retried_once(fresh_emulator, engine_for) -> None:
    server = fresh_emulator()
    retries: list[tuple[int, Failure, float]] = []
    result = _one(engine_for(server, timeout_s=0.4), _req("stuck [[fault:hang]]"),
                  on_retry=lambda i, f, d: retries.append((i, f, d)))
    assert result.failure.kind is FailureKind.TIMEOUT and result.attempts == 2
    assert [f.kind for _, f, _ in retries] == [FailureKind.TIMEOUT]


def test_nobody_listening_is_a_network_failure(fresh_emulator, engine_for) -> None:
    server = fresh_emulator()
    engine = engine_for(server, max_attempts=2)
    server.stop()
    result = _one(engine, _req())
    assert result.failure.kind is FailureKind.NETWORK and result.attempts == 2


def test_validation_happens_before_sending(emulator, engine_for) -> None:
    with pytest.raises(ValidationError):
        engine_for(emulator).run(_req("", count=2))


# ---- retries ------------------------------------------------------------------------------------

def test_quota_retry_honours_retry_info(emulator, engine_for) -> None:
    notices: list[tuple[int, Failure, float]] = []
    started = time.perf_counter()
    result = _one(engine_for(emulator), _req(f"busy {time.time()} [[fault:quota*1]]"),
                  on_retry=lambda i, f, d: notices.append((i, f, d)))
    assert result.ok and result.attempts == 2
    assert time.perf_counter() - started >= 1.0
    (index, failure, delay), = notices
    assert index == 0 and failure.kind is FailureKind.QUOTA and failure.retry_after_s == 1.0 and delay >= 1.0


@pytest.mark.parametrize("fault", ["overloaded", "server_error", "drop_stream"])
def test_transient_failures_retry_then_succeed(emulator, engine_for, fault: str) -> None:
    seen: list[FailureKind] = []
    result = _one(engine_for(emulator), _req(f"flaky {time.time()} [[fault:{fault}*2]]"),
                  on_retry=lambda i, f, d: seen.append(f.kind))
    assert result.ok and result.attempts == 3 and len(seen) == 2


def test_backoff_is_exponential_jittered_and_capped() -> None:
    plain = Failure(FailureKind.OVERLOADED, "busy")
    delays = [backoff_delay(n, plain, base_s=1.0, cap_s=60) for n in (1, 2, 3, 4)]
    assert 1 <= delays[0] < 1.5 and 2 <= delays[1] < 2.5 and 4 <= delays[2] < 4.5 and 8 <= delays[3] < 8.5
    assert backoff_delay(20, plain, base_s=1.0, cap_s=60) < 60.5
    told = replace(plain, kind=FailureKind.QUOTA, retry_after_s=17.0)
    assert 17 <= backoff_delay(1, told) < 17.3
    assert backoff_delay(1, replace(told, retry_after_s=500.0), cap_s=30) < 30.3


def test_long_server_waits_and_spent_budgets_are_not_retried(emulator) -> None:
    engine = Engine(genai.Client(api_key="x", http_options={"base_url": emulator.base_url}), max_attempts=3)
    state = _Attempt(index=0, seed=None, sent={}, started=time.perf_counter(), attempts=1)
    quota = Failure(FailureKind.QUOTA, "quota", retry_after_s=3600.0)
    assert engine.retry_delay(state, quota) is None
    assert engine.retry_delay(state, replace(quota, retry_after_s=2.0)) is not None
    assert engine.retry_delay(state, Failure(FailureKind.INVALID_REQUEST, "bad", http_status=400)) is None
    assert engine.retry_delay(state, Failure(FailureKind.INVALID_REQUEST, "slow", http_status=408)) is not None
    state.attempts = 3
    assert engine.retry_delay(state, Failure(FailureKind.SERVER_ERROR, "broken")) is None
    assert engine.retry_delay(state, Failure(FailureKind.OVERLOADED, "busy")) is not None, "a longer budget for 503"
    state.attempts = engine.max_overload_attempts
    assert engine.retry_delay(state, Failure(FailureKind.OVERLOADED, "busy")) is None


# ---- batches and streaming ----------------------------------------------------------------------

def test_batch_of_four_where_two_fail_keeps_two(emulator, engine_for) -> None:
    results = engine_for(emulator).run(_req(f"half blocked {time.time()} [[fault:image_safety*2]]", count=4))
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert sum(r.ok for r in results) == 2 and sum(r.status == "blocked" for r in results) == 2
    assert len({r.image.data for r in results if r.ok}) == 2


def test_stream_yields_in_completion_order(emulator) -> None:
    gate = _Gate(hold_seed=100)
    engine = gate.engine(emulator)
    request = _req(f"image 0 held back {time.time()}", count=3, seed=100)

    async def collect() -> list[tuple[int, bool]]:
        seen: list[tuple[int, bool]] = []
        async for result in engine.stream(request):
            seen.append((result.index, gate.opened.is_set()))
            if len(seen) == 2:
                gate.opened.set()  # image 0 may finish only now
        return seen

    seen = asyncio.run(collect())
    assert gate.released is True, "the two free images were yielded while image 0 was still held"
    assert seen[2] == (0, True) and sorted(index for index, _ in seen[:2]) == [1, 2]
    assert [opened for _, opened in seen[:2]] == [False, False]


def test_run_calls_back_on_the_calling_thread_as_each_lands(emulator) -> None:
    gate = _Gate(hold_seed=100)
    engine = gate.engine(emulator)
    landed: list[tuple[int, bool, str]] = []
    returned: list[list[int]] = []
    raised: list[BaseException] = []

    def on_result(result) -> None:
        landed.append((result.index, gate.opened.is_set(), threading.current_thread().name))
        if len(landed) == 2:
            gate.opened.set()  # image 0 may finish only now

    def work() -> None:  # collects only: an assert here would die with the thread, unseen by pytest
        try:
            results = engine.run(_req(f"image 0 held back {time.time()}", count=3, seed=100), on_result=on_result)
            returned.append([r.index for r in results])
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=work, name="script-thread")  # like Streamlit's script thread
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "run() returned"
    assert raised == []
    assert returned == [[0, 1, 2]], "run() returns the results in index order, whatever order they landed in"
    assert [name for _, _, name in landed] == ["script-thread"] * 3
    assert gate.released is True, "each result was called back as it landed, not all at the end"
    assert [(index, opened) for index, opened, _ in landed][2] == (0, True)
    assert _one(engine, _req("the same engine again, from another thread")).ok


def test_a_callback_that_raises_stops_the_batch_and_the_engine_survives(emulator, engine_for) -> None:
    engine = engine_for(emulator)

    class Stop(BaseException):  # like Streamlit's StopException
        pass

    def stop(_result) -> None:
        raise Stop

    with pytest.raises(Stop):
        engine.run(_req(f"stop me {time.time()} [[fault:slow*1=2.0]]", count=2), on_result=stop)
    assert _one(engine, _req("still works")).ok


def test_run_refuses_a_running_loop(emulator, engine_for) -> None:
    engine = engine_for(emulator)

    async def inside() -> None:
        engine.run(_req())

    with pytest.raises(RuntimeError, match="stream"):
        asyncio.run(inside())


# ---- OAuth and secrets --------------------------------------------------------------------------

def test_oauth_bearer_generation_twice_on_one_engine(emulator) -> None:
    # A key sent alongside the token would be answered 400 by the emulator, so success proves it was dropped.
    conn = Connection(mode="oauth", access_token="test-token", base_url=emulator.base_url)
    engine = Engine(make_client(conn), secrets=conn.secrets())
    first = engine.run(_req("bearer one", count=2))
    second = engine.run(_req("bearer two"))  # the injected pool is reused on the engine's loop
    assert all(r.ok for r in first + second), [r.failure for r in first + second]
    engine.close()


def test_secrets_never_reach_results(fresh_emulator) -> None:
    secret = "ya29.core-SECRET-token-0123456789"
    server = fresh_emulator()
    httpx.post(f"{server.base_url}/_emulator/tokens", json={"add": [secret]})
    conn = Connection(mode="oauth", access_token=secret, base_url=server.base_url)
    engine = Engine(make_client(conn), secrets=conn.secrets(), max_attempts=1)
    prompts = [f"a poster reading {secret}", f"text [[fault:text_only]] {secret}",
               f"oops [[fault:server_error]] {secret}"]
    for prompt in prompts:
        result = _one(engine, _req(prompt))
        blob = json.dumps([result.request_json, result.response_json]) + repr(result) + result.text
        if result.failure:
            blob += result.failure.message + result.failure.detail
        assert secret not in blob, prompt
    assert secret not in repr(conn) + str(conn)
