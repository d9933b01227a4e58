"""Today's models in the app (AppTest): the sidebar per model, switching with notes, the Thinking level box, the
Flex lane and its price, the store setting, Re-run of a retired model's entry, and "Try on …" after a full model.

The app and the emulator both run on the shipped registry's December 2026 lineup (tests/lineup_catalogue.py names
its models).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.state import LANE_FLEX
from studio.catalogue import Catalogue
from studio.credentials import Connection
from studio.history import Entry, HistoryStore, namespace_for
from studio.request import GenerationRequest
from studio.results import Failure, FailureKind, ImageResult
from tests.history.conftest import ok_result
from tests.lineup_catalogue import FLASH2_RETIRED, NB21_ID, PRO_DEC, use_lineup

THINKING = "Thinking level"


@pytest.fixture(autouse=True)
def lineup(monkeypatch: pytest.MonkeyPatch) -> None:
    use_lineup(monkeypatch)


@pytest.fixture
def history(isolated_studio: Path, emulator) -> Callable[..., object]:
    """Seed and read this identity's History (the key the app connects with) from outside the app."""
    store = HistoryStore.open(data_dir=isolated_studio)
    namespace = namespace_for(Connection(mode="api_key", api_key="test-key", base_url=emulator.base_url),
                              isolated_studio)

    class History:
        def seed(self, request: GenerationRequest, result: ImageResult) -> Entry:
            return store.record_attempt(namespace, request, result, batch_id="seeded")

        def entries(self) -> list[Entry]:
            return store.list_entries(namespace, sort="newest", limit=100)

    yield History()
    store.close()


def _sidebar_labels(at: AppTest) -> list[str]:
    return [w.label for w in [*at.sidebar.selectbox, *at.sidebar.toggle, *at.sidebar.radio]]


def _notes(at: AppTest) -> list[str]:
    return [n.value for n in at.sidebar.info]


def test_a_new_session_starts_on_2_1_with_only_what_it_has(studio_app, emulator) -> None:
    at = studio_app(emulator)
    model = at.selectbox(key="model_key")
    assert model.value == "nb21" and list(model.options) == [
        "Nano Banana 2.1 · gemini-nano-banana-2.1", "Nano Banana Pro · gemini-3-pro-image",
        "Nano Banana 2 Lite · gemini-3.1-flash-lite-image"], "retired models are not offered"
    assert len(at.selectbox(key="aspect_ratio").options) == 14
    assert list(at.radio(key="image_size").options) == ["1K", "2K", "4K"]
    thinking = at.selectbox(key="thinking_level")
    assert thinking.label == THINKING and list(thinking.options) == ["Minimal", "Medium", "High"]
    assert thinking.value == "medium"
    assert {"Grounding with Google Search", "Grounding with Google Image Search"} <= set(_sidebar_labels(at))
    assert "Nano Banana 2 Lite" in at.selectbox(key="model_key").help and "1K" in at.selectbox(key="model_key").help


