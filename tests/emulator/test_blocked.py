"""Blocked and empty answers in every live shape, one fault marker per reason and per shape."""

from __future__ import annotations

import pytest
from google.genai import types

from studio.emulator import blocked

from .conftest import PRO, body, image_config, post

ABSENT = "absent"
SHAPES = {"no_content": ABSENT, "empty_content": {}, "role_only": {"role": "model"},
          "null_parts": {"parts": None, "role": "model"}}


def _candidate(emulator, prompt: str) -> dict:
    answer = post(emulator, body(prompt, "1:1", "1K")).json()
    assert "candidatesTokenCount" not in answer["usageMetadata"], "blocked images are not billed"
    return answer["candidates"][0]


@pytest.mark.parametrize("fault", sorted(blocked.FINISH_FAULTS))
def test_every_finish_reason(emulator, sdk, fault: str) -> None:
    reason, _, shape = blocked.FINISH_FAULTS[fault]
    candidate = _candidate(emulator, f"odd [[fault:{fault}]]")
    assert candidate["finishReason"] == reason and candidate.get("content", ABSENT) == SHAPES[shape]
    assert candidate["finishMessage"]
    parsed = sdk.models.generate_content(model=PRO, contents=f"odd [[fault:{fault}]]", config=image_config("1:1", "1K"))
    assert parsed.candidates[0].finish_reason.value == reason
    assert not (parsed.candidates[0].content and parsed.candidates[0].content.parts)


def test_some_finish_messages_carry_a_support_code(emulator) -> None:
    message = _candidate(emulator, "odd [[fault:image_other]]")["finishMessage"]
    assert message.rsplit("Support code: ", 1)[1].isdigit()
    assert message == _candidate(emulator, "odd [[fault:image_other]]")["finishMessage"], "stable per prompt"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_content_shape_alone_and_with_a_reason(emulator, sdk, shape: str) -> None:
    alone = _candidate(emulator, f"odd [[fault:{shape}]]")
    assert alone["finishReason"] == "NO_IMAGE" and alone.get("content", ABSENT) == SHAPES[shape]
    paired = _candidate(emulator, f"odd [[fault:image_recitation]][[fault:{shape}]]")
    assert paired["finishReason"] == "IMAGE_RECITATION" and paired.get("content", ABSENT) == SHAPES[shape]
    parsed = sdk.models.generate_content(model=PRO, contents=f"odd [[fault:{shape}]]", config=image_config("1:1", "1K"))
    assert parsed.candidates[0].finish_reason == types.FinishReason.NO_IMAGE


@pytest.mark.parametrize("fault", sorted(blocked.PROMPT_FAULTS))
def test_every_prompt_block_reason(emulator, sdk, fault: str) -> None:
    answer = post(emulator, body(f"no [[fault:{fault}]]")).json()
    assert "candidates" not in answer and answer["promptFeedback"]["blockReason"] == blocked.PROMPT_FAULTS[fault]
    parsed = sdk.models.generate_content(model=PRO, contents=f"no [[fault:{fault}]]", config=image_config("1:1", "1K"))
    assert not parsed.candidates and parsed.prompt_feedback.block_reason.value == blocked.PROMPT_FAULTS[fault]


def test_a_blocked_stream_thinks_first_then_ends_blocked(sdk) -> None:
    config = image_config("1:1", "1K", thinking_config=types.ThinkingConfig(include_thoughts=True))
    chunks = list(sdk.models.generate_content_stream(model=PRO, contents="odd [[fault:image_safety]]", config=config))
    assert all(p.thought for c in chunks[:-1] for p in c.candidates[0].content.parts)
    last = chunks[-1].candidates[0]
    assert last.finish_reason == types.FinishReason.IMAGE_SAFETY and not last.content.parts
