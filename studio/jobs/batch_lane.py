"""The batch lane: a job sent through Google's Batch API (half price, answered within 24 h) and collected later.

The runner hands a batch-lane job here instead of sending its images one by one. The lane creates one
Google batch (inline requests while the batch is small, else a JSONL file uploaded with the Files API),
stores its name with History, polls it with backoff, and records every answer in the job's entries.
A batch outlives the process: ``resume`` picks up a stored batch when its identity connects again, and a
database lease (``BatchBook.claim``), renewed while collecting, makes sure only one process, of any replica,
records its answers; when that process dies the lease runs out and a watching process claims it.
Collecting is retried like polling is (claim, answers file, parse, store): a paid answer is never thrown
away for a brief error, and a lasting one leaves the batch open for a later resume.
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
from typing import Any

from google.genai import _common, types
from google.genai import batches as genai_batches

from studio.engine import Engine
from studio.failures import classify_exception
from studio.jobs.collection import Collection
from studio.jobs.model import ImageState, Job
from studio.redact import redact_text
from studio.results import FailureKind

log = logging.getLogger(__name__)
INLINE_MAX_BYTES = 10 * 1024 * 1024  # Google takes 20 MB of inline requests; half leaves room for the envelope
COLLECT_CONCURRENCY = 4  # answers recorded at once (image work releases the GIL; each holds one answer)
QUIET_POLL_FAILURES = 3  # a lost connection while polling is retried quietly this many times before we say so
FINAL = {"JOB_STATE_SUCCEEDED": "succeeded", "JOB_STATE_FAILED": "failed", "JOB_STATE_CANCELLED": "cancelled",
         "JOB_STATE_EXPIRED": "expired"}
STATE_NOTES = {"submitting": "Sending the batch to Google…", "pending": "In Google's batch queue: not started yet.",
               "running": "Google is making this batch.", "succeeded": "Google has finished: recording the images…",
               "cancelling": "Cancelling…"}
CANCELLABLE = ("", "submitting", "pending", "running")  # once Google has finished, the answers are paid for
MISSING_MESSAGE = "Google's batch finished without an answer for this image."
RETRY_NOTE = "Recording the finished batch failed ({reason}); trying again, nothing is lost."
GAVE_UP_MESSAGE = ("Google finished this batch, but the studio could not record its images ({reason}). They are "
                   "kept at Google: they are collected when you next open the studio (reload the page).")
OTHER_COLLECTOR_NOTE = "Another studio process is recording these images…"
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

    def __init__(self, jobs: Collection) -> None:
        self.jobs = jobs
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
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def cancel(self, job: Job) -> None:
        """Cancel the whole batch at Google (a batch cannot lose single images); runs in the runner, never a page.

        Google's word decides the outcome: the batch is followed again until it is final, so a batch that finished
        before the cancel arrived is collected (its answers are paid) and a cancelled one ends its images."""
        sending = self._tasks.get(job.id)
        while job.batch_name is None and sending is not None and not sending.done():
            await asyncio.sleep(0.05)  # never cut a create short: Google may have the batch before we have its name
        await self.stop(job)
        if job.batch_name is None:  # sending failed (its images say why): nothing at Google to cancel or collect
            await asyncio.to_thread(job.store.batches.close, job.id, "cancelled", "Cancelled before Google had it.")
            await self._end_all(job, ImageState.CANCELLED, "cancelled", CANCELLED_BATCH_MESSAGE)
            return
        try:
            engine = await self.jobs.engine(job.credentials.connection)
            await engine.client.aio.batches.cancel(name=job.batch_name)
        except Exception as exc:  # said on the page; the batch is still followed, so nothing is lost
            self._log(job, "cancel", exc)
            self._note(job, "", f"Google did not take the cancel ({self._reason(job, exc)}); the batch goes on.")
            self.jobs.notify(job, lambda: setattr(job, "batch_state", "running"))
        self.start(job)

    # ---- the job's life ----------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        try:
            if job.batch_name is None:
                try:
                    await self._create(job)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # Google never took it: its images fail plainly, nothing is billed
                    self._log(job, "create", exc)
                    message = f"The batch could not be sent: {classify_exception(exc).message}"
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(job.store.batches.close, job.id, "failed", message)
                    await self._end_all(job, ImageState.FAILED, "batch_error", message)
                    return
            await self._follow(job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never fail paid images for a fault of ours: the record stays open
            self._log(job, "follow", exc)
            await self._give_up(job, exc)
        finally:
            if self._tasks.get(job.id) is asyncio.current_task():
                del self._tasks[job.id]

    async def _create(self, job: Job) -> None:
        engine = await self.jobs.engine(job.credentials.connection)
        request = job.request
        spec = self.jobs.catalogue.resolve(request.model_id)
        items, sent = [], {}
        for slot in job.slots:
            contents, config, shown = engine.batch_item(request, slot.index)
            sent[slot.entry_id] = shown
            items.append(types.InlinedRequest(model=spec.model_id, contents=contents, config=config,
                                              metadata={"key": slot.entry_id}))
        job.batch_sent = sent
        payload = sum(len(ref.data) for ref in request.references) * 4 // 3 * len(items)
        inline = len(items) <= self.jobs.limits.batch_inline_max and payload <= INLINE_MAX_BYTES
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

    async def _poll(self, job: Job) -> tuple[Engine, types.BatchJob]:
        """Ask Google about the batch; lost connections are retried quietly, then said; a refused credential
        waits for the person to reconnect."""
        delay = self.jobs.limits.batch_poll_s
        failures = 0
        while True:
            try:
                engine = await self.jobs.engine(job.credentials.connection)
                batch = await engine.client.aio.batches.get(name=job.batch_name)  # type: ignore[arg-type]
                return engine, batch
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = classify_exception(exc, job.credentials.connection.secrets())
                if failure.kind in CREDENTIAL_FAILURES:
                    await self._wait_for_credentials(job)
                    continue
                failures += 1
                if failures > QUIET_POLL_FAILURES:
                    self._note(job, "", f"Lost contact with Google while checking the batch ({failure.message}); "
                                        "still trying, nothing is lost.")
                await asyncio.sleep(min(delay * failures, self.jobs.limits.batch_poll_max_s))

    async def _follow(self, job: Job) -> None:
        """Poll with backoff until Google is done, then conclude."""
        delay = self.jobs.limits.batch_poll_s
        while True:
            engine, batch = await self._poll(job)
            state = _state_of(batch)
            if state in ("pending", "running"):
                self._note(job, state)
                await asyncio.to_thread(job.store.batches.set_state, job.id, state)
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, self.jobs.limits.batch_poll_max_s)
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
        await self._collect(job, engine, batch)

    # ---- collecting ----------------------------------------------------------------------------
    async def _collect(self, job: Job, engine: Engine, batch: types.BatchJob) -> None:
        """Record a finished batch once across processes; every step is retried, and a lasting failure leaves the
        record open (entries still running, the lease released) for a later resume."""
        limits = self.jobs.limits
        failures = 0
        while True:
            try:
                claimed = await asyncio.to_thread(job.store.batches.claim, job.id, self.jobs.owner,
                                                  limits.batch_lease_s)
                if not claimed:
                    if await self._watch_other_collector(job):
                        return  # the other process recorded everything
                    continue  # its lease ran out (it died): try to claim again
                renewing = asyncio.create_task(self._renew_lease(job), name=f"lease-{job.id}")
                try:
                    await self._collect_once(job, engine, batch)
                finally:
                    renewing.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await renewing
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                for error in exc.errors if isinstance(exc, RecordingFailed) else [exc]:
                    self._log(job, f"collect (attempt {failures})", error)
                if failures >= limits.batch_collect_attempts:
                    await self._give_up(job, exc)
                    return
                self._note(job, "", RETRY_NOTE.format(reason=self._reason(job, exc)))
                await asyncio.sleep(min(limits.batch_poll_s * failures, limits.batch_poll_max_s))
                with contextlib.suppress(Exception):  # a fresh look: the answers file may have been renamed
                    engine, batch = await self._poll(job)

    async def _renew_lease(self, job: Job) -> None:
        """Keep the lease while collecting (a big batch outlasts one lease); losing it is logged, and
        recording stays exactly once anyway (an entry takes a result only while it is running)."""
        lease = self.jobs.limits.batch_lease_s
        while True:
            await asyncio.sleep(lease / 3)
            try:
                if not await asyncio.to_thread(job.store.batches.renew, job.id, self.jobs.owner, lease):
                    log.warning("batch lane: job %s: the collection lease passed to another process", job.id)
                    return
            except Exception as exc:  # the next renewal tries again; the lease is three renewals long
                self._log(job, "renew the lease", exc)

    async def _collect_once(self, job: Job, engine: Engine, batch: types.BatchJob) -> None:
        self._note(job, "succeeded")
        dest = batch.dest
        recording = _Recording(lambda *line: self._record(job, engine, *line))
        if dest is not None and dest.inlined_responses is not None:
            for key, answer, error in inline_answers(dest.inlined_responses, [s.entry_id for s in job.slots]):
                await recording.add(key, answer, error)
        elif dest is not None and dest.file_name:
            await self._record_file(job, engine, dest.file_name, recording)
        await recording.finish()  # raises when any answer could not be recorded: the whole pass is tried again
        for slot in [s for s in job.slots if s.state.active]:  # every answer Google gave is recorded: truly none
            await self.jobs.close_image(slot, ImageState.FAILED, "batch_missing", MISSING_MESSAGE)
        await asyncio.to_thread(job.store.batches.close, job.id, "collected")
        self.jobs.notify(job)

    async def _record_file(self, job: Job, engine: Engine, file_name: str, recording: _Recording) -> None:
        """The answers file is streamed to a temp file, then read a line at a time: memory stays flat."""
        handle, path = tempfile.mkstemp(prefix="studio-batch-", suffix=".jsonl")
        os.close(handle)
        try:
            await engine.client.aio.files.download(file=file_name, destination=path)
            keys = [s.entry_id for s in job.slots]
            lines = _read_lines(path, keys)
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
            self.jobs.notify(job, lambda: slot.settle(entry.status, entry.failure_message or ""))
            return
        waited = time.time() - job.created_at
        sent = job.batch_sent.get(key) or engine.batch_item(job.request, slot.index)[2]  # after a restart
        result = await asyncio.to_thread(engine.read_batch_answer, job.request, slot.index, sent, answer, error,
                                         waited)
        await self.jobs.record(slot, result)

    async def _watch_other_collector(self, job: Job) -> bool:
        """Show another process's recordings as they land; True once it is done, False once its lease ran out
        (it died or gave up) so this process may claim the batch."""
        self._note(job, "", OTHER_COLLECTOR_NOTE)
        while True:
            record = await asyncio.to_thread(job.store.batches.get, job.id)
            entries = await asyncio.to_thread(job.store.get_many, job.namespace, [s.entry_id for s in job.slots])
            by_id = {entry.id: entry for entry in entries}

            def settle(by_id: dict = by_id) -> None:
                for slot in job.slots:
                    entry = by_id.get(slot.entry_id)
                    if slot.state.active and entry is not None and not entry.is_running:
                        slot.settle(entry.status, entry.failure_message or "")

            self.jobs.notify(job, settle)
            if record is None or record.collected_at is not None or not job.active:
                if record is not None and record.collected_at is None:
                    with contextlib.suppress(Exception):  # every image is in: close what the other left open
                        await asyncio.to_thread(job.store.batches.close, job.id, "collected")
                return True
            if record.collector is None or (record.lease_until or 0) < time.time():
                return False
            await asyncio.sleep(min(self.jobs.limits.batch_poll_s, self.jobs.limits.batch_lease_s / 3))

    async def _give_up(self, job: Job, exc: BaseException) -> None:
        """A lasting failure: keep the batch open (its entries stay running, nobody holds its lease) and say so
        truthfully; the next resume (a reload, a restart, another replica) collects it."""
        message = GAVE_UP_MESSAGE.format(reason=self._reason(job, exc))
        with contextlib.suppress(Exception):
            await asyncio.to_thread(job.store.batches.release, job.id, self.jobs.owner, message)

        def fail_live() -> None:  # the live view only: History keeps them running until they are collected
            for slot in job.slots:
                if slot.state.active:
                    slot.state, slot.message, slot.note = ImageState.FAILED, message, ""
                    slot.finished_at = time.time()
            job.batch_state = "kept"

        self.jobs.notify(job, fail_live)

    async def _end_all(self, job: Job, state: ImageState, kind: str, message: str) -> None:
        for slot in [s for s in job.slots if s.state.active]:
            await self.jobs.close_image(slot, state, kind, message)
        self.jobs.notify(job)

    def _note(self, job: Job, state: str, text: str = "") -> None:
        def change() -> None:
            new_state = state
            if job.batch_state == "cancelling" and state in ("pending", "running"):
                new_state = "cancelling"  # until Google's answer is final, the page says "Cancelling…"
            note = text or STATE_NOTES.get(new_state, "")
            if new_state:
                job.batch_state = new_state
            for slot in job.slots:
                if slot.state.active:
                    slot.note = note

        self.jobs.notify(job, change)

    @staticmethod
    def _reason(job: Job, exc: BaseException) -> str:
        if isinstance(exc, RecordingFailed):
            exc = exc.errors[0]
        return classify_exception(exc, job.credentials.connection.secrets()).message

    @staticmethod
    def _log(job: Job, step: str, exc: BaseException) -> None:
        """Every failure is kept in the log, with secrets redacted (no traceback: its frames may hold them)."""
        text = redact_text(f"{type(exc).__name__}: {exc}"[:2000], job.credentials.connection.secrets())
        log.warning("batch lane: job %s: %s failed: %s", job.id, step, text)


def inline_answers(responses: list[Any], keys: list[str]) -> Iterator[tuple[str, dict | None, dict | None]]:
    """(entry id, answer, error) for each inline answer: matched by the key we sent in its metadata, and by its
    position (answers come in the order of the requests) when Google leaves the key out."""
    for position, item in enumerate(responses):
        key = str((getattr(item, "metadata", None) or {}).get("key", "") or "")
        if not key and position < len(keys):
            key = keys[position]
        response = getattr(item, "response", None)
        answer = response.model_dump(mode="json", exclude_none=True, by_alias=True,
                                     exclude={"sdk_http_response"}) if response is not None else None
        error = item.error.model_dump(mode="json", exclude_none=True) if getattr(item, "error", None) else None
        yield key, answer, error


class _Recording:
    """Records answers a few at a time: decoding, re-encoding and writing overlap, memory stays bounded.

    Every answer's failure is kept (logged by the caller), never lost with its task: ``finish`` raises once all
    are done when any failed, so the pass is tried again and no image is called unanswered when it was not."""

    def __init__(self, record: Callable[..., Awaitable[None]], at_once: int = COLLECT_CONCURRENCY) -> None:
        self._record = record
        self._slots = asyncio.Semaphore(at_once)
        self._tasks: set[asyncio.Task] = set()
        self.errors: list[BaseException] = []

    async def add(self, key: str, answer: dict | None, error: dict | None) -> None:
        await self._slots.acquire()  # waits while COLLECT_CONCURRENCY answers are being recorded
        task = asyncio.create_task(self._one(key, answer, error))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _one(self, key: str, answer: dict | None, error: dict | None) -> None:
        try:
            await self._record(key, answer, error)
        except Exception as exc:
            self.errors.append(exc)
        finally:
            self._slots.release()

    async def finish(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        if self.errors:
            raise RecordingFailed(self.errors)


class RecordingFailed(Exception):
    """Some answers of a finished batch could not be recorded (the first one's error says why)."""

    def __init__(self, errors: list[BaseException]) -> None:
        super().__init__(f"{len(errors)} answer(s) not recorded: {type(errors[0]).__name__}: {errors[0]}")
        self.errors = errors


CANCELLED_BATCH_MESSAGE = ("Cancelled at Google. Images Google had already made before the cancel may still be "
                           "billed.")


def _state_of(batch: types.BatchJob) -> str:
    name = batch.state.name if batch.state is not None else "JOB_STATE_PENDING"
    return FINAL.get(name) or ("running" if name == "JOB_STATE_RUNNING" else "pending")


def _read_lines(path: str, keys: list[str]) -> Iterator[tuple[str, dict | None, dict | None]]:
    """(entry id, answer, error) per line; a line without its key is matched by its position."""
    with open(path, encoding="utf-8") as lines:
        position = 0
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            error = row.get("error") or row.get("status")
            key = str(row.get("key", "") or "") or (keys[position] if position < len(keys) else "")
            position += 1
            yield key, row.get("response"), error if isinstance(error, dict) else None
