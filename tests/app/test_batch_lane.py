"""The batch lane in AppTest: the lane beside Generate, the half-price estimate, more images, results in History."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from components import services
from components.state import LANE, LANE_BATCH, LANE_NOW
from studio.catalogue import PRO
from tests.jobs.test_runner import wait_until

from .conftest import drawn
from .test_live_jobs import _runner_idle


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_BATCH_POLL_S", "0.1")


def _estimate(at) -> str:
    return next(m.value for m in at.metric if m.label == "Estimated cost")


def test_the_batch_lane_halves_the_estimate_and_takes_more_images(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=0.5)
    at = studio_app(api, model_key="pro")
    assert at.segmented_control(key=LANE).value == LANE_NOW and at.segmented_control(key=LANE).options[:2] == ["Now", "Batch"]
    assert at.slider(key="count").max == 8
    at.segmented_control(key=LANE).set_value(LANE_BATCH).run()
    assert at.slider(key="count").max == 200, "Google's batch takes many more images"
    at.slider(key="count").set_value(12).run()
    assert _estimate(at) == f"${PRO.estimate_cost('1K', 12) / 2:.3f}", "the estimate is the batch price"
    at.text_area(key="prompt").input("twelve product shots of a lamp")
    at.button(key="generate").click().run()
    assert not at.exception and not at.error
    assert [b.label for b in at.button].count("Open") == 12, "every image of the batch lands in the grid"
    at.switch_page("app_pages/history.py").run()
    assert "12 entries" in [c.value for c in at.caption]
    at.switch_page("app_pages/generate.py").run()
    assert at.segmented_control(key=LANE).value == LANE_NOW, "the lane does not stick after a batch is sent"
    assert at.slider(key="count").value == 8, "back in the Now lane: at most 8 at once"
    assert _estimate(at) == f"${PRO.estimate_cost('1K', 8):.3f}"


def _generate_batch(at, prompt: str):
    at.segmented_control(key=LANE).set_value(LANE_BATCH).run()
    at.text_area(key="prompt").input(prompt)
    return at.button(key="generate").click().run()


def _labels(at) -> list[str]:
    return [b.label for b in at.button]


def _page_text(at) -> str:
    return " ".join(drawn(at))


def test_a_private_session_is_refused_the_batch_lane_with_a_plain_reason(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=0.3)
    at = studio_app(api)
    at.toggle(key="private_session").set_value(True).run()
    at = _generate_batch(at, "a private batch of lamps")
    assert not at.exception
    assert any("not available in a private session" in e.value and "gone before" in e.value for e in at.error)
    assert at.text_area(key="prompt").value == "a private batch of lamps", "nothing typed is lost"
    assert api.stats()["requests"].get("batchGenerateContent", 0) == 0, "nothing was sent to Google"


def test_cancel_job_is_not_offered_once_google_has_finished(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=0.3)
    at = studio_app(api, settled=False, count=2)
    store, runner = services.shared_store(), services.get_runner()
    recording, finish = threading.Event(), store.finish_entry

    def held_finish(*args, **kwargs):  # the answers are being written (a slow disk): Google has finished
        recording.wait(timeout=30)
        return finish(*args, **kwargs)

    store.finish_entry = held_finish
    try:
        at = _generate_batch(at, "two paid mugs")
        wait_until(lambda: any(j.batch_state == "succeeded" for ns in runner.namespaces() for j in runner.jobs_for(ns)),
                   what="Google to finish the batch")
        at.run()
        assert "Cancel job" not in _labels(at), "the answers are paid: no cancel once Google has finished"
        assert "collecting" in _page_text(at)
    finally:
        recording.set()
        store.finish_entry = finish
    _runner_idle()
    at.run()
    assert _labels(at).count("Open") == 2


def test_cancelling_a_batch_runs_in_the_runner_and_shows_cancelling(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=30)
    at = studio_app(api, settled=False, count=2)
    store, runner = services.shared_store(), services.get_runner()
    closing, close = threading.Event(), store.batches.close

    def held_close(*args, **kwargs):  # recording the cancel is slow: the page must not wait for it
        closing.wait(timeout=30)
        return close(*args, **kwargs)

    store.batches.close = held_close
    try:
        at = _generate_batch(at, "two mugs to cancel")
        wait_until(lambda: any(j.batch_state == "pending" or j.batch_state == "running"
                               for ns in runner.namespaces() for j in runner.jobs_for(ns)),
                   what="the batch to reach Google")
        at.run()
        next(b for b in at.button if b.label == "Cancel job").click().run()
        assert not at.exception, "no TimeoutError reaches the page"
        assert "Cancelling…" in _page_text(at)
        assert "Cancel job" not in _labels(at), "cancelled once"
    finally:
        closing.set()
        store.batches.close = close
    _runner_idle()
    at.run()
    assert _labels(at).count("Retry") == 2
    assert at.error and all("may still be billed" in e.value for e in at.error), "never says not billed"
    assert api.stats()["requests"]["batchCancel"] == 1


def test_a_database_failure_while_submitting_keeps_nothing_half_made(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=0.3)
    at = studio_app(api, count=3)
    store = services.shared_store()
    insert, written = store._insert, []

    def locked_at_the_second(row, references):  # the database refuses the second image's row
        written.append(row["id"])
        if len(written) == 2:
            raise sqlite3.OperationalError("database is locked")
        insert(row, references)

    store._insert = locked_at_the_second
    try:
        at = _generate_batch(at, "three lamps, all or none")
    finally:
        store._insert = insert
    assert not at.exception
    assert any("could not be started" in e.value and "Nothing was sent" in e.value for e in at.error)
    assert at.text_area(key="prompt").value == "three lamps, all or none"
    assert len(written) == 2 and store.running_entries() == [], "no entry left running that nothing would end"
    assert api.stats()["requests"].get("batchGenerateContent", 0) == 0
