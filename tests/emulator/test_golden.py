"""The emulator's wire bodies against golden bodies written from Google's docs (tests/golden/)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from .conftest import KEY, PRO, TOKEN, body, png, post

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def load(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text())


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_shape(golden: object, actual: object, path: str = "$", values: bool = True) -> None:
    """Same keys and JSON types; strings equal unless the golden says ``<any>``; numbers by type.

    A one-element golden list is a template: its element is compared with the first actual
    element, and every further actual element is compared by shape only.
    """
    assert _kind(golden) == _kind(actual), f"{path}: {_kind(golden)} expected, got {_kind(actual)}"
    if isinstance(golden, dict):
        assert set(golden) == set(actual), f"{path}: keys {sorted(golden)} expected, got {sorted(actual)}"
        for key in golden:
            assert_shape(golden[key], actual[key], f"{path}.{key}", values)
    elif isinstance(golden, list):
        if len(golden) == 1 and actual:
            for i, item in enumerate(actual):
                assert_shape(golden[0], item, f"{path}[{i}]", values and i == 0)
        else:
            assert len(golden) == len(actual), f"{path}: {len(golden)} items expected, got {len(actual)}"
            for i, (g, a) in enumerate(zip(golden, actual, strict=True)):
                assert_shape(g, a, f"{path}[{i}]", values)
    elif isinstance(golden, str) and values and not (golden.startswith("<") and golden.endswith(">")):
        assert golden == actual, f"{path}: {golden!r} expected, got {actual!r}"


def _documented_request() -> dict:
    request = load("generate_content_request.json")
    request["contents"][0]["parts"][1]["inlineData"]["data"] = base64.b64encode(png(160, 90)).decode()
    return request


def test_documented_request_gives_documented_response(emulator) -> None:
    answer = post(emulator, _documented_request())
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert_shape(load("generate_content_response.json"), answer.json())


def test_thoughts_response(emulator) -> None:
    answer = post(emulator, body("a fox", "1:1", "1K", thinkingConfig={"includeThoughts": True}))
    assert_shape(load("generate_content_thoughts_response.json"), answer.json())


def test_stream_first_and_last_events(emulator) -> None:
    with httpx.stream("POST", f"{emulator.base_url}/v1beta/models/{PRO}:streamGenerateContent",
                      params={"alt": "sse"}, json=body("a fox", "1:1", "1K"), headers={"x-goog-api-key": KEY}) as s:
        events = [json.loads(line[6:]) for line in s.iter_lines() if line.startswith("data: ")]
    assert_shape(load("stream_first_chunk.json"), events[0])
    assert_shape(load("stream_image_chunk.json"), events[-2])  # the image chunk has no finishReason
    assert_shape(load("stream_last_chunk.json"), events[-1])  # an empty text carries STOP


@pytest.mark.parametrize(("golden", "prompt"), [
    ("prompt_blocked_response.json", "no [[fault:prompt_blocked]]"),
    ("image_safety_response.json", "no [[fault:image_safety]]"),
    ("no_image_response.json", "no [[fault:no_image]]"),
    ("error_deadline_exceeded.json", "no [[fault:deadline]]"),
    ("error_quota.json", "no [[fault:quota]]"),
    ("error_overloaded.json", "no [[fault:overloaded]]"),
    ("error_internal.json", "no [[fault:server_error]]"),
])
def test_fault_bodies(emulator, golden: str, prompt: str) -> None:
    assert_shape(load(golden), post(emulator, body(prompt, "1:1", "1K")).json())


def test_error_bodies(emulator, fresh_emulator) -> None:
    assert_shape(load("error_api_key_invalid.json"), post(emulator, body("x"), headers={"x-goog-api-key": "bad"}).json())
    assert_shape(load("error_model_not_found.json"), post(emulator, body("x"), model="gemini-9-ultra-image").json())
    assert_shape(load("error_no_credentials.json"), post(emulator, body("x"), headers={}).json())
    assert_shape(load("error_unauthenticated.json"),
                 post(emulator, body("x"), headers={"Authorization": "Bearer expired"}).json())
    narrow = fresh_emulator()
    httpx.post(f"{narrow.base_url}/_emulator/tokens", json={"scopes": {"narrow": ["openid"]}})
    assert_shape(load("error_scope_insufficient.json"),
                 post(narrow, body("x"), headers={"Authorization": "Bearer narrow"}).json())
    unsigned = {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png",
                                                           "data": base64.b64encode(png()).decode()}}]}
    contents = [{"role": "user", "parts": [{"text": "draw"}]}, unsigned, {"role": "user", "parts": [{"text": "again"}]}]
    assert_shape(load("error_missing_signature.json"), post(emulator, {"contents": contents}).json())
    assert TOKEN  # the session emulator's token stays valid: nothing above revoked it


def test_unknown_field_and_count_tokens(emulator) -> None:
    request = body("x", "1:1", "1K")
    request["generationConfig"]["imageConfig"]["imageOutputOptions"] = {"mimeType": "image/jpeg"}  # Vertex only
    assert_shape(load("error_unknown_field.json"), post(emulator, request).json())
    counted = httpx.post(f"{emulator.base_url}/v1beta/models/{PRO}:countTokens", json={"contents": body("x")["contents"]},
                         headers={"x-goog-api-key": KEY})
    assert_shape(load("count_tokens_response.json"), counted.json())


def test_list_models(emulator) -> None:
    answer = httpx.get(f"{emulator.base_url}/v1beta/models", headers={"x-goog-api-key": KEY})
    assert_shape(load("list_models_response.json"), answer.json())


def test_golden_checker_catches_differences() -> None:
    with pytest.raises(AssertionError):
        assert_shape({"a": 1}, {"a": "1"})
    with pytest.raises(AssertionError):
        assert_shape({"a": 1}, {"a": 1, "b": 2})
    with pytest.raises(AssertionError):
        assert_shape({"s": "STOP"}, {"s": "SAFETY"})
    assert_shape({"s": "<any>", "n": 1}, {"s": "whatever", "n": 2.5})
