"""Paid work across two real processes on one database (SQLite and PostgreSQL): a collector killed mid-collection
is taken over once its lease runs out (every image recorded exactly once); a process that cannot record a finished
batch leaves it open for another to collect; a submit refused half-way leaves nothing running that no process would
ever end; and a slow purge in one process never starves its heartbeats (another never marks its live work
interrupted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.history import HistoryStore
from studio.jobs import ImageState, JobRunner, RunnerLimits, interrupt_abandoned
from tests.conftest import TEST_KEY

from .test_runner import PRO, key_source, request, wait_job, wait_until

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 1.0


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
        child.log.close()  # type: ignore[attr-defined]


def start_child(children: list[subprocess.Popen], scenario: str, **args: object) -> subprocess.Popen:
    """Start a second studio process; its log goes to a file (a full pipe would stall it), kept as ``child.log``."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by the children fixture)
    child = subprocess.Popen([sys.executable, "-m", "tests.jobs.child", scenario, json.dumps(args)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=log, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    child.log = log  # type: ignore[attr-defined]
    children.append(child)
    line = child.stdout.readline() if child.stdout else ""
    assert line.strip() == "ready", f"the child did not start: {line}{logged(child)}"
    return child


def logged(child: subprocess.Popen) -> str:
    log = child.log  # type: ignore[attr-defined]
    log.seek(0)
    return str(log.read())


def _sent_then_ended(store: HistoryStore, server, prompt: str, count: int):
    """A batch sent to Google by a process that then ends (Google goes on making it): nobody collects it yet."""
    sender = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3), owner="sender")
    job = sender.submit("alice", request(prompt, count=count, lane="batch"), store, key_source(server))
    wait_until(lambda: store.batches.get(job.id).name is not None, what="the batch to reach Google")
    sender.close()
    return job


def test_a_collector_killed_mid_collection_is_taken_over_and_every_image_is_recorded_once(
        fresh_emulator, db_url: str, tmp_path: Path, children: list[subprocess.Popen]) -> None:
    server = fresh_emulator(batch_delay_s=0.5)
    data = tmp_path / "data"
    store = HistoryStore.open(db_url, data_dir=data)
    job = _sent_then_ended(store, server, "six kites", 6)
    collector = start_child(children, "collect", url=db_url, data_dir=str(data), base_url=server.base_url,
                            key=TEST_KEY, namespace="alice", lease_s=LEASE_S, record_then_hang=2)
    wait_until(lambda: [e.status for e in store.list_entries("alice")].count("ok") == 2,
               what="the child to record two images, then hang")
    first_two = {e.id: e.response_id for e in store.list_entries("alice") if e.status == "ok"}
    watcher = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3, batch_lease_s=LEASE_S),
                        owner="watcher")
    try:
        assert watcher.resume_batches("alice", store, key_source(server)) == 1
        time.sleep(LEASE_S * 2)  # longer than a lease: the live collector keeps renewing it
        record = store.batches.get(job.id)
        assert record is not None and record.collector == "child", "a live collector's lease is renewed"
        assert [e.status for e in store.list_entries("alice")].count("ok") == 2, "nobody else records meanwhile"
        collector.send_signal(signal.SIGKILL)  # the collector dies mid-collection
        collector.wait(timeout=10)
        done = wait_job(watcher, job.id, timeout_s=60)
        assert [i.state for i in done.images] == [ImageState.DONE] * 6, "the lease ran out: the watcher took over"
        entries = store.list_entries("alice")
        assert len(entries) == 6 and all(e.status == "ok" for e in entries)
        assert len({e.response_id for e in entries}) == 6, "each answer recorded once"
        assert {e.id: e.response_id for e in entries if e.id in first_two} == first_two, "never recorded again"
        # the record is closed right after the last image is recorded (the job's images end first)
        wait_until(lambda: store.batches.open_for("alice") == [], what="the batch record to close")
        assert store.batches.get(job.id).state == "collected"
    finally:
        watcher.close()
        store.close()


def test_a_slow_purge_never_starves_the_heartbeats(fresh_emulator, db_url: str, tmp_path: Path,
                                                   children: list[subprocess.Popen]) -> None:
    server = fresh_emulator()
    data = tmp_path / "data"
    store = HistoryStore.open(db_url, data_dir=data)
    try:
        start_child(children, "now", url=db_url, data_dir=str(data), base_url=server.base_url, key=TEST_KEY,
                    namespace="bob", prompt="two slow lamps [[fault:slow=3]]", model_id=PRO, count=2,
                    heartbeat_s=0.2, stale_s=1.5, purge_s=4.0)
        assert [e.status for e in store.list_entries("bob")] == ["running"] * 2
        deadline = time.monotonic() + 2.0  # past the stale limit, while the child's purge is stuck
        while time.monotonic() < deadline:
            assert interrupt_abandoned(store, "another replica", 1.5) == 0, "live work marked interrupted"
            time.sleep(0.1)
        wait_until(lambda: [e.status for e in store.list_entries("bob")] == ["ok"] * 2, timeout_s=30,
                   what="the child to record both images")
    finally:
        store.close()


def test_a_batch_one_process_could_not_record_is_collected_by_another(
        fresh_emulator, db_url: str, tmp_path: Path, children: list[subprocess.Popen]) -> None:
    server = fresh_emulator(batch_delay_s=0.3)
    data = tmp_path / "data"
    store = HistoryStore.open(db_url, data_dir=data)
    job = _sent_then_ended(store, server, "three cups", 3)
    start_child(children, "collect", url=db_url, data_dir=str(data), base_url=server.base_url, key=TEST_KEY,
                namespace="alice", lease_s=LEASE_S, record_then_hang=99, claim_fails=True)
    wait_until(lambda: "could not record" in store.batches.get(job.id).message, what="the child to give up")
    assert [e.status for e in store.list_entries("alice")] == ["running"] * 3, "a paid batch is not failed"
    assert store.batches.get(job.id).collected_at is None, "kept open for a later resume"
    other = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3), owner="other")
    try:
        assert other.resume_batches("alice", store, key_source(server)) == 1
        done = wait_job(other, job.id)
        assert [i.state for i in done.images] == [ImageState.DONE] * 3
        assert [e.status for e in store.list_entries("alice")] == ["ok"] * 3
    finally:
        other.close()
        store.close()


def test_a_batch_submit_refused_half_way_leaves_nothing_running(fresh_emulator, db_url: str, tmp_path: Path,
                                                                children: list[subprocess.Popen]) -> None:
    """No process ends a batch entry (they are Google's to finish), so a half-written submit would stay running
    for good; the Now lane's all-or-nothing submit is in test_batch_faults."""
    server = fresh_emulator()
    data = tmp_path / "data"
    child = start_child(children, "submit", url=db_url, data_dir=str(data), base_url=server.base_url, key=TEST_KEY,
                        namespace="carl", prompt="four mugs", model_id=PRO, count=4, lane="batch", fail_at=3)
    out = child.stdout.read() if child.stdout else ""  # through the pipe's reader: "ready" may have brought it
    child.wait(timeout=60)
    assert out.strip() == "refused", logged(child)
    store = HistoryStore.open(db_url, data_dir=data)
    try:
        assert store.running_entries() == [], "nothing any process would ever end"
        assert store.list_entries("carl") == [] and store.batches.open_for("carl") == []
        assert server.stats()["served"] == 0
    finally:
        store.close()
