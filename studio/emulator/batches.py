"""The Batch API: ``models/{m}:batchGenerateContent`` and ``batches/{id}`` get, list, cancel and delete.

A batch is a long-running operation (``{"name": "batches/…", "metadata": {…}, "done": …}``) whose
state moves PENDING → RUNNING → SUCCEEDED over the configured ``batch_delay_s`` (Google takes up to
24 h; usually minutes). Its requests come inline (``inputConfig.requests.requests``: answers come back
inline in ``output.inlinedResponses``) or as a JSONL file uploaded with the Files API
(``inputConfig.fileName``: answers come back as a JSONL file, ``output.responsesFile``, downloadable).
Each item is answered as generateContent would answer it (faults and blocks included); an item
generateContent would refuse gets an ``error`` (a google.rpc.Status) beside the successes.

Batch-wide faults, by a marker in any item's prompt: ``[[fault:batch_failed]]`` (the batch fails),
``[[fault:batch_expired]]`` (it expires unanswered, as after 24 h at Google).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from studio.emulator import errors, responses, validation
from studio.emulator.faults import HTTP_FAULTS

if TYPE_CHECKING:
    from studio.emulator.state import EmulatorState

BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
MAX_INLINE_BYTES = 20 * 1024 * 1024  # Google: inline requests up to 20 MB in all, else use a file
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 500: 13, 503: 14, 504: 4}


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class Batch:
    """One batch and what it will answer."""

    id: str
    model_id: str
    display_name: str
    created: float
    delay_s: float
    items: list[tuple[str, dict]]  # (key, GenerateContentRequest) in order
    from_file: bool
    outcome: str = ""  # "", "failed", "expired": a batch-wide fault chosen at create
    cancelled_at: float | None = None
    results: list[dict] | None = field(default=None, repr=False)  # one {"key","response"|"error"} per item
    results_file: str | None = None
    finished_at: float | None = None
    ready: threading.Event = field(default_factory=threading.Event, repr=False)  # answers made (or none due)

    @property
    def name(self) -> str:
        return f"batches/{self.id}"

    def state(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "BATCH_STATE_CANCELLED"
        if now < self.created + self.delay_s * 0.25:
            return "BATCH_STATE_PENDING"
        if now < self.created + self.delay_s:
            return "BATCH_STATE_RUNNING"
        return {"failed": "BATCH_STATE_FAILED", "expired": "BATCH_STATE_EXPIRED"}.get(self.outcome,
                                                                                     "BATCH_STATE_SUCCEEDED")


class BatchStore:
    """The batches of one emulator; thread-safe. Answers are made once, when a finished batch is first read."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._batches: dict[str, Batch] = {}

    # ---- create -----------------------------------------------------------------------------
    def create(self, model_id: str, body: dict, delay_s: float) -> dict:
        batch_body = body.get("batch")
        if not isinstance(batch_body, dict):
            raise errors.bad_request("Invalid value at 'batch': a batch with an inputConfig is required.")
        input_config = batch_body.get("inputConfig") or batch_body.get("input_config")
        if not isinstance(input_config, dict):
            raise errors.bad_request("batch.input_config is required.")
        inline = input_config.get("requests")
        file_name = input_config.get("fileName") or input_config.get("file_name")
        if (inline is None) == (file_name is None):
            raise errors.bad_request("batch.input_config must set exactly one of requests or file_name.")
        items = self._file_items(str(file_name)) if file_name else self._inline_items(inline)
        if not items:
            raise errors.bad_request("batch.input_config.requests.requests must not be empty.")
        for position, (_key, request) in enumerate(items):  # a malformed item refuses the whole batch
            if not isinstance(request, dict):
                raise errors.bad_request(f"Invalid request at position {position}: an object is required.")
        display = str(batch_body.get("displayName") or batch_body.get("display_name") or "")
        prompts = " ".join(json.dumps(request) for _key, request in items)
        outcome = "failed" if "[[fault:batch_failed]]" in prompts else (
            "expired" if "[[fault:batch_expired]]" in prompts else "")
        batch = Batch(id=secrets.token_hex(8), model_id=model_id, display_name=display, created=time.time(),
                      delay_s=delay_s, items=items, from_file=bool(file_name), outcome=outcome)
        with self._lock:
            self._batches[batch.id] = batch
        self._state.count("batchGenerateContent")
        return self.operation(batch.id)

    @staticmethod
    def _inline_items(inline: object) -> list[tuple[str, dict]]:
        requests = inline.get("requests") if isinstance(inline, dict) else None
        if not isinstance(requests, list):
            raise errors.bad_request("batch.input_config.requests.requests must be a list.")
        if len(json.dumps(requests)) > MAX_INLINE_BYTES:
            raise errors.bad_request("The inline batch is larger than 20 MB. Upload the requests as a JSONL file "
                                     "with the File API and pass its name instead.")
        items = []
        for position, item in enumerate(requests):
            item = item if isinstance(item, dict) else {}
            key = str(((item.get("metadata") or {}).get("key")) or position)
            items.append((key, item.get("request")))
        return items  # type: ignore[return-value]

    def _file_items(self, file_name: str) -> list[tuple[str, dict]]:
        name = file_name if file_name.startswith("files/") else f"files/{file_name}"
        data = self._state.files.read(name)
        items = []
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                raise errors.bad_request(f"Invalid JSON in the batch input file {name} at line {number}.") from None
            if not isinstance(item, dict) or "request" not in item:
                raise errors.bad_request(f"Line {number} of {name} has no \"request\".")
            items.append((str(item.get("key") or number), item["request"]))
        return items

    # ---- read ------------------------------------------------------------------------------
    def _get(self, batch_id: str) -> Batch:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None:
            raise errors.ApiError(404, "NOT_FOUND", f"Batch batches/{batch_id} not found.")
        return batch

    def operation(self, batch_id: str) -> dict:
        """The batch as Google's long-running operation."""
        batch = self._get(batch_id)
        now = time.time()
        state = batch.state(now)
        done = state not in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING")
        if done:
            self._finish(batch, now)
        count = len(batch.items)
        answered = batch.results or []
        failed = sum("error" in r for r in answered)
        stats = {"requestCount": str(count), "pendingRequestCount": str(0 if done else count)}
        if state == "BATCH_STATE_SUCCEEDED":
            stats.update(successfulRequestCount=str(count - failed), failedRequestCount=str(failed))
        metadata: dict = {"@type": BATCH_TYPE, "model": f"models/{batch.model_id}", "displayName": batch.display_name,
                          "createTime": _stamp(batch.created), "updateTime": _stamp(batch.finished_at or now),
                          "batchStats": stats, "state": state, "name": batch.name}
        if done:
            metadata["endTime"] = _stamp(batch.finished_at or now)
        if state == "BATCH_STATE_SUCCEEDED":
            metadata["output"] = ({"responsesFile": batch.results_file} if batch.from_file else
                                  {"inlinedResponses": {"inlinedResponses": [
                                      {**{k: v for k, v in r.items() if k != "key"}, "metadata": {"key": r["key"]}}
                                      for r in answered]}})
        answer: dict = {"name": batch.name, "metadata": metadata, "done": done}
        if done and state == "BATCH_STATE_SUCCEEDED":
            answer["response"] = {**metadata, "@type": BATCH_TYPE}
        elif state in ("BATCH_STATE_FAILED", "BATCH_STATE_EXPIRED"):
            message = ("The batch expired: it was not completed within 24 hours." if state == "BATCH_STATE_EXPIRED"
                       else "The batch failed: an internal error occurred while processing it.")
            answer["error"] = {"code": 4 if state == "BATCH_STATE_EXPIRED" else 13, "message": message}
        return answer

    def list(self, page_size: int, page_token: str | None) -> dict:
        with self._lock:
            ids = [b.id for b in sorted(self._batches.values(), key=lambda b: -b.created)]
        start = int(page_token) if page_token and page_token.isdigit() else 0
        page = ids[start:start + page_size]
        answer: dict = {"operations": [self.operation(batch_id) for batch_id in page]} if page else {}
        if start + page_size < len(ids):
            answer["nextPageToken"] = str(start + page_size)
        return answer

    def cancel(self, batch_id: str) -> None:
        batch = self._get(batch_id)
        if batch.state(time.time()) in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"):
            batch.cancelled_at = time.time()
            batch.finished_at = batch.cancelled_at
            batch.ready.set()
        self._state.count("batchCancel")

    def delete(self, batch_id: str) -> None:
        batch = self._get(batch_id)
        with self._lock:
            self._batches.pop(batch_id, None)
        if batch.results_file:
            with contextlib.suppress(errors.ApiError):
                self._state.files.delete(batch.results_file)

    # ---- answer ----------------------------------------------------------------------------
    def _finish(self, batch: Batch, now: float) -> None:
        """Make every answer once (outside the store's lock: 200 images take seconds of CPU); a concurrent
        reader of the same batch waits for them rather than see a finished batch without its answers."""
        with self._lock:
            maker = batch.finished_at is None
            if maker:
                batch.finished_at = now
        if not maker:
            batch.ready.wait(timeout=600)
            return
        try:
            self._answer_all(batch)
        finally:
            batch.ready.set()

    def _answer_all(self, batch: Batch) -> None:
        if batch.outcome:
            return
        results = [{"key": key, **self._answer(batch.model_id, request)} for key, request in batch.items]
        batch.results = results
        if batch.from_file:
            lines = "".join(json.dumps(r) + "\n" for r in results).encode()
            batch.results_file = self._state.files.put_generated(f"batch-{batch.id}-results", lines,
                                                                  "application/jsonl")

    def _answer(self, model_id: str, request: dict) -> dict:
        """One item, as generateContent would answer it; a refusal is the item's ``error``."""
        nonce = self._state.begin("batchItem")
        outcome = "ok"
        try:
            spec = self._state.catalogue.resolve(model_id)
            parsed = validation.parse(request, read_file=self._state.files.read)
            validation.validate(parsed, spec)
            faults = self._state.faults.draw(parsed.prompt)
            http = next((f for f in faults if f.name in HTTP_FAULTS), None)
            if http is not None:
                raise errors.internal() if http.name != "quota" else errors.quota(model_id, retry_s=1.0)
            chunks = responses.answer_chunks(parsed, spec, faults, nonce, wrong_mime=False)
            return {"response": responses.merge(chunks)}
        except errors.ApiError as err:
            outcome = f"error_{err.code}"
            return {"error": {"code": _GRPC_CODES.get(err.code, 2), "message": err.message}}
        finally:
            self._state.end(outcome)