def test_pro_is_as_before_and_lite_is_1k_without_grounding(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.selectbox(key="model_key").set_value("pro").run()
    assert len(at.selectbox(key="aspect_ratio").options) == 10
    assert THINKING not in _sidebar_labels(at)
    assert "Grounding with Google Search" in _sidebar_labels(at)
    assert "Grounding with Google Image Search" not in _sidebar_labels(at)
    at.selectbox(key="model_key").set_value("lite").run()
    assert list(at.radio(key="image_size").options) == ["1K"]
    assert list(at.selectbox(key="thinking_level").options) == ["Minimal", "High"]
    assert not [label for label in _sidebar_labels(at) if label.startswith("Grounding")]
    assert any("Nano Banana 2 Lite makes 1K images only." in c.value for c in at.sidebar.caption)


def test_switching_maps_what_the_model_lacks_with_a_note_and_keeps_the_prompt(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.text_area(key="prompt").input("a tiny robot watering a bonsai").run()
    at.selectbox(key="aspect_ratio").set_value("8:1").run()
    at.radio(key="image_size").set_value("4K").run()
    at.selectbox(key="model_key").set_value("lite").run()
    assert at.session_state["image_size"] == "1K" and at.session_state["thinking_level"] == "high"
    assert "Nano Banana 2 Lite makes 1K only: Resolution set to 1K." in _notes(at)
    assert "Nano Banana 2 Lite has no Medium thinking: Thinking level set to High." in _notes(at)
    at.selectbox(key="model_key").set_value("pro").run()
    assert at.session_state["aspect_ratio"] == "21:9"
    assert "Nano Banana Pro does not take 8:1: Aspect ratio set to 21:9." in _notes(at)
    assert at.text_area(key="prompt").value == "a tiny robot watering a bonsai", "the prompt is kept"
    at.run()
    assert not _notes(at), "a note is said once"


def test_thinking_level_is_sent_and_recorded(studio_app, emulator, history) -> None:
    at = studio_app(emulator)
    at.selectbox(key="aspect_ratio").set_value("21:9").run()
    at.radio(key="image_size").set_value("2K").run()
    at.selectbox(key="thinking_level").set_value("high").run()
    at.text_area(key="prompt").input("a paper boat on a puddle")
    at.button(key="generate").click().run()
    (entry,) = history.entries()
    sent = entry.request_json if isinstance(entry.request_json, dict) else json.loads(entry.request_json)
    assert sent["model"] == NB21_ID
    assert sent["generationConfig"]["imageConfig"] == {"aspectRatio": "21:9", "imageSize": "2K"}
    assert sent["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "HIGH"
    assert entry.settings["thinking_level"] == "high" and entry.settings["lane"] == "now"


def test_flex_lane_is_offered_priced_from_the_spec_and_runs_like_now(studio_app, emulator, history) -> None:
    at = studio_app(emulator)
    at.selectbox(key="model_key").set_value("pro").run()
    at.radio(key="image_size").set_value("2K").run()
    lane = at.segmented_control(key="lane")
    assert list(lane.options) == ["Now", "Batch", "Flex"]
    assert LANE_FLEX == "Flex — about half price, in minutes"
    full = at.sidebar.metric[0].value
    lane.set_value(LANE_FLEX).run()
    assert full == "$0.134" and at.sidebar.metric[0].value == f"${0.134 * PRO_DEC.price_share('flex'):.3f}"
    at.text_area(key="prompt").input("a red kite over a beach")
    at.button(key="generate").click().run()
    (entry,) = history.entries()
    assert entry.status == "ok", entry.failure_message
    assert entry.settings["lane"] == "flex"
    assert entry.request_json["serviceTier"] == "flex"
    assert entry.estimated_cost_usd == pytest.approx(PRO_DEC.price_per_image("2K") * 0.5)
    assert entry.cost_usd > 0 and entry.cost_usd == pytest.approx(
        PRO_DEC.cost_from_usage("2K", entry.prompt_tokens, entry.output_tokens, entry.thoughts_tokens, 1) * 0.5,
        abs=1e-6)


def test_store_is_off_by_default_and_the_account_setting_turns_it_on(studio_app, emulator, history) -> None:
    at = studio_app(emulator)
    at.selectbox(key="model_key").set_value("pro").run()
    at.text_area(key="prompt").input("a lantern in fog")
    at.button(key="generate").click().run()
    assert history.entries()[0].request_json["store"] is False
    at.switch_page("app_pages/account.py").run()
    toggle = next(t for t in at.toggle if t.label == "Let Google keep my requests")
    assert toggle.value is False
    toggle.set_value(True).run()
    at.switch_page("app_pages/generate.py").run()
    at.text_area(key="prompt").input("a lantern in fog, again")
    at.button(key="generate").click().run()
    assert history.entries()[0].request_json["store"] is True
    at.switch_page("app_pages/account.py").run()
    assert next(t for t in at.toggle if t.label == "Let Google keep my requests").value is True, "kept across pages"


def test_rerun_of_a_retired_models_entry_runs_on_the_successor_with_a_note(studio_app, emulator, history) -> None:
    old = GenerationRequest(prompt="a fox in the snow", model_id=FLASH2_RETIRED.model_id, aspect_ratio="8:1",
                            image_size="512", seed=7)
    made = history.seed(old, ok_result(old))
    at = studio_app(emulator, settled=False, rerun_entry_id=made.id)  # the note is on the run that sends it
    infos = [i.value for i in at.info]
    assert "Nano Banana 2 was retired by Google on 2026-10-29; this runs on Nano Banana 2.1." in infos
    assert "Nano Banana 2.1 does not make 512: Resolution set to 1K." in infos
    again = next(e for e in history.entries() if e.id != made.id)
    assert (again.model_id, again.image_size, again.aspect_ratio, again.prompt) == (NB21_ID, "1K", "8:1",
                                                                                 "a fox in the snow")
    assert history.entries()[-1].model_id == FLASH2_RETIRED.model_id, "the old entry stays as it was"


def _capacity_failure(request: GenerationRequest) -> ImageResult:
    failure = Failure(FailureKind.OVERLOADED, "The model is overloaded right now. Try again in a little while.",
                      "503 UNAVAILABLE: Model capacity exhausted. [MODEL_CAPACITY_EXHAUSTED]", http_status=503)
    return ImageResult(index=0, failure=failure, attempts=1)


def test_a_full_pro_offers_try_on_2_1_for_the_failed_image(studio_app, emulator, history) -> None:
    request = GenerationRequest(prompt="a glass banana", model_id=PRO_DEC.model_id, image_size="2K", seed=3)
    failed = history.seed(request, _capacity_failure(request))
    at = studio_app(emulator, session_entry_ids=[failed.id])
    button = at.button(key=f"fallback_{failed.id}")
    assert button.label == "Try on Nano Banana 2.1"
    button.click().run()
    again = next(e for e in history.entries() if e.id != failed.id)
    assert again.model_id == NB21_ID and again.prompt == "a glass banana" and again.image_size == "2K"
    assert again.settings["fallback_from"] == failed.id, "History names the attempt it replaces"
    assert not [b for b in at.button if b.key == f"fallback_{failed.id}"], "one click"


def test_google_s_capacity_503_on_pro_offers_try_on_2_1_and_the_retry_lands(studio_app, emulator, history) -> None:
    """The emulator answers Google's 503 MODEL_CAPACITY_EXHAUSTED (never retried); one click moves the image."""
    at = studio_app(emulator)
    at.selectbox(key="model_key").set_value("pro").run()
    at.text_area(key="prompt").input("a lantern in fog")
    emulator.queue_fault("capacity")
    at.button(key="generate").click().run()
    (failed,) = history.entries()
    assert failed.status == "failed" and "MODEL_CAPACITY_EXHAUSTED" in (failed.failure_detail or "")
    assert emulator.state.faults.pending() == 0, "a capacity 503 is not retried on the full model"
    button = at.button(key=f"fallback_{failed.id}")
    assert button.label == "Try on Nano Banana 2.1"
    button.click().run()
    again = next(e for e in history.entries() if e.id != failed.id)
    assert again.model_id == NB21_ID and again.status == "ok" and again.prompt == "a lantern in fog"
    assert at.text_area(key="prompt").value == "a lantern in fog", "nothing typed is lost"


def test_a_team_may_make_the_fallback_automatic(studio_app, emulator, history) -> None:
    request = GenerationRequest(prompt="a glass pear", model_id=PRO_DEC.model_id, seed=4)
    failed = history.seed(request, _capacity_failure(request))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.secrets["team"] = {"auto_fallback": True}
    at.session_state["connection"] = Connection(mode="api_key", api_key="test-key", base_url=emulator.base_url)
    at.session_state["session_entry_ids"] = [failed.id]
    at.run()
    at.run()
    moved = [e for e in history.entries() if e.id != failed.id]
    assert len(moved) == 1 and moved[0].model_id == NB21_ID and moved[0].settings["fallback_from"] == failed.id


def test_a_404_marks_the_model_unavailable_for_the_session_and_offers_its_successor(studio_app, emulator,
                                                                                    history) -> None:
    request = GenerationRequest(prompt="a quiet harbour", model_id=PRO_DEC.model_id)
    gone = Failure(FailureKind.NOT_FOUND, "The model was not found.", "404 NOT_FOUND: models/x is not found")
    failed = history.seed(request, ImageResult(index=0, failure=gone, attempts=1))
    at = studio_app(emulator, session_entry_ids=[failed.id], model_key="pro")
    assert at.session_state["unavailable_models"] == {PRO_DEC.model_id: f"Google answered 404 NOT_FOUND for "
                                                                         f"{PRO_DEC.model_id}."}
    assert at.button(key=f"fallback_{failed.id}").label == "Try on Nano Banana 2.1"
    assert any("not offered for the rest of this session" in c.value for c in at.caption)
    at.run()
    model = at.selectbox(key="model_key")
    assert not [o for o in model.options if o.startswith("Nano Banana Pro")] and model.value == "nb21"
    assert "Nano Banana Pro is not available to your credentials; Nano Banana 2.1 is chosen instead." in _notes(at)


def test_settings_restored_from_a_retired_models_entry_move_to_its_successor(studio_app, emulator) -> None:
    at = studio_app(emulator, model_key="flash2", image_size="512", aspect_ratio="8:1", prompt="a fox in the snow")
    assert at.session_state["model_key"] == "nb21" and at.session_state["image_size"] == "1K"
    assert at.session_state["aspect_ratio"] == "8:1"
    assert _notes(at)[:2] == ["Nano Banana 2 was retired by Google on 2026-10-29; this runs on Nano Banana 2.1.",
                              "Nano Banana 2.1 does not make 512: Resolution set to 1K."]
    assert at.text_area(key="prompt").value == "a fox in the snow"


def test_google_s_404_on_generate_is_said_plainly_and_offers_the_default_model(studio_app, emulator,
                                                                                history) -> None:
    at = studio_app(emulator, custom_model_id="gemini-0-unknown-image")
    at.text_area(key="prompt").input("a moth on a lamp")
    at.button(key="generate").click().run()
    (failed,) = history.entries()
    assert failed.failure_kind == "not_found", "Google's answer over real HTTP: 404 NOT_FOUND"
    assert "gemini-0-unknown-image" in at.session_state["unavailable_models"]
    assert at.button(key=f"fallback_{failed.id}").label == "Try on Nano Banana 2.1"
    assert any("Google does not know the model gemini-0-unknown-image (404)." in c.value.replace("\\", "")
               for c in at.caption), "shown as typed (markdown escaped)"
    assert at.text_area(key="prompt").value == "a moth on a lamp", "nothing typed is lost"


def test_an_edit_of_a_retired_models_image_runs_on_the_successor_with_the_note(studio_app, emulator, history,
                                                                               monkeypatch) -> None:
    from dataclasses import replace

    from tests.lineup_catalogue import DEC_2026

    retired_pro = replace(PRO_DEC, status="retired", retired_on="2026-11-30", successor="nb21")
    use_lineup(monkeypatch, Catalogue(tuple(retired_pro if m.key == "pro" else m for m in DEC_2026)))
    # made before Pro retired (the emulator still has it); runs are not settled, so the run that sends the edit
    # (and says why it goes to 2.1) is the one looked at
    at = studio_app(emulator, settled=False, custom_model_id=PRO_DEC.model_id)
    at.text_area(key="prompt").input("a teapot on a windowsill")
    at.button(key="generate").click().run()
    _wait_for_jobs()
    at.run()
    (made,) = history.entries()
    assert made.status == "ok" and made.model_id == PRO_DEC.model_id
    next(b for b in at.button if b.label == "Edit").click().run()
    at.text_area(key=f"edit_text_{made.id}").input("make the teapot blue")
    at.button(key=f"edit_apply_{made.id}").click().run()
    assert not at.exception
    edit = next(e for e in history.entries() if e.id != made.id)
    assert edit.model_id == NB21_ID and edit.thread_parent_id == made.id, "the thread goes on, on the successor"
    assert "Nano Banana Pro was retired by Google on 2026-11-30; this runs on Nano Banana 2.1." in _notes(at)


def _wait_for_jobs(timeout_s: float = 60.0) -> None:
    import time

    from components import services

    runner = services.get_runner()
    deadline = time.monotonic() + timeout_s
    while any(runner.has_active(ns) for ns in runner.namespaces()):
        assert time.monotonic() < deadline, "jobs still running after the deadline"
        for ns in runner.namespaces():
            runner.wait_for_change(ns, runner.version(ns), 0.05)
