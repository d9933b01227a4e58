"""The live panel in AppTest: Generate returns at once, work shows while it runs, cancel, adopt, drafts."""

from __future__ import annotations

import re
import time

from streamlit.testing.v1 import AppTest

from components import services
from components.state import LIVE_ACTIVE
from studio.history import HistoryStore, namespace_for


def _runner_idle(timeout_s: float = 30.0) -> None:
    runner = services.get_runner()
    deadline = time.monotonic() + timeout_s
    while any(runner.has_active(ns) for ns in runner.namespaces()):
        assert time.monotonic() < deadline, "the runner never finished"
        time.sleep(0.02)


def _generate(at: AppTest, prompt: str) -> AppTest:
    at.text_area(key="prompt").input(prompt)
    return at.button(key="generate").click().run()


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def test_generate_returns_at_once_and_the_page_stays_usable(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(latency_s=30)
    at = studio_app(api, settled=False, count=2)
    started = time.monotonic()
    at = _generate(at, "two slow lighthouses")
    assert time.monotonic() - started < 25, "the script did not wait for a 30 s answer"
    assert not at.exception
    assert at.session_state[LIVE_ACTIVE] is True, "the panel polls while work runs"
    assert _labels(at).count("Cancel job") == 1 and _labels(at).count("Cancel") == 2
    assert any("Sent to the model" in h.proto.body or "Waiting in line" in h.proto.body for h in at.get("html"))
    at = _generate(at, "a second batch queued behind the first")
    assert _labels(at).count("Cancel job") == 2, "a second batch can be queued while the first runs"
    assert at.text_area(key="prompt").value == "a second batch queued behind the first"
    for button in [b for b in at.button if b.label == "Cancel job"]:
        button.click().run()
    _runner_idle()
    at.run()
    assert at.session_state[LIVE_ACTIVE] is False, "polling stops when nothing runs"
    assert _labels(at).count("Retry") == 4, "two batches of two, all cancelled"
    assert all("may still be billed" in e.value for e in at.error)


def test_cancel_one_image_keeps_the_others(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(latency_s=1.5)
    at = studio_app(api, settled=False, count=2)
    at = _generate(at, "one to cancel, one to keep")
    next(b for b in at.button if b.label == "Cancel").click().run()
    _runner_idle()
    at.run()
    assert _labels(at).count("Open") == 1 and _labels(at).count("Retry") == 1
    assert any("1 of 2 images ready" in c.value and "1 cancelled" in c.value for c in at.caption)


def test_a_new_session_of_the_same_identity_adopts_running_work(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(latency_s=1.0)
    first = studio_app(api, settled=False, count=3)
    first = _generate(first, "three boats for two sessions")
    second = studio_app(api, settled=False)  # a reload: a new session, the same key
    assert len(second.session_state["session_entry_ids"]) == 3, "the running batch shows again"
    assert _labels(second).count("Cancel job") == 1
    _runner_idle()
    second.run()
    assert _labels(second).count("Open") == 3, "its results land in the new session's grid"


def test_a_batch_that_finished_during_the_reload_still_shows(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(latency_s=0.2)
    first = studio_app(api, settled=False, count=2)
    _generate(first, "two quick boats, done before the reload connects")
    _runner_idle()
    second = studio_app(api, settled=False)  # the reload connects after the runner has finished
    assert len(second.session_state["session_entry_ids"]) == 2, "a batch the runner still holds is found again"
    assert _labels(second).count("Open") == 2


def test_drafts_show_while_the_image_is_made(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(latency_s=8.0, draft_timing=(0.05, 0.1))  # a wide window between draft and image
    at = studio_app(api, settled=False, include_thoughts=True)
    at = _generate(at, "a thinking fox")
    runner = services.get_runner()
    namespace = runner.namespaces()[0]
    deadline = time.monotonic() + 20
    while not any(i.draft is not None for job in runner.jobs_for(namespace) for i in job.images):
        assert time.monotonic() < deadline, "no draft arrived"
        time.sleep(0.02)
    at.run()
    captions = [caption for image in at.get("image") for caption in image.captions]
    assert any(caption.startswith("Draft ") for caption in captions), "the draft is drawn before the final image"
    assert any(c.value.startswith("💭 ") for c in at.caption), "and what the model is thinking about"
    _runner_idle()
    at.run()
    assert _labels(at).count("Open") == 1


def test_text_that_is_not_ours_is_shown_literally(studio_app, fresh_emulator) -> None:
    api = fresh_emulator()
    prompt = "![x](http://127.0.0.1:9/t.png) [a](javascript:alert(1)) <img src=x onerror=alert(1)> [[fault:image_safety]]"
    at = studio_app(api)
    at = _generate(at, prompt)
    shown = [c.value for c in at.caption] + [e.value for e in at.error]
    card = next(v for v in shown if "javascript" in v)
    # a word holding an address is a code span (markdown's autolinks read escaped text too), the rest escaped
    assert card.startswith("`![x](http://127.0.0.1:9/t.png)`") and "\\<img" in card, "markdown and HTML are escaped"
    for value in shown:
        outside_code = re.sub(r"(`+).*?\1", "", value)
        assert "![x](" not in outside_code and "](javascript:" not in outside_code


def test_a_missing_image_file_shows_a_placeholder_and_keeps_the_entry(studio_app, fresh_emulator,
                                                                     isolated_studio) -> None:
    api = fresh_emulator()
    at = _generate(studio_app(api), "a file that will vanish")
    for path in isolated_studio.rglob("*.png"):
        path.unlink()
    for path in isolated_studio.rglob("*.thumb.jpg"):
        path.unlink()
    at.run()
    assert not at.exception
    assert any("Image file missing" in w.value for w in at.warning)
    assert "Open" in _labels(at)


def test_session_totals_come_from_recorded_usage(studio_app, fresh_emulator, isolated_studio) -> None:
    api = fresh_emulator()
    at = _generate(studio_app(api, model_key="pro", count=2), "two priced lighthouses")  # Pro's price table
    total = next(c.value for c in at.sidebar.caption if c.value.startswith("This session:"))
    spent = float(total.split("**$")[1].split("**")[0])
    estimated = float(total.split("estimated $")[1].split(" ")[0])
    assert abs(estimated - 2 * 0.1344) < 0.001, "the price table: $0.1344 per 1K image"
    store = HistoryStore.open(data_dir=isolated_studio)
    namespace = namespace_for(at.session_state["connection"], isolated_studio)
    recorded = sum(e.cost_usd for e in store.get_many(namespace, at.session_state["session_entry_ids"]))
    store.close()
    assert recorded > 0 and abs(spent - recorded) < 0.001, "the total is the sum of the recorded costs"


def test_the_thinking_shows_as_its_latest_headline() -> None:
    from components.plain import thought_headline

    thinking = "**Checking the references**\n\nI'm composing…\n\n**Sharpening the details**\n\nI'm checking…"
    assert thought_headline(thinking) == "Sharpening the details"
    assert thought_headline("no headings here\nlast line") == "last line"
    assert thought_headline("") == ""
