"""Roles and Grounding with Google Search end to end: the real SDK sends them to the emulator over HTTP, and
History keeps what came back (the sources Google requires to be shown, the roles of each reference)."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from google import genai
from google.genai import types
from PIL import Image

from studio.catalogue import DEFAULT_CATALOGUE as CATALOGUE
from studio.catalogue import FLASH, NB21, PRO
from studio.credentials import Connection
from studio.engine import Engine
from studio.grounding import sources_from_response
from studio.jobs import CredentialSource, ImageState, JobRunner, RunnerLimits
from studio.request import GenerationRequest, ReferenceImage, ValidationError
from tests.conftest import TEST_KEY

from .test_runner import wait_job


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 48), colour).save(out, "PNG")
    return out.getvalue()


def _ref(name: str, colour: str, role: str) -> ReferenceImage:
    return ReferenceImage(name=name, data=_png(colour), mime_type="image/png", width=48, height=48, role=role)


def _recording_engine(server) -> tuple[Engine, list[dict]]:
    """An engine on the emulator whose generateContent bodies are kept, as they went on the wire."""
    bodies: list[dict] = []

    async def keep(request: httpx.Request) -> None:
        if request.url.path.endswith("generateContent"):
            bodies.append(json.loads(request.content))

    client = genai.Client(api_key=TEST_KEY, http_options=types.HttpOptions(
        base_url=server.base_url, api_version="v1beta", retry_options=types.HttpRetryOptions(attempts=1),
        httpx_async_client=httpx.AsyncClient(event_hooks={"request": [keep]})))
    return Engine(client, max_attempts=1), bodies


@pytest.mark.parametrize("model_id", [PRO.model_id, NB21.model_id])
def test_a_grounded_job_keeps_its_sources_in_history(fresh_emulator, runner, store, model_id: str) -> None:
    server = fresh_emulator()
    request = GenerationRequest(prompt="the weather in Paris today as a poster", model_id=model_id, count=2,
                                grounding=True)
    job = wait_job(runner, runner.submit("local", request, store, CredentialSource(
        Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))).id)
    assert [i.state for i in job.images] == [ImageState.DONE] * 2
    for entry in store.get_many("local", job.entry_ids):
        assert entry.status == "ok" and entry.settings["grounding"] is True
        assert entry.request_json["tools"] == [{"googleSearch": {}}]
        metadata = entry.response_json["candidates"][0]["groundingMetadata"]  # the emulator searched: it was sent
        assert "renderedContent" in metadata["searchEntryPoint"] and len(metadata["groundingChunks"]) >= 2
        searched = entry.response_json["usageMetadata"]["toolUsePromptTokenCount"]
        assert searched > 0 and entry.total_tokens == (entry.prompt_tokens + entry.output_tokens
                                                       + entry.thoughts_tokens + searched)
        spec = CATALOGUE.resolve(model_id)
        assert entry.cost_usd == pytest.approx(spec.cost_from_usage(
            "1K", entry.prompt_tokens + searched, entry.output_tokens, entry.thoughts_tokens, 1)), \
            "what the search returned is billed as input"


def test_the_wire_carries_the_search_tool_and_the_roles_preamble(fresh_emulator) -> None:
    engine, bodies = _recording_engine(fresh_emulator())
    try:
        request = GenerationRequest(prompt="these two having tea in this style", model_id=PRO.model_id,
                                    references=(_ref("anna.png", "red", "character"),
                                                _ref("ink.png", "blue", "style")), grounding=True)
        result = engine.run(request)[0]
    finally:
        engine.close()
    assert result.ok, result.failure
    sent = bodies[0]
    assert sent["tools"] == [{"googleSearch": {}}]
    parts = sent["contents"][0]["parts"]
    assert parts[0]["text"] == "these two having tea in this style"
    assert parts[1]["text"].startswith("Image 1 is a character") and "Image 2 is the style reference" in parts[1]["text"]
    assert [("inlineData" in p) for p in parts] == [False, False, True, True]
    sources = result.sources
    assert sources is not None and sources.links and "<style>" in sources.entry_point_html


def test_an_ungrounded_untagged_request_sends_exactly_what_it_did_before(fresh_emulator) -> None:
    engine, bodies = _recording_engine(fresh_emulator())
    try:
        ref = _ref("a.png", "green", "other")
        result = engine.run(GenerationRequest(prompt="a calm sea", model_id=PRO.model_id, references=(ref,)))[0]
    finally:
        engine.close()
    assert result.ok and result.sources is None
    assert "tools" not in bodies[0] and len(bodies[0]["contents"][0]["parts"]) == 2


def test_the_runner_refuses_grounding_and_too_many_subjects_on_nano_banana(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    source = CredentialSource(Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))
    grounded = GenerationRequest(prompt="news", model_id=FLASH.model_id, grounding=True)
    with pytest.raises(ValidationError, match="cannot search Google"):
        runner.submit("local", grounded, store, source)
    crowded = GenerationRequest(prompt="a family", model_id=FLASH.model_id, references=tuple(
        _ref(f"p{i}.png", colour, "character") for i, colour in enumerate(("red", "green", "blue", "white"))))
    with pytest.raises(ValidationError, match="at most 3 images tagged character or object"):
        runner.submit("local", crowded, store, source)
    assert store.count_entries("local") == 0 and server.stats()["requests"].get("generateContent", 0) == 0


def test_a_streamed_grounded_image_keeps_its_sources(fresh_emulator, runner, store) -> None:
    """Watching the thinking streams the answer: the sources come on its last chunk and must survive the merge."""
    server = fresh_emulator()
    request = GenerationRequest(prompt="tonight's moon phase as a print", model_id=PRO.model_id, grounding=True,
                                include_thoughts=True)
    job = wait_job(runner, runner.submit("local", request, store, CredentialSource(
        Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))).id)
    entry = store.get("local", job.entry_ids[0])
    assert entry.status == "ok" and entry.thought_text, "it streamed (thinking was kept)"
    sources = sources_from_response(entry.response_json)
    assert sources is not None and sources.links and sources.queries[0].startswith("tonight's moon phase")


def test_the_batch_lane_sends_grounding_and_roles_and_keeps_the_sources(fresh_emulator, store) -> None:
    """Google's Batch API takes the same request: the tool and the preamble go with each item."""
    server = fresh_emulator(batch_delay_s=0.2)
    runner = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3))
    try:
        request = GenerationRequest(prompt="this mascot at today's match", model_id=NB21.model_id, count=2,
                                    lane="batch", grounding=True, references=(_ref("m.png", "red", "character"),))
        job = wait_job(runner, runner.submit("local", request, store, CredentialSource(
            Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))).id)
    finally:
        runner.close()
    assert [i.state for i in job.images] == [ImageState.DONE] * 2
    for entry in store.get_many("local", job.entry_ids):
        assert entry.request_json["tools"] == [{"googleSearch": {}}]
        assert entry.request_json["contents"][0]["parts"][1]["text"].startswith("Image 1 is a character")
        assert sources_from_response(entry.response_json) is not None, "the batch answer kept its sources"
        assert [r.role for r in store.read_references("local", entry.id)] == ["character"]
