"""The Gemini REST routes: generateContent, streamGenerateContent, countTokens, models, files, batches; faults.

Anything else answers 404 in Google's error shape (JSON, never an HTML page); the admin API
lives under ``/_emulator/``.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from urllib.parse import urlsplit

from studio.emulator import admin, errors, listing, pacing, responses, schema, usage, validation
from studio.emulator.batch_routes import BatchRoutes
from studio.emulator.faults import HTTP_FAULTS, Fault
from studio.emulator.file_routes import FileRoutes
from studio.emulator.wire import log

HANG_SECONDS = 600.0
_METHOD = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):([A-Za-z]+)$")
_MODELS = re.compile(r"^/(v1|v1beta|v1alpha)/models(?:/([^/:]+))?$")
_MALFORMED = b'{"candidates": [{"content": {"parts": [{"text": "Here is'


class GeminiHandler(FileRoutes, BatchRoutes):
    """Routes one request; ``state`` is set on the subclass each server makes."""

    def _not_found(self) -> None:
        err = errors.not_found_path(urlsplit(self.path).path)
        self.send_json(err.code, err.body())

    def _refuse(self) -> None:
        """A method the emulator serves nowhere: read the body (the connection stays usable), then 404."""
        with contextlib.suppress(errors.ApiError):  # too large: read_body already marked the connection to close
            self.read_body()
        self._not_found()

    do_PUT = do_PATCH = _refuse

    def do_DELETE(self) -> None:
        if not self.files_delete() and not self.batches_delete():
            self._refuse()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_emulator/stats":
            return self.send_json(200, self.state.stats())
        if path in ("/", "/healthz"):
            return self.send_json(200, {"ok": True, "emulator": "gemini"})
        if self.batches_get() or self.files_get():
            return None
        try:
            match = _MODELS.match(path)
            if not match:
                raise errors.not_found_path(path)
            self.auth()
            version, model_id = match.groups()
            if model_id is None:
                query = self.query()
                return self.send_json(200, listing.list_models(self.state.catalogue, self.state.config.extra_models,
                                                               query.get("pageSize"), query.get("pageToken")))
            if not self.state.known_model(model_id):
                raise errors.model_not_found(model_id, version)
            return self.send_json(200, listing.model_resource(self.state.catalogue.resolve(model_id)))
        except errors.ApiError as err:
            return self.send_json(err.code, err.body())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            raw = self.read_body()
        except errors.ApiError as err:
            return self.send_json(err.code, err.body())
        if path.startswith("/_emulator/"):
            try:
                body = self.parse_json(raw)
            except errors.ApiError as err:
                return self.send_json(400, err.body())
            return self.send_json(*admin.handle(self.state, path, body))
        if self.files_post(raw) or self.batches_post(raw):
            return None
        match = _METHOD.match(path)
        if not match or match.group(3) not in ("generateContent", "streamGenerateContent", "countTokens"):
            return self._not_found()
        version, model_id, method = match.groups()
        if method == "countTokens":
            return self._count_tokens(raw, version, model_id)
        nonce = self.state.begin(method)
        outcome = "ok"
        try:
            self._generate(raw, version, model_id, method == "streamGenerateContent", nonce)
        except errors.ApiError as err:
            outcome = f"error_{err.code}"
            self.send_json(err.code, err.body())
        except (BrokenPipeError, ConnectionResetError):
            outcome = "client_gone"  # the client went away (timeout or cancel): nothing left to answer
        finally:
            self.state.end(outcome)

    def _count_tokens(self, raw: bytes, version: str, model_id: str) -> None:
        """``countTokens`` takes ``contents`` or a whole ``generateContentRequest``."""
        self.state.count("countTokens")
        try:
            self.auth()
            if not self.state.known_model(model_id):
                raise errors.model_not_found(model_id, version)
            body = self.parse_json(raw)
            schema.check(body, "CountTokensRequest")
            inner = validation.pick(body, "generateContentRequest")
            request = validation.parse(inner if isinstance(inner, dict) else {"contents": validation.pick(body, "contents")},
                                       read_file=self.state.files.read)
            self.send_json(200, usage.count_tokens(request))
        except errors.ApiError as err:
            self.send_json(err.code, err.body())

    # ---- generateContent ------------------------------------------------------------------
    def _generate(self, raw: bytes, version: str, model_id: str, streaming: bool, nonce: int) -> None:
        self.auth()
        if not self.state.known_model(model_id):
            raise errors.model_not_found(model_id, version)
        spec = self.state.catalogue.resolve(model_id)
        request = validation.parse(self.parse_json(raw), read_file=self.state.files.read)
        validation.validate(request, spec)
        faults = self.state.faults.draw(request.prompt)
        names = {f.name for f in faults}
        for name in names:
            self.state.count(f"fault_{name}")
        delay = self.state.latency_for(request.image_size) + sum(f.value for f in faults if f.name == "slow")
        if "hang" in names:
            delay = HANG_SECONDS
        deadline = time.monotonic() + delay
        wrong_mime = self.state.wrong_mime_by_rate(request.prompt, request.seed)
        if streaming and not names & (HTTP_FAULTS | {"hang", "malformed"}):
            chunks = responses.answer_chunks(request, spec, faults, nonce, wrong_mime=wrong_mime)
            return self._stream(pacing.schedule(chunks, self.state.config.draft_timing), deadline - delay, delay,
                                drop_after_first="drop_stream" in names)
        if not self.wait_until(deadline):
            return self.drop()  # stopped while waiting: the connection dies, as at a real outage
        self._raise_http_faults(names, model_id, faults)
        started = time.perf_counter()
        chunks = responses.answer_chunks(request, spec, faults, nonce, wrong_mime=wrong_mime)
        log.debug("answer for %s built in %.3fs", model_id, time.perf_counter() - started)
        if streaming:
            return self._stream([(1.0, chunks)], deadline, 0.0, malformed="malformed" in names,
                                drop_after_first="drop_stream" in names)
        if "malformed" in names:
            return self.send_bytes(200, _MALFORMED)
        data = json.dumps(responses.merge(chunks)).encode()
        if "drop_stream" in names:
            return self.send_bytes(200, data[: len(data) // 2], declared_extra=len(data) - len(data) // 2)
        self.send_bytes(200, data)

    @staticmethod
    def _raise_http_faults(names: set[str], model_id: str, faults: list[Fault]) -> None:
        if "quota" in names or "quota_zero" in names:
            retry = next((f.value for f in faults if f.name.startswith("quota") and f.value), 1.0)
            raise errors.quota(model_id, retry_s=retry, zero="quota_zero" in names)
        if "overloaded" in names:
            raise errors.overloaded()
        if "server_error" in names:
            raise errors.internal()
        if "deadline" in names:
            raise errors.deadline_exceeded()

    def _stream(self, groups: list[tuple[float, list[dict]]], started: float, delay: float,
                malformed: bool = False, drop_after_first: bool = False) -> None:
        """Server-sent events as Google sends them (``data: {json}``, a blank line, CRLF), each group
        of chunks at its fraction of the latency; the headers go out with the first group."""
        for i, (fraction, chunks) in enumerate(groups):
            if not self.wait_until(started + fraction * delay):
                return self.drop()  # stopped mid-stream: the connection dies
            if i == 0:
                self.start_events()
            if malformed:
                self.write_chunk(b"data: " + _MALFORMED + b"\r\n\r\n")
                return self.write_chunk(b"")
            for chunk in chunks:
                self.write_chunk(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
                if drop_after_first:
                    return self.drop()
        self.write_chunk(b"")
