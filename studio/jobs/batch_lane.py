"""The batch lane: a job sent through Google's Batch API (half price, answered within 24 h) and collected later.

The runner hands a batch-lane job here instead of sending its images one by one. The lane creates one
Google batch (inline requests while the batch is small, else a JSONL file uploaded with the Files API),
stores its name with History, polls it with backoff, and records every answer in the job's entries.
A batch outlives the process: ``resume`` picks up a stored batch when its identity connects again, and a
database lease (``BatchBook.claim``) makes sure only one process, of any replica, records its answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from google.genai import _common, types
from google.genai import batches as genai_batches

from studio.engine import Engine
from studio.failures import classify_exception
from studio.jobs.model import ImageState, Job
from studio.results import FailureKind

if TYPE_CHECKING:
    from studio.jobs.runner import JobRunner

log = logging.getLogger(__name__)
INLINE_MAX_BYTES = 10 * 1024 * 1024  # Google takes 20 MB of inline requests; half leaves room for the envelope
COLLECT_LEASE_S = 600.0
COLLECT_CONCURRENCY = 4  # answers recorded at once (image work releases the GIL; each holds one answer)
QUIET_POLL_FAILURES = 3  # a lost connection while polling is retried quietly this many times before we say so
FINAL = {"JOB_STATE_SUCCEEDED": "succeeded", "JOB_STATE_FAILED": "failed", "JOB_STATE_CANCELLED": "cancelled",
         "JOB_STATE_EXPIRED": "expired"}
STATE_NOTES = {"submitting": "Sending the batch to Google…", "pending": "In Google's batch queue: not started yet.",
               "running": "Google is making this batch.", "succeeded": "Google has finished: recording the images…"}
RECONNECT_NOTE = "Waiting for you to reconnect to collect {count} image{s}."
EXPIRED_MESSAGE = "Google's batch expired before making this image (Google gives a batch 24 hours). Nothing is billed."
CREDENTIAL_FAILURES = (FailureKind.TOKEN_EXPIRED, FailureKind.WRONG_TOKEN, FailureKind.INVALID_API_KEY,
                       FailureKind.INSUFFICIENT_SCOPE, FailureKind.PERMISSION)


def jsonl_line(client_api: object, item: types.InlinedRequest, key: str) -> str:
    """One line of the input file, made by the SDK's own converter so it matches what inline requests send."""
    wire = genai_batches._InlinedRequest_to_mldev(client_api, item)  # type: ignore[arg-type]
    wire = _common.encode_unserializable_types(_common.convert_to_dict(wire))  # bytes -> base64, as sent
    return json.dumps({"key": key, "request": wire["request"]})


