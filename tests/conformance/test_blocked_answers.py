"""Blocked and empty answers of every live shape, read by a peer's defensive result extraction."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from studio.emulator import blocked

from .conftest import PRO, image_config


def outcome(response: types.GenerateContentResponse) -> tuple[str, str]:
    """(kind, reason) the way a careful peer reads an answer: never indexing into what may be missing."""
    if not response.candidates:
        feedback = response.prompt_feedback
        return "prompt_blocked", feedback.block_reason.value if feedback and feedback.block_reason else "UNKNOWN"
    candidate = response.candidates[0]
    parts = (candidate.content.parts if candidate.content else None) or []
    reason = candidate.finish_reason.value if candidate.finish_reason else "UNKNOWN"
    if any(p.inline_data and not p.thought for p in parts):
        return "image", reason
    if any(p.text for p in parts if not p.thought):
        return "text_only", reason
    return "no_image", reason


def streamed_outcome(chunks: list[types.GenerateContentResponse]) -> tuple[str, str]:
    """Over the whole stream: the image or text may sit in any chunk, the finish reason in the last."""
    kinds = {k for k, _ in map(outcome, chunks)}
    kind = next((k for k in ("image", "text_only", "prompt_blocked") if k in kinds), "no_image")
    return kind, outcome(chunks[-1])[1]


MARKERS = [*((f, ("prompt_blocked", r)) for f, r in blocked.PROMPT_FAULTS.items()),
           *((f, ("no_image", r)) for f, (r, _, _) in blocked.FINISH_FAULTS.items()),
           *((s, ("no_image", "NO_IMAGE")) for s in blocked.SHAPE_FAULTS),
           ("text_only", ("text_only", "STOP"))]


@pytest.mark.parametrize(("marker", "expected"), MARKERS, ids=[m for m, _ in MARKERS])
def test_every_shape_is_read_without_crashing(client, marker: str, expected: tuple[str, str]) -> None:
    prompt = f"A picture [[fault:{marker}]]"
    response = client.models.generate_content(model=PRO, contents=prompt, config=image_config())
    assert outcome(response) == expected
    assert response.text is None or expected[0] == "text_only"  # .text on a blocked answer is None, not a crash
    config = image_config(thinking_config=types.ThinkingConfig(include_thoughts=True))
    chunks = list(client.models.generate_content_stream(model=PRO, contents=prompt, config=config))
    assert streamed_outcome(chunks) == expected


def test_http_failures_raise_the_sdks_errors(client) -> None:
    for marker, cls, code in (("quota", errors.ClientError, 429), ("overloaded", errors.ServerError, 503),
                              ("deadline", errors.ServerError, 504), ("server_error", errors.ServerError, 500)):
        with pytest.raises(cls) as caught:
            client.models.generate_content(model=PRO, contents=f"x [[fault:{marker}]]", config=image_config())
        assert caught.value.code == code and caught.value.status
