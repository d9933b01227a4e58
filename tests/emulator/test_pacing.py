"""Streams spread over the latency: thoughts and drafts first, the final image at the end."""

from __future__ import annotations

import time

import httpx
import pytest
from google.genai import types

from studio.emulator import pacing
from studio.emulator.__main__ import _parse, config_from

from .conftest import NETWORK_ERRORS, PRO, image_config, sdk_client

THINKING = image_config("1:1", "1K", thinking_config=types.ThinkingConfig(include_thoughts=True))


def _thought(draft: bool = False) -> dict:
    part = {"inlineData": {"data": "x"}, "thought": True} if draft else {"text": "t", "thought": True}
    return {"candidates": [{"content": {"parts": [part]}}]}


def test_schedule_puts_thinking_with_each_draft_and_the_rest_at_the_end() -> None:
    text, d1, d2, final = _thought(), _thought(True), _thought(True), {"candidates": [{"content": {"parts": [{}]}}]}
    groups = pacing.schedule([text, d1, d2, final], (0.3, 0.6))
    assert groups == [(0.3, [text, d1]), (0.6, [d2]), (1.0, [final])]
    assert pacing.schedule([text, d1, d2, final], ()) == [(1.0, [text, d1, d2, final])]
    assert pacing.schedule([final], (0.3, 0.6)) == [(1.0, [final])]
    d3 = _thought(True)
    assert pacing.schedule([d1, d2, d3, final], (0.5,)) == [(0.5, [d1]), (0.5, [d2]), (0.5, [d3]), (1.0, [final])]


@pytest.mark.parametrize("bad", ["0.6,0.3", "1.5", [-0.1]])
def test_timing_must_be_ascending_fractions(bad: object) -> None:
    with pytest.raises(ValueError):
        pacing.parse_timing(bad)


def test_first_thought_arrives_well_before_the_final_image(fresh_emulator) -> None:
    server = fresh_emulator(latency_s=1.5)
    sdk = sdk_client(server)
    started = time.monotonic()
    arrivals: list[tuple[float, bool]] = []
    for chunk in sdk.models.generate_content_stream(model=PRO, contents="paced", config=THINKING):
        for part in chunk.candidates[0].content.parts or []:
            arrivals.append((time.monotonic() - started, bool(part.thought)))
    first_thought = next(t for t, thought in arrivals if thought)
    final = max(t for t, thought in arrivals if not thought)
    assert [thought for _, thought in arrivals][:3] == [True, True, True]
    assert final >= 1.45  # the image waits the whole latency
    assert final - first_thought >= 0.4  # planned gap 1.05 s: generous margin for a loaded machine
    drafts = [t for t, thought in arrivals if thought][1:]
    assert drafts[1] - drafts[0] >= 0.1  # the second draft comes later than the first (planned 0.45 s)


def test_plain_answer_waits_the_whole_latency_then_answers_at_once(fresh_emulator) -> None:
    server = fresh_emulator(latency_s=0.6)
    started = time.monotonic()
    sdk = sdk_client(server)  # keep the client referenced while its call runs
    answer = sdk.models.generate_content(model=PRO, contents="at once", config=THINKING)
    assert time.monotonic() - started >= 0.55
    assert any(p.thought for p in answer.candidates[0].content.parts)


def test_stopping_mid_stream_cuts_the_connection(fresh_emulator) -> None:
    server = fresh_emulator(latency_s=30.0, draft_timing=(0.0, 0.9))
    sdk = sdk_client(server)
    stream = sdk.models.generate_content_stream(model=PRO, contents="cut", config=THINKING)
    first = next(iter(stream))
    assert first.candidates[0].content.parts[0].thought
    server.stop()
    with pytest.raises(NETWORK_ERRORS):
        list(stream)


def test_timing_through_admin_and_cli(fresh_emulator) -> None:
    server = fresh_emulator()
    answer = httpx.post(f"{server.base_url}/_emulator/config", json={"draft_timing": [0.1, 0.2, 0.5]})
    assert answer.status_code == 200 and answer.json()["draft_timing"] == [0.1, 0.2, 0.5]
    assert httpx.post(f"{server.base_url}/_emulator/config", json={"draft_timing": "0.9,0.1"}).status_code == 400
    assert config_from(_parse(["--draft-timing", "0.2,0.7"])).draft_timing == (0.2, 0.7)
    assert config_from(_parse([])).draft_timing == (0.3, 0.6)
