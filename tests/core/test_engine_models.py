"""The newer request fields over real HTTP (the SDK to the emulator on loopback), each only where the spec has it:
thinkingConfig.thinkingLevel, serviceTier "flex", store, image search grounding; a full model is not retried.

The bodies are read as they leave the SDK (an httpx request hook), so what is asserted is the wire itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from google import genai
from google.genai import types

from studio import lineup
from studio.engine import Engine, _Attempt, is_capacity_exhausted
from studio.history.recorder import finished_record, started_row
from studio.request import GenerationRequest, ValidationError, problems_with
from studio.results import Failure, FailureKind, ImageResult, Usage
from tests.conftest import TEST_KEY
from tests.lineup_catalogue import LITE, LITE_ID, NB21, NB21_ID, PRO_DEC, catalogue


class _Wire:
    """An engine whose requests are kept as they leave for the emulator."""

    def __init__(self, base_url: str, max_attempts: int = 1, **engine: object) -> None:
        self.bodies: list[dict] = []
        self.timeouts: list[object] = []

        async def keep(request: httpx.Request) -> None:
            if request.url.path.endswith("enerateContent"):
                self.bodies.append(json.loads(request.content))
                self.timeouts.append((request.extensions.get("timeout") or {}).get("read"))

        client = genai.Client(api_key=TEST_KEY, http_options=types.HttpOptions(
            base_url=base_url, api_version="v1beta", retry_options=types.HttpRetryOptions(attempts=1),
            httpx_async_client=httpx.AsyncClient(event_hooks={"request": [keep]})))
        self.engine = Engine(client, catalogue(), max_attempts=max_attempts, **engine)  # type: ignore[arg-type]

    def send(self, **kwargs: object) -> tuple[dict, ImageResult]:
        kwargs.setdefault("prompt", "a lighthouse at dusk")
        result = self.engine.run(GenerationRequest(**kwargs))[0]  # type: ignore[arg-type]
        return self.bodies[-1], result


@pytest.fixture
def wire(emulator) -> Iterator[_Wire]:
    made = _Wire(emulator.base_url)
    yield made
    made.engine.close()


def _level(body: dict) -> object:
    thinking = body.get("generationConfig", {}).get("thinkingConfig", {})
    return thinking.get("thinkingLevel", thinking.get("thinking_level"))  # Google's parser takes both spellings


def test_2_1_at_21_9_2k_with_high_thinking_carries_each_field(wire: _Wire) -> None:
    body, result = wire.send(model_id=NB21_ID, aspect_ratio="21:9", image_size="2K", thinking_level="high")
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "21:9", "imageSize": "2K"}
    assert _level(body) == "HIGH"
    assert body["store"] is False, "off unless the person lets Google keep requests"
    assert "serviceTier" not in body, "the Now lane sends no tier"
    assert result.request_json["model"] == NB21_ID
    assert result.request_json["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "HIGH"}
    assert result.request_json["store"] is False, "History's request view shows what was sent"


def test_flex_lane_sends_service_tier_flex_and_store_true_when_allowed(wire: _Wire) -> None:
    body, result = wire.send(model_id=PRO_DEC.model_id, lane="flex", store=True)
    assert body["serviceTier"] == "flex" and body["store"] is True
    assert result.ok, result.failure  # Pro answers on the emulator: flex runs exactly like Now
    assert "thinkingConfig" not in body.get("generationConfig", {}), "Pro has no thinking levels in this lineup"


def test_image_search_names_both_search_kinds_and_web_search_alone_stays_plain(wire: _Wire) -> None:
    body, _ = wire.send(model_id=NB21_ID, grounding=True, image_search=True)
    search = body["tools"][0]["googleSearch"]
    kinds = search.get("searchTypes") or search.get("search_types")
    assert set(kinds) == {"web_search", "image_search"} or set(kinds) == {"webSearch", "imageSearch"}
    body, result = wire.send(model_id=PRO_DEC.model_id, grounding=True)
    assert body["tools"] == [{"googleSearch": {}}]
    assert result.ok, result.failure


def test_fields_a_model_lacks_are_refused_before_sending(wire: _Wire) -> None:
    cat = catalogue()
    lite_medium = GenerationRequest(prompt="p", model_id=LITE_ID, thinking_level="medium")
    assert problems_with(lite_medium, cat) == ["Nano Banana 2 Lite has no Medium thinking level: choose Minimal, "
                                               "High."]
    assert any("cannot search images" in p for p in problems_with(
        GenerationRequest(prompt="p", model_id=PRO_DEC.model_id, image_search=True), cat))
    with pytest.raises(ValidationError):
        wire.send(model_id=LITE_ID, image_size="2K")
    assert wire.bodies == [], "nothing reached Google"


def test_flex_is_priced_from_the_spec_in_the_estimate_and_from_usage() -> None:
    cat = catalogue()
    now = GenerationRequest(prompt="p", model_id=NB21_ID, image_size="2K")
    flex = GenerationRequest(prompt="p", model_id=NB21_ID, image_size="2K", lane="flex")
    est_now = started_row(cat, "a", "ns", now, 0, batch_id="b", parent_id=None, job_id=None, owner=None)
    est_flex = started_row(cat, "b", "ns", flex, 0, batch_id="b", parent_id=None, job_id=None, owner=None)
    assert est_flex["estimated_cost_usd"] == pytest.approx(est_now["estimated_cost_usd"] * NB21.price_share("flex"))
    assert json.loads(est_flex["settings_json"])["lane"] == "flex"
    from tests.history.conftest import ok_result

    result = ok_result(now)
    result = ImageResult(index=0, image=result.image, usage=Usage(100, 1680, 50, 1830))
    paid_now = finished_record(cat, "a", now, result).values["cost_usd"]
    paid_flex = finished_record(cat, "b", flex, result).values["cost_usd"]
    assert paid_now > 0 and paid_flex == pytest.approx(paid_now * 0.5, abs=1e-6)


def test_unavailable_past_the_budget_ends_as_overloaded(fresh_emulator) -> None:
    server = fresh_emulator()
    wire = _Wire(server.base_url, max_overload_attempts=2, overload_base_s=0.01)
    try:
        _, result = wire.send(model_id=PRO_DEC.model_id, prompt="a kite [[fault:overloaded]]")
    finally:
        wire.engine.close()
    assert result.failure is not None and result.failure.kind is FailureKind.OVERLOADED
    assert result.attempts == 2 and len(wire.bodies) == 2


def test_capacity_exhausted_is_not_retried_for_minutes(emulator) -> None:
    wire = _Wire(emulator.base_url)
    try:
        full = Failure(FailureKind.OVERLOADED, "The model is overloaded.",
                       "503 UNAVAILABLE: Model capacity exhausted. [MODEL_CAPACITY_EXHAUSTED]", http_status=503)
        busy = Failure(FailureKind.OVERLOADED, "The model is overloaded.", "503 UNAVAILABLE: overloaded",
                       http_status=503)
        state = _Attempt(0, None, {}, 0.0, attempts=1)
        proxied = Failure(FailureKind.QUOTA, "Quota reached.", "429 RESOURCE_EXHAUSTED: No capacity available "
                          "for model gemini-3-pro-image on the server [MODEL_CAPACITY_EXHAUSTED]", http_status=429)
        assert is_capacity_exhausted(full) and is_capacity_exhausted(proxied) and not is_capacity_exhausted(busy)
        assert wire.engine.retry_delay(state, proxied) is None
        assert wire.engine.retry_delay(state, full) is None
        assert wire.engine.retry_delay(state, busy) is not None
    finally:
        wire.engine.close()


def test_lineup_offers_successors_and_maps_settings() -> None:
    cat = catalogue()
    assert [m.key for m in lineup.offered(cat)] == ["nb21", "pro", "lite"]
    assert lineup.default_spec(cat).key == "nb21"
    assert lineup.default_spec(cat, unavailable=[NB21_ID]).key == "pro"
    retired = cat.by_key("flash2")
    assert lineup.successor(cat, retired) == NB21
    old = GenerationRequest(prompt="p", model_id=retired.model_id, aspect_ratio="8:1", image_size="512")
    moved, notes = lineup.for_new_work(old, cat)
    assert (moved.model_id, moved.image_size, moved.aspect_ratio, moved.thinking_level) == (NB21_ID, "1K", "8:1",
                                                                                           "medium")
    assert notes[0] == "Nano Banana 2 was retired by Google on 2026-10-29; this runs on Nano Banana 2.1."
    assert "Resolution set to 1K" in notes[1]
    fitted = lineup.fit(LITE, aspect_ratio="21:9", image_size="4K", thinking_level="medium", grounding=True)
    assert (fitted.image_size, fitted.thinking_level, fitted.grounding) == ("1K", "high", False)
    assert "Nano Banana 2 Lite makes 1K only: Resolution set to 1K." in fitted.notes
    assert lineup.nearest_ratio("8:1", PRO_DEC.ratios) == "21:9"


def test_image_search_sources_show_like_web_sources() -> None:
    from studio.grounding import SourceLink, sources_from_response

    answer = {"candidates": [{"groundingMetadata": {
        "imageSearchQueries": ["harbour crane"], "webSearchQueries": ["harbour history"],
        "groundingChunks": [{"web": {"uri": "https://example.org/history", "title": "History"}},
                            {"image": {"sourceUri": "https://photos.example.com/crane", "imageUri":
                                       "https://img.example.com/crane.jpg", "domain": "photos.example.com"}},
                            {"image": {"sourceUri": "javascript:alert(1)", "title": "bad"}}]}}]}
    sources = sources_from_response(answer)
    assert sources is not None
    assert sources.links == (SourceLink("https://example.org/history", "History"),
                             SourceLink("https://photos.example.com/crane", "photos.example.com"))
    assert sources.queries == ("harbour history", "harbour crane")


def test_a_flex_request_may_take_minutes(emulator) -> None:
    wire = _Wire(emulator.base_url, timeout_s=30.0, flex_timeout_s=600.0)
    try:
        _, now = wire.send(model_id=PRO_DEC.model_id)
        body, flex = wire.send(model_id=PRO_DEC.model_id, lane="flex")
    finally:
        wire.engine.close()
    assert now.ok and flex.ok
    assert wire.timeouts[-1] == 600.0 and wire.timeouts[0] != 600.0
    assert "httpOptions" not in json.dumps(flex.request_json) and "httpOptions" not in json.dumps(body)


def test_the_team_fallback_setting_is_off_by_default_and_read_plainly() -> None:
    from studio.access import TeamConfigError, TeamPolicy

    assert TeamPolicy.from_config({}, env={}).auto_fallback is False
    assert TeamPolicy.from_config({"auto_fallback": True}, env={}).auto_fallback is True
    with pytest.raises(TeamConfigError, match=r"\[team\] auto_fallback must be true or false"):
        TeamPolicy.from_config({"auto_fallback": "yes"}, env={})
