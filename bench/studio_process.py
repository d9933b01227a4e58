"""A real `streamlit run app.py` server for browser tests and benchmarks: start, health-check, restart, stop."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
PORT_ATTEMPTS = 5


def free_port() -> int:
    """A loopback port nobody holds right now; it is released again, so a start must cope with losing it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PortTaken(Exception):
    """Streamlit could not listen on its port: another process took it between choosing and binding."""


class StudioProcess:
    """A `streamlit run app.py` server (or another `script`) with its log file; restartable with the same data.

    A restart keeps the port when it is still free. The port is only proposed by `free_port()`, so when
    something else takes it before streamlit binds, `start()` moves to a fresh one (read `url` after it).
    """

    def __init__(self, port: int, env: dict[str, str], log_path: Path, secrets_file: Path | None, *,
                 script: Path = ROOT / "app.py", cwd: Path = ROOT) -> None:
        self.port, self.env, self.log_path, self.secrets_file = port, env, log_path, secrets_file
        self.script, self.cwd = script, cwd
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StudioProcess:
        """Start the server and return once it answers its health check."""
        for _ in range(PORT_ATTEMPTS):
            try:
                return self._launch()
            except PortTaken:
                self.port = free_port()
        raise RuntimeError(f"streamlit found no free port in {PORT_ATTEMPTS} attempts")

    def _launch(self) -> StudioProcess:
        args = [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.headless", "true",
                "--server.port", str(self.port), "--server.address", "127.0.0.1",
                "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        if self.secrets_file:
            args += ["--secrets.files", str(self.secrets_file)]
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        process = self.process = subprocess.Popen(args, cwd=self.cwd, env=self.env, stdout=self._log,
                                                  stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.stop()
                output = self.log_path.read_bytes()[log_start:].decode(errors="replace")
                if f"Port {self.port}" in output or not _bindable(self.port):
                    raise PortTaken(self.port)
                raise RuntimeError(f"streamlit exited: {output[-2000:]}")
            try:
                healthy = httpx.get(f"{self.url}/_stcore/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                healthy = False
            if healthy and process.poll() is None:
                return self
            time.sleep(0.1)  # a start is waited for ~25 times per test run: poll finely
        self.stop()
        raise TimeoutError("streamlit did not become healthy in 60 s")

    def rss_bytes(self) -> int:
        """The server's resident memory, from /proc."""
        if self.process is None:
            raise RuntimeError("the studio was never started")
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
