"""The job runner: one per server process, its own event loop on its own thread.

A Streamlit rerun can be stopped by any click, so paid work never lives in a script run: pages
``submit`` a job and return at once, and read snapshots (``jobs_for``) while the runner sends the
requests, records every image in History the moment it lands, and keeps going whatever the page does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from studio.catalogue import DEFAULT_CATALOGUE, Catalogue
from studio.credentials import Connection, make_client
from studio.engine import Engine, ImageEvent
from studio.history import HistoryStore
from studio.history.batch_records import BATCH_OWNER, BatchRecord
from studio.jobs.batch_lane import CANCELLABLE, BatchLane
from studio.jobs.housekeeping import Housekeeping
from studio.jobs.indexing import Indexer
from studio.jobs.janitor import interrupt_abandoned
from studio.jobs.model import CredentialSource, ImageSlot, ImageState, ImageView, Job, JobView
from studio.memory import release_free_memory
from studio.recipes import request_from_recipe
from studio.regions.outcome import apply_region
from studio.request import GenerationRequest, ValidationError, validate
from studio.results import PLAIN_MESSAGES, Failure, FailureKind, ImageResult

log = logging.getLogger(__name__)

CANCELLED_MESSAGE = ("Cancelled. A request that had already been sent may still be billed by Google.")
STORE_FAILED_MESSAGE = "The image arrived but could not be saved ({reason}). The other images are not affected."
INTERNAL_MESSAGE = "Something went wrong inside the studio while making this image ({reason}). Try again."
PRIVATE_BATCH_MESSAGE = ("The batch lane is not available in a private session: Google answers a batch within 24 "
                         "hours, and a private session's History lives only in this session's memory, so it would be "
                         "gone before the images arrive. Choose Now, or switch \"Private session\" off to use the batch lane.")
ADMIT_WAIT_S = 10.0  # how long a page waits for the runner to take a job; past it, the runner still takes it


@dataclass(frozen=True)
class RunnerLimits:
    """Caps on images in flight; work beyond them waits in line and shows its position."""

    per_identity: int = 8
    per_process: int = 64
    timeout_s: float = 300.0
    heartbeat_s: float = 15.0
    stale_after_s: float = 90.0  # another process's running entry with no heartbeat this long is interrupted
    keep_finished_s: float = 900.0  # finished jobs stay visible this long (a reload still finds them)
    purge_every_s: float = 3600.0  # soft-deleted History entries past their undo window are removed this often
    engine_idle_s: float = 60.0  # a connection's client (its HTTP pools, ~2 MB) is closed after this long unused
    release_every_s: float = 60.0  # while nothing is in flight, freed heap pages go back to the system this often
    batch_poll_s: float = 15.0  # the batch lane asks Google about a batch this often at first, then backs off
    batch_poll_max_s: float = 120.0
    batch_inline_max: int = 20  # more images go as a JSONL file: their answers then come back as a file too
    batch_lease_s: float = 600.0  # a collector renews its lease every third of this; a dead one's runs out
    batch_collect_attempts: int = 5  # a finished batch's recording is tried this often before it is left open

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> RunnerLimits:
        env = dict(os.environ if env is None else env)

        def number(name: str, default: float) -> float:
            try:
                return float(env.get(name) or default)
            except ValueError:
                return default

        return cls(per_identity=max(1, int(number("STUDIO_MAX_IN_FLIGHT_PER_PERSON", 8))),
                   per_process=max(1, int(number("STUDIO_MAX_IN_FLIGHT", 64))),
                   timeout_s=number("STUDIO_TIMEOUT_S", 300.0),
                   engine_idle_s=number("STUDIO_ENGINE_IDLE_S", 60.0),
                   batch_poll_s=max(0.05, number("STUDIO_BATCH_POLL_S", 15.0)),
                   batch_inline_max=max(1, int(number("STUDIO_BATCH_INLINE_MAX", 20))),
                   batch_lease_s=max(0.3, number("STUDIO_BATCH_LEASE_S", 600.0)))


def owner_token() -> str:
    """Who is sending: host and pid (so a restart on the same host is seen at once) and a unique id."""
    return f"{socket.gethostname()}|{os.getpid()}|{uuid.uuid4().hex[:12]}"


EngineFactory = Callable[[Connection, Catalogue, RunnerLimits, Callable[[], str] | None], Engine]
RENEW_MARGIN_S = 60.0  # a Google token this close to expiry is renewed before the next attempt


def default_engine(connection: Connection, catalogue: Catalogue, limits: RunnerLimits,
                   token_source: Callable[[], str] | None = None) -> Engine:
    return Engine(make_client(connection, timeout_s=limits.timeout_s, token_source=token_source), catalogue,
                  timeout_s=limits.timeout_s, secrets=connection.secrets(), vertex=connection.mode == "vertex")


class JobRunner:
    """Thread-safe from any thread; all job state changes happen on the runner's loop thread."""

    def __init__(self, catalogue: Catalogue = DEFAULT_CATALOGUE, limits: RunnerLimits | None = None, *,
                 engine_factory: EngineFactory = default_engine, owner: str | None = None) -> None:
        self.catalogue = catalogue
        self.limits = limits or RunnerLimits()
        self.owner = owner or owner_token()
        self._engine_factory = engine_factory
        self._jobs: dict[str, Job] = {}
        self._waiting: deque[ImageSlot] = deque()
        self._in_flight: Counter[str] = Counter()
        self._engines: dict[Connection, Engine] = {}
        self._engine_used: dict[Connection, float] = {}  # monotonic time each engine was last handed out
        self._tokens: dict[Connection, str] = {}  # the newest Google token per engine key, read at send time
        self._stores: dict[int, HistoryStore] = {}  # stores to watch for abandoned work (the shared ones)
        self._resuming: set[str] = set()  # batch ids a session is resuming now (its slow reads are under way)
        self._lock = threading.Lock()  # guards _jobs and the slots' fields for snapshots
        self._changed = threading.Condition(self._lock)
        self._versions: Counter[str] = Counter()
        self._trimmed_at = 0  # the total change count when freed memory was last handed back
        self._released_at = time.monotonic()  # and when
        # the call that hands freed heap pages back (glibc's malloc_trim); per runner, so a test counts its own
        self.release_memory: Callable[[], object] = release_free_memory
        self._loop = asyncio.new_event_loop()
        # decoding, thumbnails and History writes run here: more workers than asyncio's default (cores + 4)
        # so 64 images in flight do not queue their bookkeeping behind one another
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="studio-job-worker")
        self._thread = threading.Thread(target=self._run_loop, name="studio-job-runner", daemon=True)
        self._thread.start()
        self.batches = BatchLane(RunnerCollection(self))
        self.housekeeping = Housekeeping(owner=self.owner, heartbeat_s=self.limits.heartbeat_s,
                                         stale_after_s=self.limits.stale_after_s,
                                         purge_every_s=self.limits.purge_every_s, running=self._running_by_store,
                                         watched=self._watched_stores, tidy=self._tidy)
        self._loop.call_soon_threadsafe(self.housekeeping.start)
        self.indexer = Indexer(self._loop, self._client_for)  # search by meaning: embeddings on the owner's credentials

    # ---- the loop thread ------------------------------------------------------------------
    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.set_default_executor(self._executor)
        self._loop.set_exception_handler(self._on_loop_error)
        self._loop.run_forever()

    @staticmethod
    def _on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        log.error("job runner: %s", context.get("message"), exc_info=context.get("exception"))

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    # ---- public API (any thread) ----------------------------------------------------------
    def submit(self, namespace: str, request: GenerationRequest, store: HistoryStore, credentials: CredentialSource,
               *, parent_id: str | None = None) -> JobView:
        """Queue a batch and return at once. Raises ValidationError before anything is sent or recorded.

        Every image gets its History entry now (status ``running``), so History shows the work at once.
        """
        request = validate(request, self.catalogue)
        if request.lane == "batch" and store.is_private:
            raise ValidationError([PRIVATE_BATCH_MESSAGE])
        if request.lane == "batch" and credentials.connection.mode == "vertex":
            raise ValidationError(["The batch lane runs on the Gemini API (an API key or Google sign-in). Vertex AI "
                                   "batches read their requests from Cloud Storage, which the studio does not use: "
                                   "choose Now, or connect with a key."])
        job = Job(id=uuid.uuid4().hex, namespace=namespace, request=request, store=store, credentials=credentials,
                  parent_id=parent_id)
        batch_lane = request.lane == "batch"
        # all entries (and a batch's record, stored before anything is sent so a restart can still collect it)
        # in one transaction: a failure leaves nothing running that nothing would ever end
        entries = store.start_entries(namespace, request, list(range(request.count)), batch_id=job.id,
                                      parent_id=parent_id, job_id=job.id,
                                      owner=BATCH_OWNER if batch_lane else self.owner,
                                      batch_record=(request.model_id, batch_recipe(request)) if batch_lane else None)
        job.slots.extend(ImageSlot(job=job, index=index, entry_id=entry.id) for index, entry in enumerate(entries))
        with self._lock:
            self._jobs[job.id] = job
        self._wait(self._call(self._admit(job)))
        return self.view(job.id)  # type: ignore[return-value]

    def resume_batches(self, namespace: str, store: HistoryStore, credentials: CredentialSource) -> int:
        """This identity's batches stored by an earlier process: poll them again, now that it has connected.

        Returns how many were picked up. A batch whose sending was cut before Google had it is failed plainly.
        """
        resumed = 0
        for record in store.batches.open_for(namespace):
            with self._lock:  # taken before the slow reads: a second tab resuming at once finds it taken
                earlier = self._jobs.get(record.id)  # an inactive one gave up collecting: try again now
                if (earlier is not None and earlier.active) or record.id in self._resuming:
                    continue
                self._resuming.add(record.id)
            try:
                self._resume_one(namespace, store, credentials, record)
            finally:
                with self._lock:
                    self._resuming.discard(record.id)
            resumed += 1
        return resumed

    def _resume_one(self, namespace: str, store: HistoryStore, credentials: CredentialSource,
                    record: BatchRecord) -> None:
        """Rebuild one stored batch as a job and follow it again (the slow reads: History, references)."""
        entries = {e.id: e for e in store.get_many(namespace, list(record.entry_ids))}
        references = store.read_references(namespace, record.entry_ids[0]) if record.entry_ids else []
        request = replace(request_from_recipe(record.recipe, references, count=len(record.entry_ids)),
                          lane="batch")
        job = Job(id=record.id, namespace=namespace, request=request, store=store, credentials=credentials,
                  created_at=record.created_at, batch_name=record.name, batch_state=record.state)
        for index, entry_id in enumerate(record.entry_ids):
            slot = ImageSlot(job=job, index=index, entry_id=entry_id)
            entry = entries.get(entry_id)
            if entry is not None and not entry.is_running:
                slot.settle(entry.status)
            job.slots.append(slot)
        with self._lock:
            self._jobs[job.id] = job
        self._wait(self._call(self._resume(job)))

    def cancel(self, job_id: str, index: int | None = None, *, namespace: str) -> int:
        """Cancel one image or the whole job (only the owner's namespace may); returns how many were cancelled."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.namespace != namespace:
                return 0
            if job.request.lane == "batch":  # cancelled whole, in the runner: the page never waits on Google
                if index is not None or not cancellable(job):
                    return 0
                job.batch_state = "cancelling"
                active = [slot for slot in job.slots if slot.state.active]
                for slot in active:
                    slot.note = "Cancelling…"
            else:
                active = [s for s in job.slots if s.state.active and (index is None or s.index == index)]
        future = self._call(self._cancel(job, index))
        self._touch(namespace)
        if job.request.lane == "batch":
            return len(active)
        done = self._wait(future)
        return int(done) if done is not None else len(active)  # still cancelling in the runner: it goes on

    @staticmethod
    def _wait(future: Future, timeout_s: float = ADMIT_WAIT_S) -> Any:
        """A page waits a little for the runner; a busy runner still does the work, and no TimeoutError reaches
        the page (None says it is still under way)."""
        try:
            return future.result(timeout=timeout_s)
        except TimeoutError:
            log.warning("job runner: still busy after %.0f s; the work goes on in the runner", timeout_s)
            return None

    def run_call(self, connection: Connection, work: Callable[[Any], Coroutine[Any, Any, Any]]) -> Future:
        """A short paid call beside the images (the prompt assistant): ``work(client)`` runs on the runner's loop
        with the connection's shared client, so a page never waits on the network; the Future holds its result."""
        async def call() -> Any:
            engine = await self._engine(connection)
            return await work(engine.client)
        return self._call(call())

    def update_credentials(self, namespace: str, connection: Connection) -> None:
        """A page renewed this person's token: later images of their running jobs send with it."""
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.namespace == namespace and job.active]
        for job in jobs:
            if job.credentials.connection.mode == connection.mode:
                job.credentials.update(connection)
                if job.request.lane == "batch":  # a batch waiting for this person to reconnect polls again
                    self._loop.call_soon_threadsafe(self.batches.credentials_changed, job.id)

    def view(self, job_id: str) -> JobView | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return self._snapshot(job) if job else None

    def jobs_for(self, namespace: str) -> list[JobView]:
        """This identity's jobs, newest first: running ones and those finished recently."""
        with self._lock:
            return [self._snapshot(job) for job in sorted(self._jobs.values(), key=lambda j: -j.created_at)
                    if job.namespace == namespace]

    def namespaces(self) -> list[str]:
        """Identities with jobs in memory (tests and housekeeping)."""
        with self._lock:
            return sorted({job.namespace for job in self._jobs.values()})

    def has_active(self, namespace: str) -> bool:
        with self._lock:
            return any(job.active for job in self._jobs.values() if job.namespace == namespace)

    def version(self, namespace: str) -> int:
        with self._lock:
            return self._versions[namespace]

    def wait_for_change(self, namespace: str, seen_version: int, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` until this identity's jobs change after ``seen_version``."""
        with self._changed:
            return self._changed.wait_for(lambda: self._versions[namespace] != seen_version, timeout=timeout_s)

    def in_flight(self, namespace: str | None = None) -> int:
        with self._lock:
            return self._in_flight[namespace] if namespace else sum(self._in_flight.values())

    def recover(self, store: HistoryStore) -> int:
        """Mark entries left running by a dead process as interrupted (at start, then on every housekeeping)."""
        with self._lock:
            self._stores.setdefault(id(store), store)
        return interrupt_abandoned(store, self.owner, self.limits.stale_after_s)

    def close(self) -> None:
        """Cancel everything and stop the loop (tests, and process shutdown)."""
        with contextlib.suppress(Exception):
            self._call(self._shutdown()).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ---- scheduling (loop thread) ---------------------------------------------------------
    async def _resume(self, job: Job) -> None:
        if job.batch_name is None:  # the process stopped while sending: Google may never have had it
            message = ("The studio stopped while sending this batch to Google, so it may not have arrived. "
                       "Press Retry to send it again.")
            await asyncio.to_thread(job.store.batches.close, job.id, "failed", message)
            for slot in [s for s in job.slots if s.state.active]:
                await self._close_entry(slot, ImageState.INTERRUPTED, "interrupted", message)
            return
        self._start_batch(job, job.created_at)

    def _start_batch(self, job: Job, started_at: float) -> None:
        """Its unfinished images are "sent" for as long as Google holds the batch; the lane follows it."""
        for slot in job.slots:
            if slot.state.active:
                slot.state, slot.started_at = ImageState.SENDING, started_at
        self.batches.start(job)
        self._touch(job.namespace)

    async def _admit(self, job: Job) -> None:
        if job.request.lane == "batch":  # one Google batch for the whole job, outside the per-image caps
            self._start_batch(job, time.time())
            return
        self._waiting.extend(job.slots)
        self._pump()
        self._touch(job.namespace)

    def _pump(self) -> None:
        """Start queued images in order while the caps allow; an identity at its cap does not block others."""
        total = sum(self._in_flight.values())
        for slot in list(self._waiting):
            if total >= self.limits.per_process:
                break
            if self._in_flight[slot.namespace] >= self.limits.per_identity:
                continue
            self._waiting.remove(slot)
            self._in_flight[slot.namespace] += 1
            total += 1
            with self._lock:
                slot.state = ImageState.SENDING
                slot.started_at = time.time()
            slot.task = asyncio.create_task(self._run_image(slot), name=f"image-{slot.entry_id}")

    async def _run_image(self, slot: ImageSlot) -> None:
        job = slot.job
        try:
            result = await self._generate(slot)
            if job.request.region is not None:  # the composite is the version; the answer is kept raw beside it
                result = await asyncio.to_thread(apply_region, job.request.region, result)
            if result.ok and result.thumbnail:
                with self._lock:
                    slot.preview, slot.draft = result.thumbnail, None
                self._touch(job.namespace)  # pages draw it now, while History writes the files
            await self._finish(slot, result)
        except asyncio.CancelledError:
            await self._close_entry(slot, ImageState.CANCELLED, "cancelled", CANCELLED_MESSAGE)
        except Exception as exc:  # a worker exception never kills the loop or another job
            log.exception("job runner: image %s failed inside the studio", slot.entry_id)
            reason = type(exc).__name__
            await self._close_entry(slot, ImageState.FAILED, "internal", INTERNAL_MESSAGE.format(reason=reason))
        finally:
            self._in_flight[job.namespace] -= 1
            if self._in_flight[job.namespace] <= 0:
                del self._in_flight[job.namespace]
            self._pump()
            self._touch(job.namespace)

    async def _generate(self, slot: ImageSlot) -> ImageResult:
        """Send one image; after an expired sign-in, renew once and send again, else fail the rest plainly."""
        job = slot.job
        async def before_attempt() -> None:
            """Read the token at send time: renew one about to expire, and every send uses the newest."""
            connection = job.credentials.connection
            expires_in = connection.expires_in_s()
            if expires_in is not None and expires_in < RENEW_MARGIN_S and job.credentials.can_renew \
                    and not slot.renewed:
                slot.renewed = True
                await asyncio.to_thread(job.credentials.renew)
            self._remember_token(job.credentials.connection)

        while True:
            engine = await self._engine(job.credentials.connection)
            result = await engine.generate_one(job.request, slot.index, on_event=lambda e: self._on_event(slot, e),
                                               before_attempt=before_attempt)
            kind = result.failure.kind if result.failure is not None else None
            if kind in (FailureKind.WRONG_TOKEN, FailureKind.INVALID_API_KEY, FailureKind.INSUFFICIENT_SCOPE):
                await self._fail_waiting(job, result.failure)  # the same credential would fail them all
                return result
            if kind is not FailureKind.TOKEN_EXPIRED:
                return result
            if job.credentials.can_renew and not slot.renewed:
                slot.renewed = True
                if await asyncio.to_thread(job.credentials.renew) is not None:
                    continue
            await self._fail_waiting(job, result.failure)  # the same credential would fail them all
            return result

    @staticmethod
    def _engine_key(connection: Connection) -> Connection:
        """Google sign-in clients read their token at send time, so one client serves every renewal."""
        if connection.mode == "oauth":
            return replace(connection, access_token=None, expires_at=None)
        return connection

    def _remember_token(self, connection: Connection) -> None:
        if connection.mode == "oauth" and connection.access_token:
            self._tokens[self._engine_key(connection)] = connection.access_token

    async def _engine(self, connection: Connection) -> Engine:
        key = self._engine_key(connection)
        self._remember_token(connection)
        self._engine_used[key] = time.monotonic()
        engine = self._engines.get(key)
        if engine is None:
            token_source = (lambda: self._tokens.get(key, "")) if connection.mode == "oauth" else None
            engine = self._engine_factory(connection, self.catalogue, self.limits, token_source)
            self._engines[key] = engine
        return engine

    async def _client_for(self, credentials: CredentialSource) -> Any:
        """The google-genai client of the engine for these credentials (embedding calls share its pool)."""
        return (await self._engine(credentials.connection)).client

    def _index_later(self, job: Job, entry_id: str) -> None:
        """A successful image is embedded in the background, on the owner's credentials, its cost recorded."""
        try:
            self.indexer.entry_succeeded(job.namespace, job.store, job.credentials, entry_id)
        except Exception as exc:  # search by meaning is a help: never fail an image over it
            log.info("job runner: could not queue %s for indexing: %s", entry_id, type(exc).__name__)

    def _on_event(self, slot: ImageSlot, event: ImageEvent) -> None:
        with self._lock:
            if event.kind == "sending":
                slot.attempt = event.attempt
                slot.note = "" if event.attempt == 1 else f"Attempt {event.attempt}…"
            elif event.kind == "retrying" and event.failure is not None:
                slot.note = (f"{event.failure.message} Retrying in {event.delay_s:.0f} s "
                             f"(attempt {event.attempt + 1})…")
            elif event.kind == "draft" and event.draft is not None:
                slot.state = ImageState.DRAFTING
                slot.draft = event.draft
                slot.drafts_seen += 1
            elif event.kind == "thought":
                slot.state = ImageState.DRAFTING
                slot.thought_text = event.thought_text
            elif event.kind == "preview":  # from the engine's worker thread: the lock makes that safe
                slot.preview, slot.draft = event.preview, None
        self._touch(slot.namespace)

    async def _finish(self, slot: ImageSlot, result: ImageResult) -> None:
        """Record the answer off the loop (files, thumbnail, SQLite); a failed record fails only this image."""
        try:
            await self._store_result(slot, result)
        except Exception as exc:
            log.warning("job runner: could not record %s: %s", slot.entry_id, type(exc).__name__)
            message = STORE_FAILED_MESSAGE.format(reason=_plain_reason(exc))
            await self._close_entry(slot, ImageState.FAILED, "store_error", message)

    async def _store_result(self, slot: ImageSlot, result: ImageResult) -> None:
        """Record the answer; raises when the store fails. An entry ended meanwhile (cancelled, interrupted,
        recorded by another collector) keeps its outcome, and the live view takes it."""
        job = slot.job
        entry = await asyncio.to_thread(job.store.finish_entry, job.namespace, slot.entry_id,
                                        job.request.for_image(slot.index), result)
        with self._lock:
            if entry is not None and entry.status != result.status:
                slot.settle(entry.status, entry.failure_message or "")
            else:
                slot.state = ImageState.DONE if result.ok else ImageState.FAILED
                slot.message = result.failure.message if result.failure else ""
                slot.finished_at = time.time()
                slot.note = ""
            slot.draft, slot.preview = None, b""  # kept in History now; free the memory
        if result.ok and entry is not None and entry.status == "ok":
            self._index_later(job, slot.entry_id)

    async def _close_entry(self, slot: ImageSlot, state: ImageState, kind: str, message: str) -> None:
        job = slot.job
        with self._lock:
            slot.state, slot.message, slot.finished_at, slot.note = state, message, time.time(), ""
            slot.draft, slot.preview = None, b""
        with contextlib.suppress(Exception):  # the store may be what failed; the live view still says why
            await asyncio.to_thread(job.store.end_entry, job.namespace, slot.entry_id, state.value, kind, message)

    async def _cancel(self, job: Job, index: int | None) -> int:
        if job.request.lane == "batch":  # Google cancels a batch whole, never one image of it
            if index is None:
                await self.batches.cancel(job)
            return 0
        cancelled = 0
        for slot in job.slots:
            if (index is not None and slot.index != index) or not slot.state.active:
                continue
            cancelled += 1
            if slot in self._waiting:
                self._waiting.remove(slot)
                await self._close_entry(slot, ImageState.CANCELLED, "cancelled", CANCELLED_MESSAGE)
            elif slot.task is not None:
                slot.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await slot.task
        self._touch(job.namespace)
        return cancelled

    async def _fail_waiting(self, job: Job, failure: Failure | None) -> None:
        """The job's credential was refused: its queued images fail with the same words, unsent."""
        kind = failure.kind if failure else FailureKind.TOKEN_EXPIRED
        message = failure.message if failure else PLAIN_MESSAGES[kind]
        for slot in [s for s in self._waiting if s.job is job]:
            self._waiting.remove(slot)
            await self._close_entry(slot, ImageState.FAILED, kind.value, message)

    def _touch(self, namespace: str) -> None:
        with self._changed:
            self._versions[namespace] += 1
            self._changed.notify_all()

    # ---- housekeeping (its timers in studio/jobs/housekeeping.py; these run on the loop thread) ----------
    def _running_by_store(self) -> list[tuple[HistoryStore, list[str]]]:
        """Each store with the entries this process works on (batch entries too: Google's, never stale)."""
        with self._lock:
            running: dict[int, tuple[HistoryStore, list[str]]] = {}
            for job in self._jobs.values():
                ids = [slot.entry_id for slot in job.slots if slot.state.active]
                if ids:
                    running.setdefault(id(job.store), (job.store, []))[1].extend(ids)
        return list(running.values())

    def _watched_stores(self) -> list[HistoryStore]:
        with self._lock:
            return [store for store in self._stores.values() if not store.closed]

    async def _tidy(self) -> None:
        """Forget old finished jobs, close idle clients, hand freed memory back."""
        with self._lock:
            cutoff = time.time() - self.limits.keep_finished_s
            for job_id in [j.id for j in self._jobs.values()
                           if not j.active and max((s.finished_at or 0) for s in j.slots) < cutoff]:
                del self._jobs[job_id]
        await self._close_idle_engines()
        await self._release_memory_when_quiet()

    async def _release_memory_when_quiet(self) -> None:
        """While no image is in flight, hand freed heap pages back to the system (RSS falls back instead of
        staying at the peak; docs/PERFORMANCE.md): at once after a burst, then every ``release_every_s``, since
        the pages free memory too (History tables, reloads) and the runner cannot see when."""
        with self._lock:
            quiet = not any(job.active for job in self._jobs.values()) and not self.indexer.busy
            changes = self._versions.total()
        due = time.monotonic() - self._released_at >= self.limits.release_every_s
        if quiet and (changes != self._trimmed_at or due):
            await asyncio.to_thread(self.release_memory)
            self._trimmed_at, self._released_at = changes, time.monotonic()

    async def _close_idle_engines(self) -> None:
        """Release the clients of connections no running image uses and nobody used lately."""
        with self._lock:
            busy = {self._engine_key(job.credentials.connection) for job in self._jobs.values() if job.active}
        cutoff = time.monotonic() - self.limits.engine_idle_s
        for connection in [c for c, used in self._engine_used.items() if used < cutoff and c not in busy]:
            engine = self._engines.pop(connection, None)
            self._engine_used.pop(connection, None)
            self._tokens.pop(connection, None)
            if engine is not None:
                await engine.aclose()

    def engines_open(self) -> int:
        """How many connection clients the runner holds (memory figures and tests)."""
        return len(self._engines)

    async def _shutdown(self) -> None:
        """Cancel and record what runs (bounded: a stuck store or socket must not hold up the process's exit)."""
        self.housekeeping.stop()
        for job in list(self._jobs.values()):
            if job.request.lane == "batch":  # Google keeps making it: the next process collects it
                await self.batches.stop(job)
                continue
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._cancel(job, None), timeout=5)
        for engine in self._engines.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(engine.aclose(), timeout=2)
        self._engines.clear()

    # ---- snapshots ------------------------------------------------------------------------
    def _snapshot(self, job: Job) -> JobView:
        """Called with the lock held."""
        waiting_by_ns = [slot for slot in self._waiting if slot.namespace == job.namespace]
        now = time.time()
        images = tuple(ImageView(
            index=s.index, entry_id=s.entry_id, state=s.state, attempt=s.attempt, note=s.note, message=s.message,
            draft=s.draft, preview=s.preview, drafts_seen=s.drafts_seen, thought_text=s.thought_text,
            queue_position=(waiting_by_ns.index(s) + 1) if s in waiting_by_ns else None,
            elapsed_s=((s.finished_at or now) - s.started_at) if s.started_at else 0.0) for s in job.slots)
        finished = max((s.finished_at or 0) for s in job.slots) if not job.active and job.slots else None
        return JobView(id=job.id, namespace=job.namespace, prompt=job.request.prompt, model_id=job.request.model_id,
                       count=job.request.count, created_at=job.created_at, images=images, finished_at=finished,
                       lane=job.request.lane, batch_state=job.batch_state, cancellable=cancellable(job),
                       variations=bool(job.request.prompts))


def cancellable(job: Job) -> bool:
    """Whether "Cancel job" may be offered: never once Google has finished a batch (its answers are paid)."""
    return job.active and (job.request.lane != "batch" or job.batch_state in CANCELLABLE)


class RunnerCollection:
    """The runner as the batch lane sees it (studio/jobs/collection.py): record, close, notify, an engine."""

    def __init__(self, runner: JobRunner) -> None:
        self._runner = runner
        self.owner = runner.owner
        self.catalogue = runner.catalogue
        self.limits = runner.limits

    async def engine(self, connection: Connection) -> Engine:
        return await self._runner._engine(connection)

    async def record(self, slot: ImageSlot, result: ImageResult) -> None:
        await self._runner._store_result(slot, result)
        self._runner._touch(slot.namespace)

    async def close_image(self, slot: ImageSlot, state: ImageState, kind: str, message: str) -> None:
        await self._runner._close_entry(slot, state, kind, message)

    def notify(self, job: Job, change: Callable[[], None] | None = None) -> None:
        if change is not None:
            with self._runner._lock:
                change()
        self._runner._touch(job.namespace)


def batch_recipe(request: GenerationRequest) -> dict:
    """What a batch needs stored to rebuild its request after a restart (references come from History)."""
    return {**request.recipe(), "include_thoughts": request.include_thoughts, "lane": request.lane}


def _plain_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == 28:
        return "the disk is full"
    if isinstance(exc, OSError):
        return "the image folder could not be written"
    return f"the history store refused it: {type(exc).__name__}"
