"""Embedding History entries in the runner: each new image in the background, and "Index my History".

Embedding calls are paid, so they run on the job runner's loop, never in a script run, on the owner's
credentials (the job's ``CredentialSource``, in memory only). Each call is one ``batchEmbedContents`` of up to
the model's batch size; its estimate is charged to the spend ledger before sending and its cost from usage
billed after, like an image. A quota answer pauses the backfill with the count done and resumes after Google's
delay; search keeps working on what is indexed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from google import genai
from google.genai import errors as genai_errors

from studio.embedding_spec import EmbeddingSpec, default_spec
from studio.embeddings import Embedded, embed_contents, embed_query, entry_content
from studio.failures import classify_exception
from studio.history import HistoryStore
from studio.jobs.model import CredentialSource

log = logging.getLogger(__name__)

FLUSH_DELAY_S = 0.3  # new images of one batch are embedded together, in one call
QUOTA_PAUSE_S = 60.0  # when Google gives no retry delay
MAX_QUOTA_PAUSES = 5  # then the backfill stops, and "Index my History" resumes it


@dataclass(frozen=True)
class IndexProgress:
    """A backfill as the page shows it."""

    total: int = 0
    done: int = 0
    cost_usd: float = 0.0
    running: bool = False
    paused: str = ""  # why it waits (a quota answer), with the count done
    failed: str = ""  # why it stopped, in plain words

    @property
    def fraction(self) -> float:
        return 1.0 if not self.total else min(1.0, self.done / self.total)


@dataclass
class _Pending:
    store: HistoryStore
    credentials: CredentialSource
    ids: list[str] = field(default_factory=list)


def backfill_estimate(store: HistoryStore, namespace: str, spec: EmbeddingSpec) -> tuple[int, float]:
    """(entries not yet indexed, USD to index them): shown before "Index my History" runs."""
    count, chars = store.vectors.missing_summary(namespace, spec.model_id)
    return count, spec.estimate(chars, count) if count else 0.0


class Indexer:
    """Owned by the JobRunner; every coroutine here runs on the runner's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 client_for: Callable[[CredentialSource], Awaitable[genai.Client]],
                 spec: EmbeddingSpec | None = None, quota_pause_s: float = QUOTA_PAUSE_S) -> None:
        self.spec = spec or default_spec()
        self.quota_pause_s = quota_pause_s
        self._loop = loop
        self._client_for = client_for
        self._pending: dict[str, _Pending] = {}
        self._progress: dict[str, IndexProgress] = {}
        self._tasks: set[asyncio.Task] = set()
        self._lock = threading.Lock()

    # ---- from the runner's loop -------------------------------------------------------------
    def entry_succeeded(self, namespace: str, store: HistoryStore, credentials: CredentialSource,
                        entry_id: str) -> None:
        """A new image landed: embed it soon, with the other images that land meanwhile."""
        pending = self._pending.get(namespace)
        if pending is None or pending.store is not store:
            pending = self._pending[namespace] = _Pending(store, credentials)
            self._spawn(self._flush_later(namespace))
        pending.credentials = credentials
        pending.ids.append(entry_id)

    async def _flush_later(self, namespace: str) -> None:
        await asyncio.sleep(FLUSH_DELAY_S)
        pending = self._pending.pop(namespace, None)
        if pending is None:
            return
        for start in range(0, len(pending.ids), self.spec.max_batch):
            try:
                await self._embed_ids(namespace, pending.store, pending.credentials,
                                      pending.ids[start:start + self.spec.max_batch])
            except Exception as exc:  # a new image stays unindexed; "Index my History" picks it up later
                log.info("indexing: new entries left for later: %s", type(exc).__name__)
                return

    # ---- from any thread --------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Embeddings waiting or being made: work, like an image in flight (the runner's quiet spells wait)."""
        return bool(self._pending or self._tasks)

    def progress(self, namespace: str) -> IndexProgress | None:
        with self._lock:
            return self._progress.get(namespace)

    def start_backfill(self, namespace: str, store: HistoryStore, credentials: CredentialSource) -> bool:
        """Start "Index my History" (False when one already runs for this identity)."""
        with self._lock:
            now = self._progress.get(namespace)
            if now is not None and now.running:
                return False
            self._progress[namespace] = IndexProgress(running=True)
        self._loop.call_soon_threadsafe(self._spawn, self._backfill(namespace, store, credentials))
        return True

    def query(self, namespace: str, credentials: CredentialSource, text: str) -> Future[Embedded]:
        """Embed a search query on the runner's loop; the page waits on the future for a moment."""
        async def run() -> Embedded:
            client = await self._client_for(credentials)
            return await embed_query(client, self.spec, text)
        return asyncio.run_coroutine_threadsafe(run(), self._loop)

    # ---- the work ----------------------------------------------------------------------------
    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _set(self, namespace: str, **changes: Any) -> None:
        with self._lock:
            self._progress[namespace] = replace(self._progress.get(namespace, IndexProgress()), **changes)

    async def _backfill(self, namespace: str, store: HistoryStore, credentials: CredentialSource) -> None:
        spec = self.spec
        try:
            ids = await asyncio.to_thread(store.vectors.missing, namespace, spec.model_id, 1_000_000)
            self._set(namespace, total=len(ids), done=0, cost_usd=0.0, paused="", failed="")
            done, pauses, cost = 0, 0, 0.0
            while done < len(ids):
                chunk = ids[done:done + spec.max_batch]
                try:
                    cost += await self._embed_ids(namespace, store, credentials, chunk)
                except genai_errors.APIError as exc:
                    if exc.code != 429 or pauses >= MAX_QUOTA_PAUSES:
                        raise
                    pauses += 1
                    wait = classify_exception(exc).retry_after_s or self.quota_pause_s
                    self._set(namespace, paused=f"Google's quota ran out after {done:,} of {len(ids):,} entries; "
                                                f"indexing resumes in {wait:.0f} s. Search works on what is indexed.")
                    await asyncio.sleep(wait)
                    self._set(namespace, paused="")
                    continue
                done += len(chunk)
                self._set(namespace, done=done, cost_usd=round(cost, 6))
            self._set(namespace, running=False)
        except Exception as exc:
            secrets = credentials.connection.secrets()
            reason = classify_exception(exc, secrets).message
            prog = self.progress(namespace) or IndexProgress()
            self._set(namespace, running=False, paused="", failed=f"Indexing stopped after {prog.done:,} of "
                      f"{prog.total:,} entries: {reason} Press \"Index my History\" to go on from there.")

    async def _embed_ids(self, namespace: str, store: HistoryStore, credentials: CredentialSource,
                         ids: list[str]) -> float:
        """Embed these entries in one call, store the vectors, record the cost; returns the cost."""
        entries = await asyncio.to_thread(store.get_many, namespace, ids)
        entries = [e for e in entries if e.status == "ok"]
        if not entries:
            return 0.0
        pictures = await asyncio.to_thread(lambda: [store.read_thumbnail(namespace, e.id) for e in entries])
        contents = [entry_content(e.prompt[: self.spec.max_chars], pic) for e, pic in zip(entries, pictures, strict=True)]
        estimate = self.spec.estimate(sum(min(len(e.prompt), self.spec.max_chars) for e in entries),
                                      sum(1 for p in pictures if p))
        client = await self._client_for(credentials)
        embedded = await embed_contents(client, self.spec, contents)  # a refused call is not billed by Google
        cost = self.spec.cost(embedded.text_tokens, embedded.image_tokens) if (
            embedded.text_tokens or embedded.image_tokens) else estimate
        await asyncio.to_thread(store.vectors.put_many, namespace, self.spec.model_id,
                                list(zip([e.id for e in entries], embedded.vectors, strict=True)))
        ledger_id = f"embed-{uuid.uuid4().hex}"  # one ledger row per call: amounts only, like an image's
        await asyncio.to_thread(store.ledger.charge, ledger_id, namespace, time.time(), estimate)
        await asyncio.to_thread(store.ledger.bill, ledger_id, cost)
        return cost
