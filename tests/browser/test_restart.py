"""History survives a restart of the Streamlit server: a fresh process and a fresh browser session see it."""

from __future__ import annotations

import pytest

from .conftest import wait_for_app_run

pytestmark = pytest.mark.browser


def _offline(page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    wait_for_app_run(page)


def test_entries_survive_a_server_restart(start_studio, browser) -> None:
    studio = start_studio()
    page = browser.new_page()
    _offline(page, studio.url)
    page.get_by_label("Prompt", exact=True).fill("a picture that must survive")
    page.get_by_label("Prompt", exact=True).press("Control+Enter")
    wait_for_app_run(page)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("1 of 1 images ready").wait_for(timeout=60_000)
    page.close()

    studio.stop()
    studio.start()  # same port, same data directory, a new process

    page = browser.new_page()
    _offline(page, studio.url)
    page.get_by_role("link", name="History").click()
    wait_for_app_run(page)
    assert page.get_by_text("1 entry", exact=True).is_visible()
    assert page.get_by_text("Nothing here yet").count() == 0
    page.close()
