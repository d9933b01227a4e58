"""Browser fixtures: the real studio under `streamlit run`, driven by Playwright in headless Chromium.

Playwright cannot download browsers on every machine, so we look for one in this order:
STUDIO_CHROMIUM, Debian's /usr/bin/chromium, then Playwright's own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bench.studio_process import StudioProcess, free_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("STUDIO_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None  # Playwright's own build, where one is installed


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
