"""HTTP plumbing and routing: Gemini REST routes, streaming, faults on the wire, the admin API."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from studio.emulator import admin, errors, pacing, responses, validation
from studio.emulator.faults import Fault
from studio.emulator.state import EmulatorState

HANG_SECONDS = 600.0
log = logging.getLogger("studio.emulator")
_GENERATE = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)$")
_MODELS = re.compile(r"^/(v1|v1beta|v1alpha)/models(?:/([^/:]+))?$")
_SECRET_QUERY = re.compile(r"(?i)((?:^|[?&])(?:key|access_token)=)[^&]*")
_HTTP_FAULTS = frozenset({"quota", "quota_zero", "overloaded", "server_error"})
_MALFORMED = b'{"candidates": [{"content": {"parts": [{"text": "Here is'


def redact_path(path: str) -> str:
    """The request path with ``?key=`` (and ``access_token=``) values hidden, for logs."""
    return _SECRET_QUERY.sub(r"\1***", path)


class GeminiHandler(BaseHTTPRequestHandler):
    """One connection; ``state`` is set on the subclass each server makes."""

    protocol_version = "HTTP/1.1"
    server_version = "GeminiEmulator/1.0"
    state: EmulatorState

    # ---- connection bookkeeping: stop() cuts every open connection ------------------------
    def setup(self) -> None:
        super().setup()
        with self.state.lock:
            self.state.connections.add(self.connection)

    def finish(self) -> None:
        with self.state.lock:
            self.state.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def handle_one_request(self) -> None:
        if self.state.stopping.is_set():
            self.close_connection = True
            return
        super().handle_one_request()

    # ---- logging without secrets ----------------------------------------------------------
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        who = self.state.credentials.kind_of({k.lower(): v for k, v in self.headers.items()}, None)
        if "key=" in urlsplit(self.path).query:
            who = "key=***"
        log.info("%s %s %s %s", self.command, redact_path(self.path), who, code)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s: %s", self.command, redact_path(getattr(self, "path", "")), "error")

    # ---- plumbing -------------------------------------------------------------------------
    def _send_json(self, status: int, body: object) -> None:
        self._send_bytes(status, json.dumps(body).encode())

    def _send_bytes(self, status: int, data: bytes, declared_extra: int = 0) -> None:
        """Send bytes as JSON; with declared_extra, promise more than is sent and cut the line."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data) + declared_extra))
        self.end_headers()
        self.wfile.write(data)
        if declared_extra:
            self._drop()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > validation.PAYLOAD_LIMIT:
            self.close_connection = True  # the body stays unread: this connection cannot be reused
            raise errors.payload_too_large(validation.PAYLOAD_LIMIT)
        return self.rfile.read(length) if length else b""

    @staticmethod
    def _json(raw: bytes) -> dict:
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise errors.bad_request(f"Invalid JSON payload received. {exc}") from exc
        if not isinstance(body, dict):
            raise errors.bad_request("Invalid JSON payload received. Expected an object.")
        return body

    def _auth(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.state.credentials.check(headers, (query.get("key") or [None])[0])

    def _drop(self) -> None:
        """Cut the connection as a failing network would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    # ---- routes ---------------------------------------------------------------------------
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_emulator/stats":
            return self._send_json(200, self.state.stats())
        if path in ("/", "/healthz"):
            return self._send_json(200, {"ok": True, "emulator": "gemini"})
        try:
            match = _MODELS.match(path)
            if not match:
                raise errors.not_found_path(path)
            self._auth()
            version, model_id = match.groups()
            if model_id is None:
                return self._send_json(200, responses.list_models(self.state.catalogue,
                                                                  self.state.config.extra_models))
            if not self.state.known_model(model_id):
                raise errors.model_not_found(model_id, version)
            return self._send_json(200, responses.model_resource(self.state.catalogue.resolve(model_id)))
        except errors.ApiError as err:
            return self._send_json(err.code, err.body())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            raw = self._read_body()
        except errors.ApiError as err:
            return self._send_json(err.code, err.body())
        if path.startswith("/_emulator/"):
            try:
                body = self._json(raw)
            except errors.ApiError as err:
                return self._send_json(400, err.body())
            return self._send_json(*admin.handle(self.state, path, body))
        match = _GENERATE.match(path)
        if not match:
            err = errors.not_found_path(path)
            return self._send_json(err.code, err.body())
        version, model_id, method = match.groups()
        nonce = self.state.begin(method)
        outcome = "ok"
        try:
            self._generate(raw, version, model_id, method == "streamGenerateContent", nonce)
        except errors.ApiError as err:
            outcome = f"error_{err.code}"
            self._send_json(err.code, err.body())
        except (BrokenPipeError, ConnectionResetError):
            outcome = "client_gone"  # the client went away (timeout or cancel): nothing left to answer
        finally:
            self.state.end(outcome)

    # ---- generateContent ------------------------------------------------------------------
    def _generate(self, raw: bytes, version: str, model_id: str, streaming: bool, nonce: int) -> None:
        self._auth()
        if not self.state.known_model(model_id):
            raise errors.model_not_found(model_id, version)
        spec = self.state.catalogue.resolve(model_id)
        request = validation.parse(self._json(raw))
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
        if streaming and not names & (_HTTP_FAULTS | {"hang", "malformed"}):
            chunks = responses.answer_chunks(request, spec, faults, nonce, wrong_mime=wrong_mime)
            return self._stream(pacing.schedule(chunks, self.state.config.draft_timing), deadline - delay, delay,
                                drop_after_first="drop_stream" in names)
        if not self._wait_until(deadline):
            return self._drop()  # stopped while waiting: the connection dies, as at a real outage
        self._raise_http_faults(names, model_id, faults)
        started = time.perf_counter()
        chunks = responses.answer_chunks(request, spec, faults, nonce, wrong_mime=wrong_mime)
        log.debug("answer for %s built in %.3fs", model_id, time.perf_counter() - started)
        if streaming:
            return self._stream([(1.0, chunks)], deadline, 0.0, malformed="malformed" in names,
                                drop_after_first="drop_stream" in names)
        if "malformed" in names:
            return self._send_bytes(200, _MALFORMED)
        data = json.dumps(responses.merge(chunks)).encode()
        if "drop_stream" in names:
            return self._send_bytes(200, data[: len(data) // 2], declared_extra=len(data) - len(data) // 2)
        self._send_bytes(200, data)

    def _wait_until(self, deadline: float) -> bool:
        """Wait until the monotonic deadline; False when the server stopped meanwhile."""
        remaining = deadline - time.monotonic()
        return remaining <= 0 or not self.state.stopping.wait(remaining)

    @staticmethod
    def _raise_http_faults(names: set[str], model_id: str, faults: list[Fault]) -> None:
        if "quota" in names or "quota_zero" in names:
            retry = next((int(f.value) for f in faults if f.name.startswith("quota") and f.value), 1)
            raise errors.quota(model_id, retry_s=retry, zero="quota_zero" in names)
        if "overloaded" in names:
            raise errors.overloaded()
        if "server_error" in names:
            raise errors.internal()

    def _stream(self, groups: list[tuple[float, list[dict]]], started: float, delay: float,
                malformed: bool = False, drop_after_first: bool = False) -> None:
        """Server-sent events as Google sends them (``data: {json}``, a blank line, CRLF), each group
        of chunks at its fraction of the latency; the headers go out with the first group."""
        for i, (fraction, chunks) in enumerate(groups):
            if not self._wait_until(started + fraction * delay):
                return self._drop()  # stopped mid-stream: the connection dies
            if i == 0:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
            if malformed:
                self._write_chunk(b"data: " + _MALFORMED + b"\r\n\r\n")
                return self._write_chunk(b"")
            for chunk in chunks:
                self._write_chunk(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
                if drop_after_first:
                    return self._drop()
        self._write_chunk(b"")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
