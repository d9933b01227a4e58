"""The emulator's server: a threaded HTTP server on loopback that the unmodified google-genai SDK talks to.

``with EmulatorServer(EmulatorConfig()).start() as emu: ...`` then point the SDK at ``emu.base_url``
(``HttpOptions(base_url=...)`` or ``GOOGLE_GEMINI_BASE_URL``).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

from studio.emulator.handlers import GeminiHandler
from studio.emulator.pacing import DEFAULT_DRAFT_TIMING
from studio.emulator.state import EmulatorState

OFFLINE_API_KEY = "emulator-key"  # the offline studio's key; accepted by default
# What the offline studio sets (EmulatorConfig itself defaults to 0 so tests stay fast): a few seconds,
# 4K slower, so progress, cancel and drafts are visible in a demo. Google's Pro takes 10-60 s; these are
# shorter on purpose: a demo that waits a minute per image is no demo. See docs/PERFORMANCE.md.
STUDIO_DEFAULT_LATENCY_S = 3.0
STUDIO_DEFAULT_LATENCY_BY_SIZE: dict[str, float] = {"512": 2.0, "1K": 3.0, "2K": 5.0, "4K": 8.0}


@dataclass
class EmulatorConfig:
    """What the emulator accepts and how slowly it answers."""

    api_keys: frozenset[str] = frozenset({OFFLINE_API_KEY})
    bearer_tokens: frozenset[str] = frozenset()
    userinfo_url: str | None = None  # bearer tokens this OIDC userinfo endpoint answers 200 for are accepted
    latency_s: float = 0.0
    latency_by_size: dict[str, float] | None = None  # e.g. {"4K": 8.0}: 4K is slower at Google too
    extra_models: tuple[str, ...] = ()  # image model IDs accepted and listed besides the lineup's
    extra_text_models: tuple[str, ...] = ()  # text model IDs listed (their listing says nothing of images)
    lineup: str = "current"  # the registry's offered models; "2025" brings back Nano Banana 2 and Nano Banana
    flex_delay_s: float = 0.2  # extra wait for service_tier "flex" (Google: minutes, not seconds)
    wrong_mime_rate: float = 0.0  # share of answers declaring image/png for JPEG bytes
    draft_timing: tuple[float, ...] = DEFAULT_DRAFT_TIMING  # streamed drafts go out at these shares of the latency
    userinfo_cache_s: float = 30.0  # how long a userinfo 200 is trusted
    batch_delay_s: float = 2.0  # a batch runs PENDING, RUNNING, then SUCCEEDED over this time (Google: up to 24 h)
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging request never keeps the process alive
    request_queue_size = 512  # 100+ concurrent clients connect at once

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up mid-answer (a cancelled image, a closed studio) is normal, as at Google: say
        nothing. Anything else is printed as socketserver does."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class EmulatorServer:
    """A running emulator on loopback. ``with EmulatorServer(cfg).start() as emu: emu.base_url``."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.state = EmulatorState(config or EmulatorConfig())
        handler = type("Handler", (GeminiHandler,), {"state": self.state})
        self._httpd = _HTTPServer((self.state.initial.host, self.state.initial.port), handler)
        self._thread: threading.Thread | None = None

    @property
    def config(self) -> EmulatorConfig:
        """The live config (the admin API may have changed latency since start)."""
        return self.state.config

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.state.initial.host}:{self.port}"

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"emulator-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection (hanging and keep-alive ones too)."""
        if self.state.stopping.is_set():
            return
        self.state.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.server_close()
        with self.state.lock:
            open_connections = list(self.state.connections)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def queue_fault(self, name: str, count: int = 1, value: float = 0.0) -> None:
        """Same as ``POST /_emulator/faults``."""
        self.state.faults.queue(name, count, value)

    def stats(self) -> dict:
        return self.state.stats()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state.in_flight == 0:
                return True
            time.sleep(0.02)
        return False

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
