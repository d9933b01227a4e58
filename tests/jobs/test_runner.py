"""The job runner against the emulator over real HTTP: order, caps, queueing, cancel, faults, credentials."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studio.credentials import Connection
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore
from studio.jobs import CANCELLED_MESSAGE, INTERRUPTED_MESSAGE, CredentialSource, ImageState, JobRunner, RunnerLimits
from studio.jobs.janitor import interrupt_abandoned
from studio.request import GenerationRequest, ValidationError
from tests.conftest import TEST_KEY, TEST_TOKEN

PRO = "gemini-3-pro-image"


def request(prompt: str, count: int = 1, **kw: object) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, model_id=PRO, count=count, **kw)  # type: ignore[arg-type]


def key_source(server: EmulatorServer, key: str = TEST_KEY) -> CredentialSource:
    return CredentialSource(Connection(mode="api_key", api_key=key, base_url=server.base_url))


def wait_until(predicate, timeout_s: float = 30.0, what: str = "condition", state=lambda: "") -> None:
    """Poll with a deadline: the runner works on its own thread. ``state`` says what was seen, on failure."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what} {state()}".rstrip())


def wait_job(runner: JobRunner, job_id: str, timeout_s: float = 30.0):
    wait_until(lambda: not runner.view(job_id).active, timeout_s, f"job {job_id} to finish")
    return runner.view(job_id)


def test_submit_returns_at_once_and_every_image_lands_in_history(fresh_emulator, runner, store) -> None:
    server = fresh_emulator(latency_s=0.3)
    job = runner.submit("local", request("four lighthouses", count=4), store, key_source(server))
    assert job.active, "submit does not wait for the API"
    running = store.list_entries("local")
    assert sorted(e.status for e in running) == ["running"] * 4, "History shows the work at once"
    done = wait_job(runner, job.id)
    assert [i.state for i in done.images] == [ImageState.DONE] * 4
    entries = store.get_many("local", done.entry_ids)
    assert [e.status for e in entries] == ["ok"] * 4
    assert [e.settings["index"] for e in entries] == [0, 1, 2, 3]
    assert all(store.read_image("local", e.id) for e in entries)
    assert server.stats()["requests"]["generateContent"] == 4


