"""Housekeeping on independent timers: one store's stuck heartbeat never holds up another store's."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from studio.history import HistoryStore
from studio.jobs import JobRunner, RunnerLimits

from .test_runner import key_source, request, wait_job, wait_until


def test_a_stuck_store_never_holds_up_another_stores_heartbeats(fresh_emulator, tmp_path: Path) -> None:
    server = fresh_emulator()
    stuck, healthy = (HistoryStore.open(data_dir=tmp_path / name) for name in ("stuck", "healthy"))
    released = threading.Event()

    def hang(*args: Any, **kwargs: Any) -> None:  # a half-open link to one team's database
        released.wait(timeout=30)

    stuck.heartbeat = hang  # type: ignore[method-assign]
    runner = JobRunner(limits=RunnerLimits(heartbeat_s=0.1))
    try:
        runner.submit("a", request("slow lamp a [[fault:slow=3]]"), stuck, key_source(server))
        job = runner.submit("b", request("slow lamp b [[fault:slow=3]]"), healthy, key_source(server))
        wait_until(lambda: healthy.running_entries()[0][3] is not None, what="the first heartbeat")
        first = healthy.running_entries()[0][3]
        wait_until(lambda: (healthy.running_entries() or [(0, 0, 0, first)])[0][3] > first + 0.5, timeout_s=2.5,
                   what="the healthy store's heartbeats to go on")
        released.set()
        wait_job(runner, job.id)
    finally:
        released.set()
        runner.close()
        stuck.close()
        healthy.close()
