"""Browser fixtures: the real studio under `streamlit run`, driven by Playwright in headless Chromium.

The browser (STUDIO_CHROMIUM, Debian's chromium, then Playwright's own) and the wait for a script run
come from bench/studio_page.py, which scripts/update-screenshot.py uses too. Anything a test saves
(screenshots, a page at the moment of failure) goes to the git-ignored tests/artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bench.studio_page import launch_chromium, wait_for_app_run
from bench.studio_process import StudioProcess, free_port

__all__ = ["ARTIFACTS", "wait_for_app_run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for every module in tests/browser; each test gets its own context (see ``page``).

    Package scope, not session: Playwright's sync API runs one driver per thread, so it must be gone before
    tests elsewhere (tests/oauth, tests/app) start their own.
    """
    with sync_playwright() as playwright:
        instance = launch_chromium(playwright)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context; when the test fails, what the page showed is saved in tests/artifacts/."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), full_page=True)
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
        full_env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "data"), "STUDIO_EMULATOR_LATENCY": "0",
                    **(env or {})}
        studio = StudioProcess(free_port(), full_env, tmp_path / "streamlit.log", secrets_file).start()
        started.append(studio)
        return studio

    yield start
    for studio in started:
        studio.stop()
