"""The emulator's HTTP server: Gemini REST routes plus a small admin API for tests and demos."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from studio.catalogue import Catalogue
from studio.emulator import answers, errors
from studio.emulator.credentials import CredentialBook
from studio.emulator.faults import FaultBook

OFFLINE_API_KEY = "emulator-key"
HANG_SECONDS = 600.0
log = logging.getLogger("studio.emulator")
_ROUTE = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)$")
_MODELS = re.compile(r"^/(v1|v1beta|v1alpha)/models(?:/([^/:]+))?$")


@dataclass
class EmulatorConfig:
    """What the emulator accepts and how slowly it answers."""

    api_keys: frozenset[str] = frozenset({OFFLINE_API_KEY})
    bearer_tokens: frozenset[str] = frozenset()
    userinfo_url: str | None = None
    latency_s: float = 0.0
    latency_by_size: dict[str, float] = field(default_factory=dict)
    extra_models: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 0


class _State:
    """Everything the request handlers share; one per server."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.catalogue = Catalogue()
        self.credentials = CredentialBook(config.api_keys, config.bearer_tokens, config.userinfo_url)
        self.faults = FaultBook()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.stats: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    def known_model(self, model_id: str) -> bool:
        return self.catalogue.is_known(model_id) or model_id in self.config.extra_models

    def latency_for(self, size: str | None) -> float:
        by_size = self.config.latency_by_size
        return by_size.get(size or "1K", self.config.latency_s) if by_size else self.config.latency_s


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GeminiEmulator/1.0"
    state: _State  # set on the subclass made per server

    def log_message(self, format: str, *args: object) -> None:
        """Log method and path only: the query may carry ?key=."""
        log.debug("%s %s", self.command, urlsplit(self.path).path)

    # ---- plumbing -------------------------------------------------------------------
    def _send_json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
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

    # ---- routes ---------------------------------------------------------------------
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_emulator/stats":
            return self._send_json(200, self._stats())
        if path in ("/", "/healthz"):
            return self._send_json(200, {"ok": True, "emulator": "gemini"})
        match = _MODELS.match(path)
        if not match:
            return self._send_json(404, errors.ApiError(404, "NOT_FOUND", f"Path {path} not found.").body())
        try:
            self._auth()
            listing = answers.list_models(self.state.catalogue, self.state.config.extra_models)
            if match.group(2):
                found = [m for m in listing["models"] if m["name"] == f"models/{match.group(2)}"]
                if not found:
                    raise errors.model_not_found(match.group(2), match.group(1))
                return self._send_json(200, found[0])
            return self._send_json(200, listing)
        except errors.ApiError as err:
            return self._send_json(err.code, err.body())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/_emulator/"):
            return self._admin(path)
        match = _ROUTE.match(path)
        if not match:
            self._read_json_quietly()
            return self._send_json(404, errors.ApiError(404, "NOT_FOUND", f"Path {path} not found.").body())
        version, model_id, method = match.groups()
        with self.state.lock:
            self.state.in_flight += 1
            self.state.max_in_flight = max(self.state.max_in_flight, self.state.in_flight)
            self.state.stats[method] += 1
            nonce = sum(self.state.stats.values())
        try:
            self._generate(version, model_id, streaming=method == "streamGenerateContent", nonce=nonce)
        except errors.ApiError as err:
            self.state.stats[f"error_{err.code}"] += 1
            self._send_json(err.code, err.body())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (timeout or cancel): nothing left to answer
        finally:
            with self.state.lock:
                self.state.in_flight -= 1

    def _read_json_quietly(self) -> None:
        with contextlib.suppress(errors.ApiError):
            self._read_json()

    def _generate(self, version: str, model_id: str, streaming: bool, nonce: int) -> None:
        body = self._read_json()
        self._auth()
        if not self.state.known_model(model_id):
            raise errors.model_not_found(model_id, version)
        spec = self.state.catalogue.resolve(model_id)
        request = answers.parse(body)
        answers.validate(request, spec)
        faults = self.state.faults.draw(request.prompt)
        names = {f.name for f in faults}
        delay = self.state.latency_for(request.image_size) + sum(f.value for f in faults if f.name == "slow")
        if "hang" in names:
            delay = HANG_SECONDS
        if delay and self.state.stopping.wait(delay):
            return self._drop()
        self._raise_http_faults(names, model_id, faults)
        chunks = answers.answer_chunks(request, spec, faults, nonce)
        if "malformed" in names:
            return self._send_raw(200, b'{"candidates": [{"content": {"parts": [{"text": "Here is')
        if streaming:
            return self._stream(chunks, drop_after_first="drop_stream" in names)
        if "drop_stream" in names:
            return self._send_raw(200, json.dumps(answers.merge(chunks)).encode()[:200], declared_extra=10_000)
        self._send_json(200, answers.merge(chunks))

    @staticmethod
    def _raise_http_faults(names: set[str], model_id: str, faults: list) -> None:
        if "quota" in names or "quota_zero" in names:
            retry = next((int(f.value) for f in faults if f.name.startswith("quota") and f.value), 1)
            raise errors.quota(model_id, retry_s=retry, zero="quota_zero" in names)
        if "overloaded" in names:
            raise errors.overloaded()
        if "server_error" in names:
            raise errors.internal()

    def _send_raw(self, status: int, data: bytes, declared_extra: int = 0) -> None:
        """Send bytes as JSON; with declared_extra, promise more than is sent and cut the line."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data) + declared_extra))
        self.end_headers()
        self.wfile.write(data)
        if declared_extra:
            self._drop()

    def _stream(self, chunks: list[dict], drop_after_first: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i, chunk in enumerate(chunks):
            self._write_chunk(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
            if drop_after_first and i == 0:
                return self._drop()
        self._write_chunk(b"")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Cut the connection as a failing network would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- admin API ------------------------------------------------------------------
    def _admin(self, path: str) -> None:
        try:
            body = self._read_json()
        except errors.ApiError as err:
            return self._send_json(400, err.body())
        state = self.state
        try:
            if path == "/_emulator/faults":
                state.faults.queue(body["fault"], int(body.get("count", 1)), float(body.get("value", 0)))
            elif path == "/_emulator/config":
                if "latency_s" in body:
                    state.config.latency_s = float(body["latency_s"])
                if "latency_by_size" in body:
                    state.config.latency_by_size = {k: float(v) for k, v in body["latency_by_size"].items()}
            elif path == "/_emulator/tokens":
                state.credentials.add_tokens(body.get("add", []), body.get("scopes"))
                state.credentials.revoke(body.get("revoke", []))
                if "userinfo_url" in body:
                    state.credentials.userinfo_url = body["userinfo_url"]
            elif path == "/_emulator/reset":
                state.faults.reset()
                state.stats.clear()
            else:
                return self._send_json(404, {"error": f"no admin route {path}"})
        except (KeyError, ValueError, TypeError) as exc:
            return self._send_json(400, {"error": str(exc)})
        self._send_json(200, {"ok": True, **self._stats()})

    def _stats(self) -> dict:
        with self.state.lock:
            return {"requests": dict(self.state.stats), "in_flight": self.state.in_flight,
                    "max_in_flight": self.state.max_in_flight, "queued_faults": self.state.faults.pending()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


class EmulatorServer:
    """A running emulator on loopback. ``with EmulatorServer(cfg).start() as emu: emu.base_url``."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.state = _State(self.config)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._httpd = _Server((self.config.host, self.config.port), handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"gemini-emulator-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def queue_fault(self, name: str, count: int = 1) -> None:
        self.state.faults.queue(name, count)

    def __enter__(self) -> EmulatorServer:
        return self if self._thread else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state.in_flight == 0:
                return True
            time.sleep(0.02)
        return False
