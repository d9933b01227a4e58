"""Browser fixtures: the real studio under `streamlit run`, driven by Playwright in headless Chromium.

Playwright cannot download browsers on every machine, so we look for one in this order:
STUDIO_CHROMIUM, Debian's /usr/bin/chromium, then Playwright's own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("STUDIO_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None  # Playwright's own build, where one is installed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    yield context.new_page()
    context.close()


class StudioProcess:
    """A `streamlit run app.py` server with its log file; restartable on the same port and data."""

    def __init__(self, port: int, env: dict[str, str], log_path: Path, secrets_file: Path | None) -> None:
        self.port, self.env, self.log_path, self.secrets_file = port, env, log_path, secrets_file
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StudioProcess:
        args = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
                "--server.port", str(self.port), "--server.address", "127.0.0.1",
                "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        if self.secrets_file:
            args += ["--secrets.files", str(self.secrets_file)]
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/_stcore/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        raise TimeoutError("streamlit did not become healthy in 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def start_studio(tmp_path: Path) -> Iterator[Callable[..., StudioProcess]]:
    """Start the studio; `env` adds variables, `secrets_toml` becomes its secrets file."""
    started: list[StudioProcess] = []

    def start(env: dict[str, str] | None = None, secrets_toml: str | None = None) -> StudioProcess:
        secrets_file = None
        if secrets_toml is not None:
            secrets_file = tmp_path / "secrets.toml"
            secrets_file.write_text(secrets_toml)
        full_env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "data"), **(env or {})}
        studio = StudioProcess(free_port(), full_env, tmp_path / "streamlit.log", secrets_file).start()
        started.append(studio)
        return studio

    yield start
    for studio in started:
        studio.stop()


def wait_for_app_run(page: Page, timeout_ms: int = 60_000) -> None:
    """Like Streamlit's e2e helper: the app is drawn and its script has finished running."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    page.wait_for_timeout(150)