def test_an_invalid_request_is_refused_before_anything_is_sent_or_recorded(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    with pytest.raises(ValidationError):
        runner.submit("local", request("   "), store, key_source(server))
    assert store.count_entries("local") == 0
    assert server.stats()["served"] == 0


def test_caps_per_identity_queue_the_rest_and_show_positions(fresh_emulator, store) -> None:
    server = fresh_emulator(latency_s=0.4)
    runner = JobRunner(limits=RunnerLimits(per_identity=2, per_process=3))
    try:
        first = runner.submit("alice", request("alice's five", count=5), store, key_source(server))
        positions = [i.queue_position for i in first.images]
        assert positions == [None, None, 1, 2, 3], "two go out, three wait in line"
        other = runner.submit("bob", request("bob's two", count=2), store, key_source(server))
        assert [i.state for i in other.images].count(ImageState.SENDING) == 1, "the process cap leaves bob one slot"
        wait_job(runner, first.id)
        wait_job(runner, other.id)
    finally:
        runner.close()
    assert server.stats()["max_in_flight"] == 3
    assert store.count_entries("alice", statuses=["ok"]) == 5
    assert store.count_entries("bob", statuses=["ok"]) == 2


def test_cancel_one_image_then_the_rest_of_the_job(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    job = runner.submit("local", request("slow harbour [[fault:slow=30]]", count=3), store, key_source(server))
    wait_until(lambda: server.stats()["in_flight"] == 3, what="three requests in flight")
    assert runner.cancel(job.id, 1, namespace="someone-else") == 0, "only the owner may cancel"
    assert runner.cancel(job.id, 1, namespace="local") == 1
    view = runner.view(job.id)
    assert [i.state for i in view.images] == [ImageState.SENDING, ImageState.CANCELLED, ImageState.SENDING]
    assert runner.cancel(job.id, namespace="local") == 2
    entries = store.get_many("local", runner.view(job.id).entry_ids)
    assert [e.status for e in entries] == ["cancelled"] * 3
    assert all(e.failure_message == CANCELLED_MESSAGE for e in entries)
    assert "may still be billed" in CANCELLED_MESSAGE


class FullDiskStore(HistoryStore):
    """A store whose disk fills up for one image: that image fails plainly, the rest land."""

    def finish_entry(self, namespace, entry_id, request, result):  # type: ignore[override]
        if result.index == 1:
            raise OSError(28, "No space left on device")
        return super().finish_entry(namespace, entry_id, request, result)


def test_a_store_error_fails_only_its_image(fresh_emulator, runner, tmp_path: Path) -> None:
    server = fresh_emulator()
    store = FullDiskStore.open(data_dir=tmp_path / "full")
    job = wait_job(runner, runner.submit("local", request("three boats", count=3), store, key_source(server)).id)
    assert [i.state for i in job.images] == [ImageState.DONE, ImageState.FAILED, ImageState.DONE]
    assert "disk is full" in job.images[1].message
    failed = store.get("local", job.images[1].entry_id)
    assert failed.status == "failed" and "disk is full" in (failed.failure_message or "")
    store.close()


class ExplodingStore(HistoryStore):
    def finish_entry(self, namespace, entry_id, request, result):  # type: ignore[override]
        if result.index == 0:
            raise RuntimeError("a bug")
        return super().finish_entry(namespace, entry_id, request, result)


def test_a_worker_exception_never_kills_the_loop_or_another_job(fresh_emulator, runner, tmp_path: Path,
                                                                store) -> None:
    server = fresh_emulator()
    broken = ExplodingStore.open(data_dir=tmp_path / "broken")
    bad = wait_job(runner, runner.submit("local", request("two kites", count=2), broken, key_source(server)).id)
    assert [i.state for i in bad.images] == [ImageState.FAILED, ImageState.DONE]
    good = wait_job(runner, runner.submit("local", request("after the bug"), store, key_source(server)).id)
    assert good.images[0].state is ImageState.DONE
    broken.close()


def test_drafts_and_thinking_arrive_live_and_are_kept_in_history(fresh_emulator, runner, store) -> None:
    server = fresh_emulator(latency_s=1.0)
    job = runner.submit("local", request("a thinking fox", include_thoughts=True), store, key_source(server))
    wait_until(lambda: runner.view(job.id).images[0].draft is not None, what="a live draft")
    live = runner.view(job.id).images[0]
    assert live.state is ImageState.DRAFTING and live.thought_text, "drafts and thoughts show before the image"
    done = wait_job(runner, job.id)
    assert done.images[0].state is ImageState.DONE and done.images[0].draft is None
    entry = store.get("local", done.images[0].entry_id)
    assert entry.thought_text and entry.status == "ok"
    drafts = store.read_drafts("local", entry.id)
    assert len(drafts) == done.images[0].drafts_seen >= 1
    assert server.stats()["requests"].get("streamGenerateContent") == 1


def test_an_expired_sign_in_is_renewed_once_and_the_job_goes_on(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    renewed: list[str] = []

    def renew(connection: Connection) -> Connection:
        renewed.append(connection.access_token or "")
        return Connection(mode="oauth", access_token=TEST_TOKEN, base_url=server.base_url, subject="s")

    source = CredentialSource(Connection(mode="oauth", access_token="expired", base_url=server.base_url,
                                         subject="s"), renew)
    job = wait_job(runner, runner.submit("google:s", request("renewed", count=2), store, source).id)
    assert [i.state for i in job.images] == [ImageState.DONE, ImageState.DONE]
    assert renewed and renewed[0] == "expired"
    assert source.connection.access_token == TEST_TOKEN, "later images send with the renewed token"


def test_a_credential_that_cannot_be_renewed_fails_the_rest_plainly(fresh_emulator, store) -> None:
    server = fresh_emulator()
    runner = JobRunner(limits=RunnerLimits(per_identity=1))
    try:
        source = CredentialSource(Connection(mode="oauth", access_token="expired", base_url=server.base_url,
                                             subject="s"))
        job = wait_job(runner, runner.submit("google:s", request("no renewal", count=3), store, source).id)
    finally:
        runner.close()
    assert [i.state for i in job.images] == [ImageState.FAILED] * 3
    assert all("Sign in again" in i.message for i in job.images)
    assert server.stats()["served"] == 1, "the same dead credential is not sent three times"


def test_credentials_are_never_written_anywhere(fresh_emulator, runner, tmp_path: Path) -> None:
    server = fresh_emulator(api_keys=frozenset({TEST_KEY, "AIzaSy-very-secret-key-0123456789"}))
    store = HistoryStore.open(data_dir=tmp_path / "scan")
    source = key_source(server, "AIzaSy-very-secret-key-0123456789")
    job = wait_job(runner, runner.submit("key:x", request("secret scan", count=2), store, source).id)
    assert all(i.state is ImageState.DONE for i in job.images)
    store.close()
    for path in (tmp_path / "scan").rglob("*"):
        if path.is_file():
            assert b"very-secret-key" not in path.read_bytes(), f"the key leaked into {path}"
    assert "very-secret" not in repr(source)


def test_images_land_in_completion_order_not_index_order(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    order: list[int] = []
    job = runner.submit("local", request("mixed [[fault:slow*1=1.5]]", count=3), store, key_source(server))
    seen = runner.version("local")
    deadline = time.monotonic() + 30
    while runner.view(job.id).active and time.monotonic() < deadline:
        runner.wait_for_change("local", seen, 1.0)
        seen = runner.version("local")
        order += [i.index for i in runner.view(job.id).images if i.state is ImageState.DONE and i.index not in order]
    assert sorted(order) == [0, 1, 2]
    elapsed = {i.index: i.elapsed_s for i in runner.view(job.id).images}
    slow = max(elapsed, key=elapsed.__getitem__)
    assert elapsed[slow] >= 1.5, "one request met the slow fault"
    assert order[-1] == slow, "the slow image lands last; the others do not wait for it"


def test_entries_left_running_by_a_dead_process_are_interrupted(tmp_path: Path, store) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_owner = f"{socket.gethostname()}|{dead.stdout.strip()}|abc"
    entry = store.start_entry("local", request("lost in a crash"), 0, batch_id="b", owner=dead_owner)
    alive = store.start_entry("local", request("someone else's, still beating"), 0, batch_id="c",
                              owner=f"{socket.gethostname()}|{os.getppid()}|def")
    assert interrupt_abandoned(store, "me", stale_after_s=90) == 1
    lost = store.get("local", entry.id)
    assert lost.status == "interrupted" and lost.failure_message == INTERRUPTED_MESSAGE
    assert store.get("local", alive.id).status == "running"
    assert interrupt_abandoned(store, "me", stale_after_s=0.0) == 1, "a stale heartbeat is interrupted too"


def test_submit_from_many_threads_keeps_every_image(fresh_emulator, runner, store) -> None:
    server = fresh_emulator(latency_s=0.05)
    ids: list[str] = []
    errors: list[BaseException] = []

    def submit(n: int) -> None:
        try:
            ids.append(runner.submit(f"user{n % 3}", request(f"thread {n}", count=2), store, key_source(server)).id)
        except BaseException as exc:  # collected and asserted on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and not any(t.is_alive() for t in threads)
    for job_id in ids:
        wait_job(runner, job_id)
    assert sum(store.count_entries(f"user{n}", statuses=["ok"]) for n in range(3)) == 12


def test_housekeeping_heartbeats_running_work_and_forgets_old_jobs(fresh_emulator, store) -> None:
    server = fresh_emulator()
    runner = JobRunner(limits=RunnerLimits(heartbeat_s=0.05, keep_finished_s=0.2, stale_after_s=60))
    try:
        slow = runner.submit("local", request("a long one [[fault:slow=30]]"), store, key_source(server))
        first_beat = store.get("local", slow.images[0].entry_id).heartbeat_at
        wait_until(lambda: store.get("local", slow.images[0].entry_id).heartbeat_at > first_beat,
                   what="a heartbeat on the running entry")
        quick = wait_job(runner, runner.submit("local", request("a quick one"), store, key_source(server)).id)
        wait_until(lambda: runner.view(quick.id) is None, what="the finished job to be forgotten")
        assert runner.view(slow.id) is not None, "running jobs are never forgotten"
        assert interrupt_abandoned(store, "another-process", stale_after_s=60) == 0, "a beating entry is alive"
    finally:
        runner.close()
    assert store.get("local", slow.images[0].entry_id).status == "cancelled", "closing the runner cancels"


def test_idle_connections_release_their_clients(fresh_emulator, store) -> None:
    server = fresh_emulator()
    runner = JobRunner(limits=RunnerLimits(heartbeat_s=0.05, engine_idle_s=0.1))
    try:
        for key in ("k1", "k2", "k3"):
            source = CredentialSource(Connection(mode="api_key", api_key=key, base_url=server.base_url))
            runner.submit(f"ns-{key}", request("one each"), store, source)
        seen: list[int] = []
        wait_until(lambda: seen.append(runner.engines_open()) or (runner.engines_open() == 0 and max(seen) > 0),
                   what="engines made, then closed when idle")
        assert max(seen) >= 1
    finally:
        runner.close()


def test_the_thumbnail_is_shown_before_history_has_written_the_image(fresh_emulator, runner, tmp_path: Path) -> None:
    server = fresh_emulator()
    gate = threading.Event()
    previews: list[bytes] = []

    class SlowStore(HistoryStore):
        def finish_entry(self, namespace, entry_id, request, result):  # type: ignore[override]
            gate.wait(10)  # History is slow to write; the page must not wait for it
            return super().finish_entry(namespace, entry_id, request, result)

    store = SlowStore.open(data_dir=tmp_path / "slow")
    job = runner.submit("local", request("a preview first"), store, key_source(server))
    wait_until(lambda: bool(runner.view(job.id).images[0].preview), what="the preview")
    previews.append(runner.view(job.id).images[0].preview)
    assert runner.view(job.id).images[0].state.active, "still being recorded"
    gate.set()
    done = wait_job(runner, job.id)
    assert done.images[0].state is ImageState.DONE and done.images[0].preview == b""
    assert store.read_thumbnail("local", done.images[0].entry_id) == previews[0], "the same thumbnail is stored"
    store.close()


def test_housekeeping_purges_old_deletions_and_sweeps_old_orphans(tmp_path: Path) -> None:
    from studio.history import files

    store = HistoryStore.open(data_dir=tmp_path / "data")
    gone = store.start_entry("local", request("deleted long ago"), 0, batch_id="b")
    store.end_entry("local", gone.id, "failed", "internal", "x")
    store.delete("local", gone.id)
    store.db.run("UPDATE entries SET deleted_at = ? WHERE id = ?", (time.time() - 30 * 24 * 3600, gone.id))
    store.blobs.put("local", "ab" * 16 + ".png", b"left by a crash")
    orphan = files.safe_path(tmp_path / "data", "local", "ab" * 16 + ".png")
    an_hour_ago = time.time() - 3600
    os.utime(orphan, (an_hour_ago, an_hour_ago))
    runner = JobRunner(limits=RunnerLimits(heartbeat_s=0.05, purge_every_s=0))
    try:
        runner.recover(store)
        wait_until(lambda: store.get("local", gone.id, include_deleted=True) is None, what="the purge")
        wait_until(lambda: not orphan.exists(), what="the orphan sweep")
    finally:
        runner.close()
        store.close()


def test_a_key_pasted_as_a_token_is_said_plainly_and_not_sent_again(fresh_emulator, store) -> None:
    server = fresh_emulator()
    runner = JobRunner(limits=RunnerLimits(per_identity=1))
    try:
        source = CredentialSource(Connection(mode="oauth", access_token="AIzaSy-a-key-not-a-token",
                                             base_url=server.base_url, subject="s"))
        job = wait_job(runner, runner.submit("google:s", request("wrong kind", count=3), store, source).id)
    finally:
        runner.close()
    assert all("looks like an API key" in image.message for image in job.images)
    assert server.stats()["served"] == 1


def test_a_retry_sends_the_token_renewed_meanwhile(fresh_emulator, store) -> None:
    server = fresh_emulator()
    soon = time.time() + 5  # expires within the renewal margin: renewed before the first attempt
    renewals: list[str] = []

    def renew(connection: Connection) -> Connection:
        renewals.append(connection.access_token or "")
        return Connection(mode="oauth", access_token=TEST_TOKEN, base_url=server.base_url, subject="s",
                          expires_at=time.time() + 3600)

    source = CredentialSource(Connection(mode="oauth", access_token="about-to-expire", base_url=server.base_url,
                                         subject="s", expires_at=soon), renew)
    runner = JobRunner()
    try:
        job = wait_job(runner, runner.submit("google:s", request("fresh at send time"), store, source).id)
    finally:
        runner.close()
    assert job.images[0].state is ImageState.DONE
    assert renewals == ["about-to-expire"], "renewed once, before sending: the old token never went out"
    assert server.stats()["served"] == 1


def test_freed_memory_is_handed_back_once_the_work_is_quiet(fresh_emulator, store) -> None:
    """After a burst the runner returns the heap pages it freed (RSS falls back), once per quiet spell."""
    released: list[float] = []
    server = fresh_emulator()
    runner = JobRunner(limits=RunnerLimits(heartbeat_s=0.05, release_every_s=3600))
    real = runner.release_memory  # counted on this runner only: earlier tests' runners still live in the process
    runner.release_memory = lambda: released.append(time.monotonic()) or real()
    try:
        slow = runner.submit("local", request("still going [[fault:slow=2]]"), store, key_source(server))
        time.sleep(0.5)  # ten housekeeping ticks while an image is in flight
        assert released == [], "never while work runs"
        wait_job(runner, slow.id)
        seen = lambda: (f"(releases {len(released)}, indexer busy {runner.indexer.busy}, "  # noqa: E731
                        f"jobs active {[j.active for j in runner._jobs.values()]})")
        wait_until(lambda: len(released) >= 1, what="a release once the work went quiet", state=seen)
        assert len(released) == 1, f"one release for one quiet spell {seen()}"
        time.sleep(0.5)
        assert len(released) == 1, "not again until there has been more work"
        wait_job(runner, runner.submit("local", request("one more"), store, key_source(server)).id)
        wait_until(lambda: len(released) == 2, what="a release after the next burst")
    finally:
        runner.close()


def test_freed_memory_is_handed_back_again_while_quiet() -> None:
    """Pages free memory the runner cannot see (History tables, reloads): while idle it releases it every
    ``release_every_s``, never more often."""
    released: list[float] = []
    runner = JobRunner(limits=RunnerLimits(heartbeat_s=0.05, release_every_s=0.4))
    runner.release_memory = lambda: released.append(time.monotonic()) or True
    try:
        wait_until(lambda: len(released) >= 3, what="three releases while idle")
    finally:
        runner.close()
    gaps = [b - a for a, b in itertools.pairwise(released)]
    assert all(gap >= 0.4 for gap in gaps), gaps