class BatchLane:
    """Creates, polls and collects the runner's batch-lane jobs, on the runner's event loop."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self._tasks: dict[str, asyncio.Task] = {}
        self._credentials_changed: dict[str, asyncio.Event] = {}

    # ---- entry points (on the loop) --------------------------------------------------------
    def start(self, job: Job) -> None:
        self._tasks[job.id] = asyncio.create_task(self._run(job), name=f"batch-{job.id}")

    def tracking(self, job_id: str) -> bool:
        return job_id in self._tasks and not self._tasks[job_id].done()

    def credentials_changed(self, job_id: str) -> None:
        event = self._credentials_changed.get(job_id)
        if event is not None:
            event.set()

    async def stop(self, job: Job) -> None:
        """Stop following a batch without touching it at Google or in History (the process is ending)."""
        task = self._tasks.pop(job.id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def cancel(self, job: Job) -> int:
        """Cancel the whole batch at Google (a batch cannot lose single images), and record it."""
        active = [slot for slot in job.slots if slot.state.active]
        if not active:
            return 0
        await self.stop(job)
        if job.batch_name:
            with contextlib.suppress(Exception):  # the record still says cancelled; Google ends it in 24 h anyway
                engine = await self.runner._engine(job.credentials.connection)
                await engine.client.aio.batches.cancel(name=job.batch_name)
        await asyncio.to_thread(job.store.batches.close, job.id, "cancelled", "Cancelled.")
        for slot in active:
            await self.runner._close_entry(slot, ImageState.CANCELLED, "cancelled", CANCELLED_BATCH_MESSAGE)
        self.runner._touch(job.namespace)
        return len(active)

    # ---- the job's life ----------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        try:
            if job.batch_name is None:
                await self._create(job)
            await self._follow(job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failure here fails this batch's images plainly, never the loop
            log.exception("batch lane: job %s failed inside the studio", job.id)
            message = f"The batch could not be sent: {classify_exception(exc).message}"
            with contextlib.suppress(Exception):
                await asyncio.to_thread(job.store.batches.close, job.id, "failed", message)
            await self._end_all(job, ImageState.FAILED, "batch_error", message)
        finally:
            self._tasks.pop(job.id, None)

    async def _create(self, job: Job) -> None:
        engine = await self.runner._engine(job.credentials.connection)
        request = job.request
        spec = self.runner.catalogue.resolve(request.model_id)
        items, sent = [], {}
        for slot in job.slots:
            contents, config, shown = engine.batch_item(request, slot.index)
            sent[slot.entry_id] = shown
            items.append(types.InlinedRequest(model=spec.model_id, contents=contents, config=config,
                                              metadata={"key": slot.entry_id}))
        job.batch_sent = sent
        payload = sum(len(ref.data) for ref in request.references) * 4 // 3 * len(items)
        inline = len(items) <= self.runner.limits.batch_inline_max and payload <= INLINE_MAX_BYTES
        self._note(job, "submitting")
        if inline:
            src: object = items
        else:
            lines = "\n".join(jsonl_line(engine.client._api_client, item, item.metadata["key"])  # type: ignore[index]
                              for item in items).encode()
            uploaded = await engine.client.aio.files.upload(
                file=io.BytesIO(lines), config={"mime_type": "jsonl", "display_name": f"studio-{job.id}"})
            src = uploaded.name
        batch = await engine.client.aio.batches.create(model=spec.model_id, src=src,  # type: ignore[arg-type]
                                                       config={"display_name": f"Nano Banana studio {job.id[:8]}"})
        job.batch_name = batch.name
        state = _state_of(batch)
        await asyncio.to_thread(job.store.batches.submitted, job.id, str(batch.name),
                                "inline" if inline else "file", state)
        self._note(job, state)

    async def _follow(self, job: Job) -> None:
        """Poll with backoff until Google is done; lost connections are retried quietly, then said."""
        delay = self.runner.limits.batch_poll_s
        failures = 0
        while True:
            try:
                engine = await self.runner._engine(job.credentials.connection)
                batch = await engine.client.aio.batches.get(name=job.batch_name)  # type: ignore[arg-type]
                failures = 0
            except Exception as exc:
                failure = classify_exception(exc)
                if failure.kind in CREDENTIAL_FAILURES:
                    await self._wait_for_credentials(job)
                    continue
                failures += 1
                if failures > QUIET_POLL_FAILURES:
                    self._note(job, "", f"Lost contact with Google while checking the batch ({failure.message}); "
                                        "still trying, nothing is lost.")
                await asyncio.sleep(min(delay, self.runner.limits.batch_poll_max_s))
                continue
            state = _state_of(batch)
            if state in ("pending", "running"):
                self._note(job, state)
                await asyncio.to_thread(job.store.batches.set_state, job.id, state)
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, self.runner.limits.batch_poll_max_s)
                continue
            await self._conclude(job, engine, batch, state)
            return

    async def _wait_for_credentials(self, job: Job) -> None:
        """The credential was refused: renew it if we can, else wait until the person connects again."""
        if job.credentials.can_renew and await asyncio.to_thread(job.credentials.renew) is not None:
            return
        count = sum(slot.state.active for slot in job.slots)
        self._note(job, "", RECONNECT_NOTE.format(count=count, s="" if count == 1 else "s"))
        event = self._credentials_changed.setdefault(job.id, asyncio.Event())
        event.clear()
        await event.wait()

    async def _conclude(self, job: Job, engine: Engine, batch: types.BatchJob, state: str) -> None:
        if state == "cancelled":
            await asyncio.to_thread(job.store.batches.close, job.id, "cancelled", "Cancelled at Google.")
            await self._end_all(job, ImageState.CANCELLED, "cancelled", CANCELLED_BATCH_MESSAGE)
            return
        if state in ("failed", "expired"):
            reason = (batch.error.message if batch.error and batch.error.message else "") or ""
            message = EXPIRED_MESSAGE if state == "expired" else f"Google's batch failed: {reason or 'no reason given'}"
            await asyncio.to_thread(job.store.batches.close, job.id, state, message)
            await self._end_all(job, ImageState.FAILED, f"batch_{state}", message)
            return
        claimed = await asyncio.to_thread(job.store.batches.claim, job.id, self.runner.owner, COLLECT_LEASE_S)
        if not claimed:  # another process (a replica) records these answers: show them as they land
            await self._watch_other_collector(job)
            return
        self._note(job, "succeeded")
        dest = batch.dest
        recording = _Recording(lambda *line: self._record(job, engine, *line))
        if dest is not None and dest.inlined_responses is not None:
            for item in dest.inlined_responses:
                key = str((item.metadata or {}).get("key", ""))
                answer = item.response.model_dump(mode="json", exclude_none=True, by_alias=True,
                                                  exclude={"sdk_http_response"}) if item.response else None
                error = item.error.model_dump(mode="json", exclude_none=True) if item.error else None
                await recording.add(key, answer, error)
        elif dest is not None and dest.file_name:
            await self._record_file(job, engine, dest.file_name, recording)
        await recording.finish()
        missing = "Google's batch finished without an answer for this image."
        for slot in [s for s in job.slots if s.state.active]:
            await self.runner._close_entry(slot, ImageState.FAILED, "batch_missing", missing)
        await asyncio.to_thread(job.store.batches.close, job.id, "collected")
        self.runner._touch(job.namespace)

    async def _record_file(self, job: Job, engine: Engine, file_name: str, recording: _Recording) -> None:
        """The answers file is streamed to a temp file, then read a line at a time: memory stays flat."""
        handle, path = tempfile.mkstemp(prefix="studio-batch-", suffix=".jsonl")
        os.close(handle)
        try:
            await engine.client.aio.files.download(file=file_name, destination=path)
            lines = _read_lines(path)
            while (line := await asyncio.to_thread(next, lines, None)) is not None:
                await recording.add(*line)
            await recording.finish()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)

    async def _record(self, job: Job, engine: Engine, key: str, answer: dict | None, error: dict | None) -> None:
        slot = next((s for s in job.slots if s.entry_id == key and s.state.active), None)
        if slot is None:
            return  # an answer for an image already recorded or cancelled: exactly once
        entry = await asyncio.to_thread(job.store.get, job.namespace, key, True)
        if entry is not None and not entry.is_running:  # recorded by a collector whose lease ran out before ours
            with self.runner._lock:
                slot.settle(entry.status)
            return
        waited = time.time() - job.created_at
        sent = job.batch_sent.get(key) or engine.batch_item(job.request, slot.index)[2]  # after a restart
        result = await asyncio.to_thread(engine.read_batch_answer, job.request, slot.index, sent, answer, error,
                                         waited)
        await self.runner._finish(slot, result)
        self.runner._touch(job.namespace)

    async def _watch_other_collector(self, job: Job) -> None:
        self._note(job, "", "Another studio process is recording these images…")
        while True:
            record = await asyncio.to_thread(job.store.batches.get, job.id)
            entries = await asyncio.to_thread(job.store.get_many, job.namespace, [s.entry_id for s in job.slots])
            by_id = {entry.id: entry for entry in entries}
            for slot in job.slots:
                entry = by_id.get(slot.entry_id)
                if slot.state.active and entry is not None and not entry.is_running:
                    with self.runner._lock:
                        slot.settle(entry.status, entry.failure_message or "")
            self.runner._touch(job.namespace)
            if record is None or record.collected_at is not None or not job.active:
                return
            await asyncio.sleep(self.runner.limits.batch_poll_s)

    async def _end_all(self, job: Job, state: ImageState, kind: str, message: str) -> None:
        for slot in [s for s in job.slots if s.state.active]:
            await self.runner._close_entry(slot, state, kind, message)
        self.runner._touch(job.namespace)

    def _note(self, job: Job, state: str, text: str = "") -> None:
        note = text or STATE_NOTES.get(state, "")
        with self.runner._lock:
            if state:
                job.batch_state = state
            for slot in job.slots:
                if slot.state.active:
                    slot.note = note
        self.runner._touch(job.namespace)


class _Recording:
    """Records answers a few at a time: decoding, re-encoding and writing overlap, memory stays bounded."""

    def __init__(self, record: Callable[..., Awaitable[None]], at_once: int = COLLECT_CONCURRENCY) -> None:
        self._record = record
        self._slots = asyncio.Semaphore(at_once)
        self._tasks: set[asyncio.Task] = set()

    async def add(self, key: str, answer: dict | None, error: dict | None) -> None:
        await self._slots.acquire()  # waits while COLLECT_CONCURRENCY answers are being recorded
        task = asyncio.create_task(self._one(key, answer, error))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _one(self, key: str, answer: dict | None, error: dict | None) -> None:
        try:
            await self._record(key, answer, error)
        finally:
            self._slots.release()

    async def finish(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks))


CANCELLED_BATCH_MESSAGE = "Cancelled. Google does not bill a batch's images it had not made yet."


def _state_of(batch: types.BatchJob) -> str:
    name = batch.state.name if batch.state is not None else "JOB_STATE_PENDING"
    return FINAL.get(name) or ("running" if name == "JOB_STATE_RUNNING" else "pending")


def _read_lines(path: str) -> Iterator[tuple[str, dict | None, dict | None]]:
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            error = row.get("error") or row.get("status")
            yield str(row.get("key", "")), row.get("response"), error if isinstance(error, dict) else None

