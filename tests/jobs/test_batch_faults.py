"""Paid work under faults, on SQLite and PostgreSQL: submit is all or nothing, a brief error never throws away a
finished batch (and a lasting one keeps it for a later resume), two sessions resuming one batch follow it once,
a result never overwrites an entry that was ended meanwhile, and inline answers are matched by key or by order."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from studio.history import HistoryStore
from studio.jobs import ImageState, JobRunner, RunnerLimits
from studio.jobs.batch_lane import MISSING_MESSAGE, _read_lines, inline_answers
from studio.request import GenerationRequest

from .test_runner import PRO, key_source, request, wait_job, wait_until

FAST = RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3, batch_collect_attempts=3)


@pytest.fixture
def shared(db_url: str, tmp_path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore.open(db_url, data_dir=tmp_path / "data")
    yield store
    store.close()


@pytest.fixture
def fast_runner() -> Iterator[JobRunner]:
    runner = JobRunner(limits=FAST)
    yield runner
    runner.close()


def failing(times: int, real: Callable[..., Any], when: Callable[..., bool] = lambda *a: True) -> Callable[..., Any]:
    """``real``, except that its first ``times`` calls that match ``when`` raise a brief database error."""
    left = [times]

    def call(*args: Any, **kwargs: Any) -> Any:
        if left[0] and when(*args):
            left[0] -= 1
            raise sqlite3.OperationalError("database is locked")
        return real(*args, **kwargs)

    return call


@pytest.mark.parametrize("lane", ["now", "batch"])
def test_submit_is_all_or_nothing(fresh_emulator, fast_runner: JobRunner, shared: HistoryStore, lane: str) -> None:
    server = fresh_emulator()
    insert, written = shared._insert, []

    def full_disk_at_the_third(row: dict, references: Any) -> None:
        written.append(row["id"])
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        insert(row, references)

    shared._insert = full_disk_at_the_third  # type: ignore[method-assign]
    with pytest.raises(OSError):
        fast_runner.submit("ana", request("four mugs", count=4, lane=lane), shared, key_source(server))
    assert len(written) == 3, "it failed at the third image"
    assert shared.list_entries("ana") == [], "no entry is left running that nothing would end"
    assert shared.batches.open_for("ana") == [] and server.stats()["served"] == 0


def test_a_brief_claim_error_never_throws_away_a_finished_batch(fresh_emulator, fast_runner: JobRunner,
                                                                 shared: HistoryStore) -> None:
    server = fresh_emulator(batch_delay_s=0.3)
    shared.batches.claim = failing(1, shared.batches.claim)  # type: ignore[method-assign]
    job = fast_runner.submit("ana", request("three cups", count=3, lane="batch"), shared, key_source(server))
    done = wait_job(fast_runner, job.id)
    assert [i.state for i in done.images] == [ImageState.DONE] * 3
    assert [e.status for e in shared.get_many("ana", done.entry_ids)] == ["ok"] * 3
    assert shared.batches.get(job.id).state == "collected"


def test_a_failure_recording_one_answer_is_retried_not_called_unanswered(fresh_emulator, fast_runner: JobRunner,
                                                                        shared: HistoryStore) -> None:
    server = fresh_emulator(batch_delay_s=0.3)
    job = fast_runner.submit("ana", request("three bowls", count=3, lane="batch"), shared, key_source(server))
    second = job.entry_ids[1]
    shared.get = failing(1, shared.get, lambda ns, entry_id, *rest: entry_id == second)  # type: ignore[method-assign]
    done = wait_job(fast_runner, job.id)
    assert [i.state for i in done.images] == [ImageState.DONE] * 3
    assert all(MISSING_MESSAGE not in i.message for i in done.images), "Google did answer it"
    assert [e.status for e in shared.get_many("ana", done.entry_ids)] == ["ok"] * 3


def test_a_lasting_failure_keeps_the_batch_open_for_a_later_resume(fresh_emulator, fast_runner: JobRunner,
                                                                   shared: HistoryStore) -> None:
    server = fresh_emulator(batch_delay_s=0.3)
    claim = shared.batches.claim
    shared.batches.claim = failing(99, claim)  # type: ignore[method-assign]
    job = fast_runner.submit("ana", request("two jugs", count=2, lane="batch"), shared, key_source(server))
    done = wait_job(fast_runner, job.id)
    assert all("could not record" in i.message and "kept at Google" in i.message for i in done.images)
    assert [e.status for e in shared.get_many("ana", done.entry_ids)] == ["running"] * 2, "not failed for good"
    record = shared.batches.get(job.id)
    assert record is not None and record.collected_at is None and record.collector is None, "open, unclaimed"
    assert "could not record" in record.message
    shared.batches.claim = claim  # type: ignore[method-assign]
    assert fast_runner.resume_batches("ana", shared, key_source(server)) == 1, "a reload resumes it"
    done = wait_job(fast_runner, job.id)
    assert [i.state for i in done.images] == [ImageState.DONE] * 2
    assert [e.status for e in shared.get_many("ana", done.entry_ids)] == ["ok"] * 2


def test_two_sessions_resuming_one_batch_follow_it_once(fresh_emulator, shared: HistoryStore) -> None:
    server = fresh_emulator(batch_delay_s=0.5)
    sender = JobRunner(limits=FAST, owner="sender")
    job = sender.submit("ana", request("two kites", count=2, lane="batch"), shared, key_source(server))
    wait_until(lambda: shared.batches.get(job.id).name is not None, what="the batch to reach Google")
    sender.close()
    get_many = shared.get_many

    def slow_reads(*args: Any) -> Any:  # a loaded database: two tabs reconnecting at once overlap here
        time.sleep(0.3)
        return get_many(*args)

    shared.get_many = slow_reads  # type: ignore[method-assign]
    runner = JobRunner(limits=FAST, owner="server")
    try:
        with ThreadPoolExecutor(2) as tabs:
            resumed = list(tabs.map(lambda _: runner.resume_batches("ana", shared, key_source(server)), range(2)))
        assert sorted(resumed) == [0, 1], "one tab resumes it, the other finds it taken"
        assert len(runner.jobs_for("ana")) == 1
        done = wait_job(runner, job.id)
        assert [i.state for i in done.images] == [ImageState.DONE] * 2
    finally:
        runner.close()


def test_a_result_never_overwrites_an_entry_ended_meanwhile(shared: HistoryStore) -> None:
    from tests.history.conftest import ok_result

    req = GenerationRequest(prompt="a cancelled vase", model_id=PRO)
    entry = shared.start_entry("ana", req, 0, batch_id="b")
    assert shared.end_entry("ana", entry.id, "cancelled", "cancelled", "Cancelled.")
    after = shared.finish_entry("ana", entry.id, req, ok_result(req))
    assert after.status == "cancelled" and after.failure_message == "Cancelled.", "the cancel stands"


def _answer(text: str) -> types.GenerateContentResponse:
    return types.GenerateContentResponse(candidates=[types.Candidate(content=types.Content(
        role="model", parts=[types.Part(text=text)]))])


def test_inline_answers_are_matched_by_key_and_by_order_without_one() -> None:
    keys = ["e1", "e2", "e3"]
    shuffled = [types.InlinedResponse(response=_answer("three"), metadata={"key": "e3"}),
                types.InlinedResponse(response=_answer("one"), metadata={"key": "e1"}),
                types.InlinedResponse(error=types.JobError(code=13, message="internal"), metadata={"key": "e2"})]
    matched = {key: (answer, error) for key, answer, error in inline_answers(shuffled, keys)}
    assert matched["e3"][0]["candidates"][0]["content"]["parts"][0]["text"] == "three"
    assert matched["e1"][0]["candidates"][0]["content"]["parts"][0]["text"] == "one"
    assert matched["e2"] == (None, {"code": 13, "message": "internal"})
    keyless = [types.InlinedResponse(response=_answer(word)) for word in ("one", "two", "three")]
    texts = {key: answer["candidates"][0]["content"]["parts"][0]["text"]
             for key, answer, _ in inline_answers(keyless, keys)}
    assert texts == {"e1": "one", "e2": "two", "e3": "three"}, "Google left the keys out: the order decides"


def test_answer_file_lines_without_a_key_are_matched_by_order(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in (
        {"key": "e1", "response": {"n": 1}}, {"response": {"n": 2}}, {"error": {"code": 13}})) + "\n")
    assert list(_read_lines(str(path), ["e1", "e2", "e3"])) == [
        ("e1", {"n": 1}, None), ("e2", {"n": 2}, None), ("e3", None, {"code": 13})]
