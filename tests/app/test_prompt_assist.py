"""Improve prompt, Variations and Describe on the Generate page, against the emulator's text models."""

from __future__ import annotations

import io
import re
from concurrent.futures import wait

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from studio.catalogue import PRO
from studio.credentials import Connection
from tests.app.conftest import drawn

PROMPT = "a red scooter parked on a rainy street at night"


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "PNG")
    return out.getvalue()


def _answered(at: AppTest) -> AppTest:
    """Wait for the calls the page handed to the runner (a fragment's timer does this in the browser), then rerun."""
    state = at.session_state
    calls = [state["assist_call"]] if "assist_call" in state else []
    calls += list(state["describe_calls"].values()) if "describe_calls" in state else []
    for call in calls:
        if "future" in call:
            wait([call["future"]], timeout=30)
    return at.run()


def _typed(at: AppTest, prompt: str = PROMPT) -> AppTest:
    at.text_area(key="prompt").input(prompt)
    return at.run()


def _html(at: AppTest) -> str:
    return "\n".join(drawn(at))


def test_empty_prompt_disables_the_buttons_with_a_hint(studio_app, emulator) -> None:
    at = studio_app(emulator)
    assert at.button(key="assist_improve").disabled and at.button(key="assist_variations").disabled
    assert any("Write a prompt first" in c.value for c in at.caption)


def test_improve_shows_a_diff_and_use_it_replaces_the_prompt(studio_app, emulator, isolated_studio) -> None:
    at = _typed(studio_app(emulator))
    assert not at.button(key="assist_improve").disabled
    estimate = next(c.value for c in at.caption if c.value.startswith("Estimated: Improve prompt $"))
    assert "Gemini 3.1 Flash-Lite" in estimate and "emulated" not in estimate
    at.button(key="assist_improve").click().run()
    at = _answered(at)
    assert at.text_area(key="prompt").value == PROMPT, "nothing replaced before Use it"
    suggestion = at.session_state["assist_result"].prompt
    added = suggestion.removeprefix("A" + PROMPT[1:] + ", ").split(",")[0]  # e.g. "soft golden-hour light"
    page = _html(at)
    inserted = " ".join(re.findall(r"<ins[^>]*>(.*?)</ins>", page))
    assert added in inserted and PROMPT[1:] not in inserted, "the added words, and only they, are insertions"
    assert "<del" in page, "the changed first letter is shown as removed"
    cost = next(c.value for c in at.caption if "from usage" in c.value)
    assert "tokens in" in cost and "estimated $" in cost
    assert any("This session:" in c.value for c in at.sidebar.caption), "counted in the session totals"
    at.button(key="assist_use").click().run()
    assert at.text_area(key="prompt").value == suggestion != PROMPT
    assert not [b for b in at.button if b.key == "assist_use"]


def test_keep_mine_leaves_the_prompt(studio_app, emulator) -> None:
    at = _typed(studio_app(emulator))
    at.button(key="assist_improve").click().run()
    at = _answered(at)
    at.button(key="assist_keep").click().run()
    assert at.text_area(key="prompt").value == PROMPT
    assert not [b for b in at.button if b.key == "assist_use"]


def test_a_refusal_is_plain_and_the_prompt_is_untouched(studio_app, emulator) -> None:
    blocked = "something forbidden [[fault:prompt_blocked]]"
    at = _typed(studio_app(emulator), blocked)
    at.button(key="assist_improve").click().run()
    at = _answered(at)
    assert any("declined" in e.value and "safety filters" in e.value and "unchanged" in e.value for e in at.error)
    assert at.text_area(key="prompt").value == blocked


def test_a_failure_is_plain_words(studio_app, emulator) -> None:
    at = _typed(studio_app(emulator), "anything [[fault:server_error]]")
    at.button(key="assist_improve").click().run()
    at = _answered(at)
    assert any(e.value.startswith("Google's server had an internal error") for e in at.error)


def _variations_answered(at: AppTest, count: int = 3) -> tuple[AppTest, tuple[str, ...]]:
    at.number_input(key="variation_count").set_value(count).run()
    assert any("Variations $" in c.value for c in at.caption)
    at.button(key="assist_variations").click().run()
    at = _answered(at)
    variations = at.session_state["assist_result"].variations
    assert len(variations) == count and f"{count} variations of your prompt" in _html(at)
    return at, variations


def test_generate_all_submits_one_job_of_new_versions_of_the_prompt(studio_app, emulator) -> None:
    from components import services

    at = _typed(studio_app(emulator, model_key="pro"))
    at.button(key="generate").click().run()  # the original prompt's version
    origin = at.session_state["session_entry_ids"][0]
    at, variations = _variations_answered(at)
    assert f"Generate all 3: estimated ${PRO.estimate_cost('1K', 3):.3f} for 3 images." in [c.value for c in at.caption]
    assert at.button(key="assist_generate_all").label == "Generate all 3"
    runner = services.get_runner()
    namespace = next(iter(runner.namespaces()))
    sent_before = emulator.stats()["requests"].get("generateContent", 0)
    at.text_area(key="prompt").input("").run()  # the box emptied meanwhile: the set still varies what was asked
    at.button(key="assist_generate_all").click().run()
    assert not at.exception and not at.error
    jobs = runner.jobs_for(namespace)
    assert len(jobs) == 2 and len(at.session_state["followed_job_ids"]) == 2, "the original, then ONE job"
    job = jobs[0]
    assert job.count == 3 and job.prompt == PROMPT and job.lane == "now"
    assert at.session_state["session_entry_ids"][:3] == job.entry_ids, "its images lead the grid"
    made = services.get_store().get_many(namespace, job.entry_ids)
    assert [e.prompt for e in made] == list(variations), "image i is recorded with variation i"
    assert [(e.parent_id, e.status) for e in made] == [(origin, "ok")] * 3
    assert emulator.stats()["requests"]["generateContent"] - sent_before == 3, "one request per image"
    at.session_state["rerun_entry_id"] = made[1].id  # Re-run on the second one's card or detail view
    at.run()
    again = services.get_store().get(namespace, at.session_state["session_entry_ids"][0])
    assert again.id not in job.entry_ids and (again.prompt, again.status) == (variations[1], "ok"), "its own prompt"
    assert again.parent_id == origin and again.request_json["contents"][-1]["parts"][0]["text"] == variations[1]


