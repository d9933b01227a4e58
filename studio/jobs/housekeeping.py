"""The runner's upkeep on independent timers: heartbeats, the orphan sweep, the purge, and tidying.

Heartbeats say "this process still works on these entries"; another replica marks entries whose heartbeat is
older than the stale limit as interrupted (and a Retry pays again). So nothing may delay them: each kind of
upkeep has its own timer, and each store its own worker call, so a slow purge or a slow listing of one store
(S3 can take minutes) never holds up a heartbeat, of that store or of another. A call still running when its
timer comes round again is not started twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from studio.history import HistoryStore
from studio.jobs.janitor import interrupt_abandoned

log = logging.getLogger(__name__)


class Housekeeping:
    """Started on the runner's loop; ``running()`` and ``watched()`` are read there, under the runner's lock."""

    def __init__(self, *, owner: str, heartbeat_s: float, stale_after_s: float, purge_every_s: float,
                 running: Callable[[], list[tuple[HistoryStore, list[str]]]],
                 watched: Callable[[], list[HistoryStore]],
                 tidy: Callable[[], Awaitable[None]]) -> None:
        self.owner = owner
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.purge_every_s = purge_every_s
        self._running, self._watched, self._tidy = running, watched, tidy
        self._busy: dict[tuple[str, int], asyncio.Task] = {}  # (kind, store) -> its call in a worker thread
        self._timers: list[asyncio.Task] = []

    def start(self) -> None:
        """On the loop: one timer per kind of upkeep."""
        self._timers = [asyncio.create_task(self._every(self.heartbeat_s, self._beat), name="heartbeats"),
                        asyncio.create_task(self._every(self.heartbeat_s, self._sweep), name="orphan-sweep"),
                        asyncio.create_task(self._every(self.purge_every_s, self._purge, first_s=self.heartbeat_s),
                                            name="purge"),
                        asyncio.create_task(self._every(self.heartbeat_s, self._tidy), name="tidy")]

    def stop(self) -> None:
        for task in [*self._timers, *self._busy.values()]:
            task.cancel()
        self._timers, self._busy = [], {}

    async def _every(self, period_s: float, tick: Callable[[], Awaitable[None] | None],
                     first_s: float | None = None) -> None:
        await asyncio.sleep(period_s if first_s is None else first_s)
        while True:
            try:
                outcome = tick()
                if outcome is not None:
                    await outcome
            except Exception:
                log.exception("job runner: housekeeping failed (will try again)")
            await asyncio.sleep(period_s)

    def _beat(self) -> None:
        for store, entry_ids in self._running():
            self._spawn("heartbeat", store, partial(store.heartbeat, entry_ids))

    def _sweep(self) -> None:
        for store in self._watched():
            self._spawn("sweep", store, partial(interrupt_abandoned, store, self.owner, self.stale_after_s))

    def _purge(self) -> None:  # purge() then sweeps the blobs no row names any more (older than the grace period)
        for store in self._watched():
            self._spawn("purge", store, store.purge)

    def _spawn(self, kind: str, store: HistoryStore, call: Callable[[], object]) -> None:
        """Run a blocking store call in a worker, unless the same call on the same store is still running."""
        key = (kind, id(store))
        if key in self._busy:
            return
        task = asyncio.create_task(asyncio.to_thread(call), name=f"{kind}-{id(store)}")
        self._busy[key] = task
        task.add_done_callback(partial(self._done, key))

    def _done(self, key: tuple[str, int], task: asyncio.Task) -> None:
        if self._busy.get(key) is task:
            del self._busy[key]
        with contextlib.suppress(asyncio.CancelledError):
            if task.exception() is not None:
                log.warning("job runner: %s failed (will try again): %s", key[0], type(task.exception()).__name__)
