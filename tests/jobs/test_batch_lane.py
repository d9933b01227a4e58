"""The batch lane against the emulator's Batch API over real HTTP: inline and file sources, cancel, partial
failures, whole-batch failure, a process restart in the middle (collected once), two collectors, half price."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.catalogue import DEFAULT_CATALOGUE
from studio.credentials import Connection
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore
from studio.jobs import CredentialSource, ImageState, JobRunner, RunnerLimits
from studio.request import ValidationError
from tests.conftest import TEST_KEY

from .test_runner import request, wait_job, wait_until

FAST = RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3)


def key_source(server: EmulatorServer) -> CredentialSource:
    return CredentialSource(Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    r = JobRunner(limits=FAST)
    yield r
    r.close()


def test_a_20_image_inline_batch_lands_in_history_at_half_price(fresh_emulator, runner, store) -> None:
    server = fresh_emulator(batch_delay_s=0.6)
    job = runner.submit("local", request("product shot of a teapot", count=20, lane="batch", seed=7), store,
                        key_source(server))
    assert job.lane == "batch" and job.active
    assert server.stats()["requests"].get("generateContent", 0) == 0
    done = wait_job(runner, job.id)
    assert [i.state for i in done.images] == [ImageState.DONE] * 20
    entries = store.get_many("local", done.entry_ids)
    assert [e.status for e in entries] == ["ok"] * 20
    assert [e.settings["seed"] for e in entries] == [7 + i for i in range(20)], "image i keeps seed + i"
    assert all(store.read_image("local", e.id) for e in entries)
    stats = server.stats()["requests"]
    assert stats["batchGenerateContent"] == 1 and stats.get("generateContent", 0) == 0
    spec = DEFAULT_CATALOGUE.resolve(request("x").model_id)
    assert entries[0].estimated_cost_usd == pytest.approx(spec.estimate_cost("1K", 1) / 2)
    full = spec.cost_from_usage("1K", entries[0].prompt_tokens, entries[0].output_tokens, entries[0].thoughts_tokens, 1)
    assert entries[0].cost_usd == pytest.approx(full / 2, rel=1e-3), "Google bills the batch lane at half"
    record = store.batches.get(job.id)
    assert record is not None and record.source == "inline" and record.state == "collected"
    assert "batches/" in (record.name or "") and TEST_KEY not in repr(record)


def test_a_60_image_batch_goes_as_a_file_and_partial_failures_keep_the_successes(fresh_emulator, runner,
                                                                                  store) -> None:
    server = fresh_emulator(batch_delay_s=0.5)
    job = runner.submit("local", request("sixty mugs [[fault:server_error*1]]", count=60, lane="batch"), store,
                        key_source(server))
    done = wait_job(runner, job.id, timeout_s=60)
    record = store.batches.get(job.id)
    assert record is not None and record.source == "file", "over 20 images: a JSONL file, answered as a file"
    states = [i.state for i in done.images]
    assert states.count(ImageState.FAILED) == 1 and states.count(ImageState.DONE) == 59
    failed = next(e for e in store.get_many("local", done.entry_ids) if e.status != "ok")
    assert "Google's batch could not make this image" in (failed.failure_message or "")
    assert server.stats()["requests"]["batchGenerateContent"] == 1


def test_cancel_cancels_the_batch_at_google(fresh_emulator, runner, store) -> None:
    server = fresh_emulator(batch_delay_s=30)
    job = runner.submit("local", request("never made", count=3, lane="batch"), store, key_source(server))
    wait_until(lambda: store.batches.get(job.id).name is not None, what="the batch to reach Google")
    assert runner.cancel(job.id, 0, namespace="local") == 0, "a batch cannot lose a single image"
    assert runner.cancel(job.id, namespace="local") == 3, "returns at once: the runner cancels at Google"
    done = wait_job(runner, job.id)
    assert [i.state for i in done.images] == [ImageState.CANCELLED] * 3
    assert all("may still be billed" in i.message for i in done.images), "never says they were not billed"
    assert server.stats()["requests"]["batchCancel"] == 1
    assert [e.status for e in store.get_many("local", done.entry_ids)] == ["cancelled"] * 3


@pytest.mark.parametrize(("marker", "words"), [("batch_expired", "expired"), ("batch_failed", "failed")])
def test_a_batch_google_ends_without_answers_says_why(fresh_emulator, runner, store, marker: str, words: str) -> None:
    server = fresh_emulator(batch_delay_s=0.2)
    job = runner.submit("local", request(f"doomed [[fault:{marker}]]", count=2, lane="batch"), store,
                        key_source(server))
    done = wait_job(runner, job.id)
    assert [i.state for i in done.images] == [ImageState.FAILED] * 2
    assert all(words in i.message for i in done.images)
    assert store.batches.get(job.id).state == marker.removeprefix("batch_")


def test_a_restart_in_the_middle_collects_once_after_reconnecting(fresh_emulator, tmp_path: Path) -> None:
    server = fresh_emulator(batch_delay_s=2.0)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first_store = HistoryStore.open(url, data_dir=tmp_path / "data")
    first = JobRunner(limits=FAST, owner="first")
    job = first.submit("alice", request("five kites", count=5, lane="batch"), first_store, key_source(server))
    wait_until(lambda: first_store.batches.get(job.id).name is not None, what="the batch to reach Google")
    first.close()  # the process ends; the batch goes on at Google
    first_store.close()
    second_store = HistoryStore.open(url, data_dir=tmp_path / "data")
    second = JobRunner(limits=FAST, owner="second")
    twin = JobRunner(limits=FAST, owner="twin")  # a second replica of the restarted studio
    try:
        assert [e.status for e in second_store.list_entries("alice")] == ["running"] * 5, "not interrupted"
        assert second.resume_batches("alice", second_store, key_source(server)) == 1
        assert twin.resume_batches("alice", second_store, key_source(server)) == 1
        assert second.resume_batches("alice", second_store, key_source(server)) == 0, "picked up once per process"
        done, other = wait_job(second, job.id), wait_job(twin, job.id)
        assert [i.state for i in done.images] == [ImageState.DONE] * 5
        assert [i.state for i in other.images] == [ImageState.DONE] * 5
        entries = second_store.list_entries("alice")
        assert len(entries) == 5 and all(e.status == "ok" for e in entries)
        assert len({e.response_id for e in entries}) == 5, "each answer recorded once"
        assert second_store.batches.open_for("alice") == [], "nothing left to collect"
    finally:
        second.close()
        twin.close()
        second_store.close()


def test_a_refused_credential_waits_for_the_person_to_reconnect(fresh_emulator, runner, store) -> None:
    server = fresh_emulator(batch_delay_s=0.3)
    source = key_source(server)
    job = runner.submit("local", request("two lamps", count=2, lane="batch"), store, source)
    wait_until(lambda: store.batches.get(job.id).name is not None, what="the batch to reach Google")
    source.update(Connection(mode="api_key", api_key="revoked-key", base_url=server.base_url))
    wait_until(lambda: "reconnect to collect 2 images" in runner.view(job.id).images[0].note, what="the note")
    runner.update_credentials("local", Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))
    done = wait_job(runner, job.id)
    assert [i.state for i in done.images] == [ImageState.DONE] * 2


def test_vertex_connections_are_told_the_batch_lane_needs_the_gemini_api(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    vertex = CredentialSource(Connection(mode="vertex", access_token="t", project="p", location="global",
                                         base_url=server.base_url))
    with pytest.raises(ValidationError) as refused:
        runner.submit("local", request("on vertex", count=2, lane="batch"), store, vertex)
    assert "Vertex AI" in refused.value.problems[0] and "choose Now" in refused.value.problems[0]
    assert store.count_entries("local") == 0 and server.stats()["served"] == 0, "refused before anything is sent"


def test_an_image_another_collector_recorded_is_not_recorded_again(fresh_emulator, runner, store) -> None:
    server = fresh_emulator(batch_delay_s=1.0)
    job = runner.submit("local", request("two vases", count=2, lane="batch"), store, key_source(server))
    first = job.entry_ids[0]
    assert store.end_entry("local", first, "failed", "batch_error", "recorded by the other replica")
    done = wait_job(runner, job.id)
    assert store.get("local", first).failure_message == "recorded by the other replica", "never overwritten"
    assert store.get("local", done.entry_ids[1]).status == "ok"
