"""HTTP plumbing under the emulator's routes: connection bookkeeping, JSON and chunked bodies, log redaction.

Every open connection is tracked so ``EmulatorServer.stop()`` can cut them all (hanging and
keep-alive ones too), and waits watch the server's ``stopping`` event for the same reason.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from studio.emulator import errors
from studio.emulator.state import EmulatorState

PAYLOAD_LIMIT = 100 * 1024 * 1024  # inline request limit since 2026-01
log = logging.getLogger("studio.emulator")
_SECRET_QUERY = re.compile(r"(?i)((?:^|[?&])(?:key|access_token)=)[^&]*")


def redact_path(path: str) -> str:
    """The request path with ``?key=`` (and ``access_token=``) values hidden, for logs."""
    return _SECRET_QUERY.sub(r"\1***", path)


class WireHandler(BaseHTTPRequestHandler):
    """One connection; ``state`` is set on the subclass each server makes."""

    protocol_version = "HTTP/1.1"
    server_version = "GeminiEmulator/1.0"
    state: EmulatorState

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

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        who = self.state.credentials.kind_of({k.lower(): v for k, v in self.headers.items()}, None)
        if "key=" in urlsplit(self.path).query:
            who = "key=***"
        log.info("%s %s %s %s", self.command, redact_path(self.path), who, code)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s: %s", self.command, redact_path(getattr(self, "path", "")), "error")

    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def auth(self) -> None:
        """Google's credential checks (key, bearer token, scopes): raises ApiError."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.state.credentials.check(headers, self.query().get("key"))

    def base_url(self) -> str:
        return f"http://{self.headers.get('Host') or '127.0.0.1'}"

    def send_json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(body).encode(), headers=headers)

    def send_bytes(self, status: int, data: bytes, declared_extra: int = 0, headers: dict[str, str] | None = None) -> None:
        """Send bytes as JSON; with declared_extra, promise more than is sent and cut the line."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data) + declared_extra))
        self.end_headers()
        self.wfile.write(data)
        if declared_extra:
            self.drop()

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > PAYLOAD_LIMIT:
            self.close_connection = True  # the body stays unread: this connection cannot be reused
            raise errors.payload_too_large(PAYLOAD_LIMIT)
        return self.rfile.read(length) if length else b""

    @staticmethod
    def parse_json(raw: bytes) -> dict:
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise errors.bad_request(f"Invalid JSON payload received. {exc}") from exc
        if not isinstance(body, dict):
            raise errors.bad_request("Invalid JSON payload received. Expected an object.")
        return body

    def drop(self) -> None:
        """Cut the connection as a failing network would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def wait_until(self, deadline: float) -> bool:
        """Wait until the monotonic deadline; False when the server stopped meanwhile."""
        remaining = deadline - time.monotonic()
        return remaining <= 0 or not self.state.stopping.wait(remaining)

    def start_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
