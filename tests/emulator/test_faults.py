"""Scripted faults: prompt markers, counted markers, the admin queue, latency; as the SDK sees them."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from google.genai import errors, types

from .conftest import NETWORK_ERRORS, PRO, TIMEOUTS, body, image_config, image_parts, post, sdk_client


def _generate(client, prompt: str, **kwargs):
    return client.models.generate_content(model=PRO, contents=prompt, config=image_config("1:1", "1K", **kwargs))


@pytest.mark.parametrize(("fault", "code", "status", "cls", "needle"), [
    ("quota", 429, "RESOURCE_EXHAUSTED", errors.ClientError, "limit: 10"),
    ("quota_zero", 429, "RESOURCE_EXHAUSTED", errors.ClientError, "limit: 0"),
    ("overloaded", 503, "UNAVAILABLE", errors.ServerError, "The model is overloaded. Please try again later."),
    ("server_error", 500, "INTERNAL", errors.ServerError, "internal error"),
])
def test_http_faults(emulator, sdk, fault: str, code: int, status: str, cls: type, needle: str) -> None:
    with pytest.raises(cls) as caught:
        _generate(sdk, f"fail [[fault:{fault}]]")
    assert (caught.value.code, caught.value.status) == (code, status) and needle in caught.value.message
    with pytest.raises(cls):  # streaming fails the same way, before any event
        list(sdk.models.generate_content_stream(model=PRO, contents=f"fail [[fault:{fault}]]",
                                                config=image_config("1:1", "1K")))
    if fault.startswith("quota"):
        details = post(emulator, body(f"fail [[fault:{fault}]]")).json()["error"]["details"]
        types_ = {d["@type"].rsplit(".", 1)[-1]: d for d in details}
        assert types_["RetryInfo"]["retryDelay"] == "1s" and types_["QuotaFailure"]["violations"]


def test_counted_marker_fails_the_first_n_then_succeeds(quiet_emulator) -> None:
    client = sdk_client(quiet_emulator)
    for _ in range(2):
        with pytest.raises(errors.ServerError):
            _generate(client, "flaky [[fault:overloaded*2]]")
    assert image_parts(_generate(client, "flaky [[fault:overloaded*2]]").model_dump(by_alias=True))
    with pytest.raises(errors.ServerError):  # a different prompt has its own count
        _generate(client, "other [[fault:overloaded*2]]")


def test_admin_queue_fails_the_next_n_requests_of_any_prompt(quiet_emulator) -> None:
    client = sdk_client(quiet_emulator)
    answer = httpx.post(f"{quiet_emulator.base_url}/_emulator/faults", json={"fault": "quota", "count": 2})
    assert answer.status_code == 200 and answer.json()["queued_faults"] == 2
    for prompt in ("one", "two"):
        with pytest.raises(errors.ClientError):
            _generate(client, prompt)
    assert _generate(client, "three").candidates
    bad = httpx.post(f"{quiet_emulator.base_url}/_emulator/faults", json={"fault": "nonsense"})
    assert bad.status_code == 400


def test_prompt_blocked(sdk) -> None:
    response = _generate(sdk, "blocked [[fault:prompt_blocked]]")
    assert not response.candidates
    assert response.prompt_feedback.block_reason == types.BlockedReason.SAFETY


@pytest.mark.parametrize(("fault", "reason"), [("image_safety", "IMAGE_SAFETY"), ("no_image", "NO_IMAGE")])
def test_finish_without_parts(emulator, sdk, fault: str, reason: str) -> None:
    response = _generate(sdk, f"odd [[fault:{fault}]]")
    candidate = response.candidates[0]
    assert candidate.finish_reason.value == reason and candidate.content.parts is None
    # google-genai 3.4 drops finishMessage from the parsed Candidate: check it on the wire
    raw = post(emulator, body(f"odd [[fault:{fault}]]")).json()
    assert "parts" not in raw["candidates"][0]["content"] and raw["candidates"][0]["finishMessage"]
    assert "candidatesTokenCount" not in raw["usageMetadata"]  # blocked images are not billed


def test_text_only(sdk) -> None:
    response = _generate(sdk, "words [[fault:text_only]]")
    parts = response.candidates[0].content.parts
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert [bool(p.text) for p in parts] == [True] and not any(p.inline_data for p in parts)


def test_malformed_json(emulator, sdk) -> None:
    answer = post(emulator, body("broken [[fault:malformed]]"))
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    with pytest.raises(Exception):  # noqa: B017 - the SDK raises its own parse error types
        _generate(sdk, "broken [[fault:malformed]]")
    with pytest.raises(errors.UnknownApiResponseError):
        list(sdk.models.generate_content_stream(model=PRO, contents="broken [[fault:malformed]]",
                                                config=image_config("1:1", "1K")))


def test_drop_stream(emulator, sdk) -> None:
    seen = []
    with pytest.raises(NETWORK_ERRORS):  # RemoteProtocolError: the connection closed mid-body
        for chunk in sdk.models.generate_content_stream(model=PRO, contents="cut [[fault:drop_stream]]",
                                                        config=image_config("1:1", "1K")):
            seen.append(chunk)
    assert len(seen) == 1 and seen[0].candidates[0].content.parts[0].text
    with pytest.raises(NETWORK_ERRORS):
        _generate(sdk, "cut [[fault:drop_stream]]")
    with pytest.raises(httpx.RemoteProtocolError):  # raw: Content-Length promised more than was sent
        post(emulator, body("cut [[fault:drop_stream]]"))


def test_wrong_mime_declares_png_for_jpeg_bytes(sdk) -> None:
    part = next(p for p in _generate(sdk, "mislabel [[fault:wrong_mime]]").candidates[0].content.parts if p.inline_data)
    assert part.inline_data.mime_type == "image/png" and part.inline_data.data.startswith(b"\xff\xd8")
    honest = next(p for p in _generate(sdk, "honest").candidates[0].content.parts if p.inline_data)
    assert honest.inline_data.mime_type == "image/jpeg" and honest.inline_data.data.startswith(b"\xff\xd8")


def test_wrong_mime_rate_from_config(fresh_emulator) -> None:
    client = sdk_client(fresh_emulator(wrong_mime_rate=1.0))
    part = next(p for p in _generate(client, "always mislabelled").candidates[0].content.parts if p.inline_data)
    assert part.inline_data.mime_type == "image/png" and part.inline_data.data.startswith(b"\xff\xd8")


def test_slow_marker_and_latency(fresh_emulator) -> None:
    server = fresh_emulator(latency_s=0.2, latency_by_size={"4K": 0.6})
    client = sdk_client(server)
    for prompt, size, low, high in (("plain", "1K", 0.2, 1.5), ("big", "4K", 0.6, 3.0),
                                    ("slow [[fault:slow=0.5]]", "1K", 0.7, 3.0)):
        started = time.perf_counter()
        client.models.generate_content(model=PRO, contents=prompt, config=image_config("1:1", size))
        assert low <= time.perf_counter() - started < high, prompt
    changed = httpx.post(f"{server.base_url}/_emulator/config", json={"latency_s": 0.0, "latency_by_size": {}}).json()
    assert (changed["latency_s"], changed["latency_by_size"]) == (0.0, {})
    started = time.perf_counter()
    _generate(client, "fast again")
    assert time.perf_counter() - started < 0.2 + 0.5  # under the old 0.2 s plus slack for a busy machine


def test_hang_outlasts_a_timeout_and_ends_when_the_server_stops(fresh_emulator) -> None:
    server = fresh_emulator()
    with pytest.raises(TIMEOUTS):
        _generate(sdk_client(server, timeout=500), "stuck [[fault:hang]]")
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            _generate(sdk_client(server), "stuck forever [[fault:hang]]")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    time.sleep(0.3)
    assert server.stats()["in_flight"] >= 1
    started = time.perf_counter()
    server.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.perf_counter() - started < 3
    assert isinstance(outcome[0], NETWORK_ERRORS)
