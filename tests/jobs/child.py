"""A second studio process for the two-process tests: a real JobRunner on the same database, in its own process.

``python -m tests.jobs.child collect ARGS_JSON``: resume the identity's stored batches and collect them, but
hang (as a process stuck on a slow disk would) in every recording after the first ``record_then_hang``, so the
test can kill it mid-collection (or, with ``claim_fails``, keep failing to claim it). ``python -m tests.jobs.child
submit ARGS_JSON``: submit a job while the database refuses one image's row. ``python -m tests.jobs.child now ARGS_JSON``: send a Now-lane job while every
purge of the store takes ``purge_s`` (a slow S3 listing), and exit once it is done. Prints "ready" when started.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from studio.credentials import Connection
from studio.history import HistoryStore
from studio.jobs import CredentialSource, JobRunner, RunnerLimits
from studio.request import GenerationRequest


def _collect(args: dict[str, Any]) -> None:
    store = HistoryStore.open(args["url"], data_dir=Path(args["data_dir"]))
    recorded, lock, never = 0, threading.Lock(), threading.Event()
    finish = store.finish_entry

    def finish_then_hang(*a: Any, **kw: Any) -> Any:
        nonlocal recorded
        with lock:
            recorded += 1
            mine = recorded
        if mine > args["record_then_hang"]:
            never.wait()  # stuck mid-collection until the test kills the process
        return finish(*a, **kw)

    store.finish_entry = finish_then_hang  # type: ignore[method-assign]
    if args.get("claim_fails"):  # the database keeps refusing the claim (a lasting failure)
        def refuse(*a: Any, **kw: Any) -> bool:
            raise sqlite3.OperationalError("database is locked")

        store.batches.claim = refuse  # type: ignore[method-assign]
    runner = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3, batch_lease_s=args["lease_s"],
                                           batch_collect_attempts=2), owner="child")
    source = CredentialSource(Connection(mode="api_key", api_key=args["key"], base_url=args["base_url"]))
    assert runner.resume_batches(args["namespace"], store, source) == 1
    print("ready", flush=True)
    never.wait()


def _now(args: dict[str, Any]) -> None:
    store = HistoryStore.open(args["url"], data_dir=Path(args["data_dir"]))

    def slow_purge(*a: Any, **kw: Any) -> int:
        time.sleep(args["purge_s"])
        return 0

    store.purge = slow_purge  # type: ignore[method-assign]
    runner = JobRunner(limits=RunnerLimits(heartbeat_s=args["heartbeat_s"], stale_after_s=args["stale_s"],
                                           purge_every_s=args["heartbeat_s"]))
    runner.recover(store)  # as the app does: this store is watched (swept and purged) from now on
    source = CredentialSource(Connection(mode="api_key", api_key=args["key"], base_url=args["base_url"]))
    request = GenerationRequest(prompt=args["prompt"], model_id=args["model_id"], count=args["count"])
    job = runner.submit(args["namespace"], request, store, source)
    print("ready", flush=True)
    while (view := runner.view(job.id)) is not None and view.active:
        runner.wait_for_change(args["namespace"], runner.version(args["namespace"]), 0.5)
    runner.close()
    store.close()


def _submit(args: dict[str, Any]) -> None:
    """Submit a job while the database refuses the ``fail_at``-th image's row, then exit."""
    store = HistoryStore.open(args["url"], data_dir=Path(args["data_dir"]))
    insert, written = store._insert, []

    def refuse_one(row: dict, references: Any) -> None:
        written.append(row["id"])
        if len(written) == args["fail_at"]:
            raise sqlite3.OperationalError("database is locked")
        insert(row, references)

    store._insert = refuse_one  # type: ignore[method-assign]
    runner = JobRunner(limits=RunnerLimits(batch_poll_s=0.1))
    source = CredentialSource(Connection(mode="api_key", api_key=args["key"], base_url=args["base_url"]))
    request = GenerationRequest(prompt=args["prompt"], model_id=args["model_id"], count=args["count"],
                                lane=args["lane"])
    print("ready", flush=True)
    try:
        runner.submit(args["namespace"], request, store, source)
        print("sent", flush=True)
    except sqlite3.Error:
        print("refused", flush=True)
    runner.close()
    store.close()


if __name__ == "__main__":
    {"collect": _collect, "now": _now, "submit": _submit}[sys.argv[1]](json.loads(sys.argv[2]))