def test_generate_all_on_the_batch_lane_is_one_google_batch(studio_app, fresh_emulator,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from components import services
    from components.state import LANE, LANE_BATCH

    monkeypatch.setenv("STUDIO_BATCH_POLL_S", "0.1")
    api = fresh_emulator(batch_delay_s=0.3)
    at = _typed(studio_app(api, model_key="pro"))
    at.segmented_control(key=LANE).set_value(LANE_BATCH).run()
    at, variations = _variations_answered(at, 4)
    half = PRO.estimate_cost("1K", 4) / 2
    assert f"Generate all 4: estimated ${half:.3f} for 4 images on the Batch lane." in [c.value for c in at.caption]
    asked = api.stats()["requests"]["generateContent"]  # the text model's answer with the variations
    at.button(key="assist_generate_all").click().run()
    assert not at.exception and not at.error
    assert api.stats()["requests"]["batchGenerateContent"] == 1, "one batch for the set"
    assert api.stats()["requests"]["generateContent"] == asked, "no image sent one by one"
    (batch,) = api.state.batches._batches.values()
    assert [item["contents"][-1]["parts"][0]["text"] for _key, item in batch.items] == list(variations)
    (job,) = services.get_runner().jobs_for(next(iter(services.get_runner().namespaces())))
    assert job.lane == "batch" and job.count == 4
    assert at.segmented_control(key=LANE).value == "Now", "as after Generate: a batch is a choice made per batch"
    made = services.get_store().get_many(job.namespace, job.entry_ids)
    assert [(e.prompt, e.status) for e in made] == [(text, "ok") for text in variations]


def test_describe_proposes_a_role_and_use_it_sets_it(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.file_uploader(key="reference_uploader_0").set_value([("sky.png", _png((90, 120, 200)), "image/png")]).run()
    describe = next(b for b in at.button if b.label == "Describe")
    assert "estimated $" in describe.help
    at = _typed(at)
    assert any("· Describe a reference $" in c.value for c in at.caption), "its cost is shown before it runs"
    describe = next(b for b in at.button if b.label == "Describe")
    describe.click().run()
    at = _answered(at)
    assert any(c.value.startswith("Background: ") for c in at.caption)
    next(b for b in at.button if b.label == "Use background").click().run()
    assert at.session_state["references"][0].role == "background"  # the description now travels with Improve
    at.button(key="assist_improve").click().run()
    at = _answered(at)
    assert "the background from image 1" in at.session_state["assist_result"].prompt


def test_offline_is_labelled_emulated(studio_app, emulator) -> None:
    at = studio_app(emulator, connection=Connection(mode="offline", api_key="test-key", base_url=emulator.base_url))
    at = _typed(at)
    assert any("emulated, nothing billed" in c.value for c in at.caption)
    at.button(key="assist_improve").click().run()
    at = _answered(at)
    assert any("from usage" in c.value and "emulated" in c.value for c in at.caption)


def test_each_call_counts_towards_the_daily_spend_cap(studio_app, emulator) -> None:
    at = _typed(studio_app(emulator))
    at.secrets["team"] = {"daily_spend_cap_usd": 0.0008}  # room for one call's estimate (about $0.0005), not two
    at.run()
    at.button(key="assist_improve").click().run()
    at = _answered(at)
    assert "assist_result" in at.session_state and not at.error
    served = emulator.stats()["requests"].get("generateContent", 0)
    at.button(key="assist_keep").click().run()
    at.button(key="assist_improve").click().run()
    assert any("Daily spending limit" in e.value and "Nothing was sent" in e.value for e in at.error)
    assert emulator.stats()["requests"].get("generateContent", 0) == served, "the second call was never sent"
    assert at.text_area(key="prompt").value == PROMPT


def test_one_variation_can_replace_the_prompt(studio_app, emulator) -> None:
    at = _typed(studio_app(emulator))
    at.button(key="assist_variations").click().run()
    at = _answered(at)
    second = at.session_state["assist_result"].variations[1]
    at.button(key="assist_use_variation_2").click().run()
    assert at.text_area(key="prompt").value == second


def test_the_click_returns_before_the_model_answers(studio_app, emulator) -> None:
    slow = "a slow one [[fault:slow=2]]"
    at = _typed(studio_app(emulator), slow)
    at.button(key="assist_improve").click().run()
    assert not at.session_state["assist_call"]["future"].done(), "the page was drawn while the call was out"
    assert any(c.value.startswith("Asking Gemini 3.1 Flash-Lite") for c in at.caption)
    assert at.button(key="assist_improve").disabled
    at = _answered(at)
    assert at.session_state["assist_result"].prompt.startswith("A slow one")
