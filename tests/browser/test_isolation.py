"""Anonymous visitors never share a History: two browsers (contexts) on one studio, offline and with the server's key.

Visitor A makes an image; visitor B, in another browser, finds an empty History; A, after a reload, still
finds theirs. (An operator's explicit ``shared_history`` and its banner: tests/app/test_isolation.py.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from bench.studio_page import generate
from bench.studio_process import StudioProcess
from components.browser_id import COOKIE
from studio.emulator.server import EmulatorServer
from tests.conftest import TEST_KEY

from .conftest import wait_for_app_run
from .test_jobs import go, open_buttons

pytestmark = pytest.mark.browser
LANDED_MS = 60_000
PER_BROWSER = "This History belongs to this browser."
HOW = {"offline": "Try offline", "server key": "Use the key configured on this server"}


def _studio(start_studio: Callable[..., StudioProcess], api: EmulatorServer, how: str) -> StudioProcess:
    env = {"STUDIO_GEMINI_BASE_URL": api.base_url}
    if how == "server key":
        env |= {"GEMINI_API_KEY": TEST_KEY, "STUDIO_SERVER_KEY_FOR": "everyone"}
    return start_studio(env=env)


def _arrive(page: Page, url: str, how: str) -> None:
    """A new session: the Welcome page, then the anonymous way in."""
    page.goto(url)
    wait_for_app_run(page)
    page.get_by_role("button", name=HOW[how]).click()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=LANDED_MS)
    wait_for_app_run(page)


def _history(page: Page) -> None:
    go(page, "History")
    expect(page.get_by_role("heading", name="History")).to_be_visible()


def _browser_id(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)


@pytest.mark.parametrize("how", ["offline", "server key"])
def test_two_browsers_never_share_a_history(start_studio: Callable[..., StudioProcess],
                                           fresh_emulator: Callable[..., EmulatorServer], browser: Browser,
                                           page: Page, how: str) -> None:
    studio = _studio(start_studio, fresh_emulator(), how)
    _arrive(page, studio.url, how)
    generate(page, "visitor A's private lighthouse")
    expect(open_buttons(page)).to_have_count(1, timeout=LANDED_MS)
    _history(page)
    expect(page.get_by_text("1 entry", exact=True)).to_be_visible()
    expect(page.get_by_text(PER_BROWSER)).to_be_visible()

    other = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        b = other.new_page()
        _arrive(b, studio.url, how)
        _history(b)
        expect(b.get_by_text("Nothing here yet.")).to_be_visible()
        expect(b.get_by_text(PER_BROWSER)).to_be_visible()
        assert b.get_by_text("lighthouse").count() == 0, "B never sees A's prompt"
        assert _browser_id(b) != _browser_id(page), "each browser has an id of its own"
    finally:
        other.close()

    kept = _browser_id(page)
    _arrive(page, studio.url, how)  # a reload: a new session of A's browser, connected again the same way
    assert _browser_id(page) == kept
    _history(page)
    expect(page.get_by_text("1 entry", exact=True)).to_be_visible()
