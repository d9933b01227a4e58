"""History survives a restart of the Streamlit server: a fresh process and a fresh session of the same browser
(offline, its History is the browser's: tests/browser/test_isolation.py) see it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bench.studio_page import generate_button

from .conftest import wait_for_app_run

pytestmark = pytest.mark.browser


def _offline(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=60_000)
    wait_for_app_run(page)


def test_entries_survive_a_server_restart(start_studio, browser) -> None:
    studio = start_studio()
    same_browser = browser.new_context()
    page = same_browser.new_page()
    _offline(page, studio.url)
    page.get_by_label("Prompt", exact=True).fill("a picture that must survive")
    page.get_by_label("Prompt", exact=True).blur()  # commits it (Ctrl+Enter would also press Generate)
    wait_for_app_run(page)
    generate_button(page).click()
    expect(page.get_by_text("1 of 1 images ready")).to_be_visible(timeout=60_000)
    page.close()

    studio.stop()
    studio.start()  # a new process on the same data directory (and the same port while it is free)

    page = same_browser.new_page()
    _offline(page, studio.url)
    page.get_by_role("link", name="History").click()
    expect(page.get_by_text("1 entry", exact=True)).to_be_visible()
    expect(page.get_by_text("Nothing here yet")).to_have_count(0)
    same_browser.close()
