"""How the engine reads what the live API sends: streams in pieces, several images, long overloads."""

from __future__ import annotations

import base64
import io
import time

from PIL import Image

from studio.engine import _Attempt, merge_stream
from studio.request import GenerationRequest
from studio.results import FailureKind

PRO = "gemini-3-pro-image"


def _png_b64(colour: str) -> str:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_a_stream_in_the_live_shape_merges_into_one_answer() -> None:
    usage = {"promptTokenCount": 12, "candidatesTokenCount": 1120, "totalTokenCount": 1132}
    chunks = [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Thinking about ", "thought": True}]}}],
         "usageMetadata": usage},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "the light", "thought": True}]}}],
         "usageMetadata": usage},
        {"candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "image/png", "data": _png_b64("red")}, "thoughtSignature": "c2ln"}]}}],
         "usageMetadata": usage, "modelVersion": "gemini-3-pro-image"},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP"}],
         "usageMetadata": usage, "responseId": "r1"},
    ]
    merged = merge_stream(chunks)
    parts = merged["candidates"][0]["content"]["parts"]
    assert parts[0] == {"text": "Thinking about the light", "thought": True}, "fragments are joined"
    assert len(parts) == 2 and "inlineData" in parts[1], "the empty trailing text part is dropped"
    assert merged["candidates"][0]["finishReason"] == "STOP"
    assert merged["usageMetadata"] == usage and merged["responseId"] == "r1"


def test_several_final_images_are_said_not_silently_dropped(emulator, engine_for) -> None:
    engine = engine_for(emulator)
    request = GenerationRequest(prompt="two pictures", model_id=PRO)
    raw = {"candidates": [{"content": {"parts": [
        {"text": "Here is one."}, {"inlineData": {"mimeType": "image/png", "data": _png_b64("red")}},
        {"text": "And another."}, {"inlineData": {"mimeType": "image/png", "data": _png_b64("blue")}}]},
        "finishReason": "STOP"}]}
    result = engine._read_answer(request, _Attempt(0, None, {}, time.perf_counter()), raw)
    assert result.ok
    assert result.text.startswith("Here is one.\n\nAnd another.")
    assert "returned 2 images" in result.text


def test_overload_has_its_own_longer_budget(fresh_emulator, engine_for) -> None:
    server = fresh_emulator()
    engine = engine_for(server, max_attempts=2, max_overload_attempts=4, overload_base_s=0.01)
    seen: list[FailureKind] = []
    result = engine.run(GenerationRequest(prompt="busy for a while [[fault:overloaded*3]]", model_id=PRO),
                        on_retry=lambda i, f, d: seen.append(f.kind))[0]
    assert result.ok and result.attempts == 4 and seen == [FailureKind.OVERLOADED] * 3
    other = engine.run(GenerationRequest(prompt="broken twice [[fault:server_error*2]]", model_id=PRO))[0]
    assert other.failure is not None and other.failure.kind is FailureKind.SERVER_ERROR and other.attempts == 2
