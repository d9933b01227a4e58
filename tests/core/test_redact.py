"""Redaction: image bytes and secrets never reach history, logs or the JSON views."""

from __future__ import annotations

import base64
import copy

from studio.redact import REDACTED, redact_json, redact_text

KEY = "AIzaSyA1234567890abcdefghijklmnopqrstu"


def test_inline_data_elided_recursively_in_both_spellings() -> None:
    data = base64.b64encode(b"x" * 300).decode()
    body = {"candidates": [{"content": {"parts": [
        {"inlineData": {"mimeType": "image/png", "data": data}},
        {"inline_data": {"mime_type": "image/jpeg", "data": b"\xff\xd8" * 10}},
        {"text": "hello"},
    ]}}]}
    original = copy.deepcopy(body)
    out = redact_json(body)
    parts = out["candidates"][0]["content"]["parts"]
    assert parts[0]["inlineData"] == {"mimeType": "image/png", "data": "<300 bytes elided>"}
    assert parts[1]["inline_data"] == {"mime_type": "image/jpeg", "data": "<20 bytes elided>"}
    assert parts[2] == {"text": "hello"}
    assert body == original, "the input is not modified"


def test_known_secrets_replaced_everywhere() -> None:
    body = {"a": ["token is tok-123456", {"b": "x tok-123456 y"}], "n": 3, "none": None}
    assert redact_json(body, ["tok-123456"]) == {"a": [f"token is {REDACTED}", {"b": f"x {REDACTED} y"}],
                                                  "n": 3, "none": None}


def test_secret_looking_strings_replaced_without_being_told() -> None:
    text = (f"url ?key={KEY}&alt=sse; Authorization: Bearer abcdefghijk.lmnop; "
            f"x-goog-api-key: my-own-key; raw {KEY}; oauth ya29.a0AfH6SMBx")
    out = redact_text(text)
    for secret in (KEY, "abcdefghijk.lmnop", "my-own-key", "ya29.a0AfH6SMBx"):
        assert secret not in out
    assert "?key=" in out and "Bearer " in out


def test_short_or_empty_secrets_do_not_shred_text() -> None:
    assert redact_text("a b c", ["", "a"]) == "a b c"
