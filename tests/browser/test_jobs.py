"""Paid images survive every click: the studio in Chromium against an emulator whose requests we count.

The studio connects with an API key to a test emulator (STUDIO_GEMINI_BASE_URL), so each test can
compare what reached "Google" with what landed in History: every request sent must land.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from bench import studio_page
from bench.studio_page import START_MODEL, set_images
from bench.studio_process import StudioProcess
from studio.emulator.server import EmulatorServer
from tests.conftest import TEST_KEY

from .conftest import wait_for_app_run

pytestmark = pytest.mark.browser
LANDED_S = 60_000


@pytest.fixture
def api(fresh_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return fresh_emulator(latency_s=2.0)


@pytest.fixture
def studio(start_studio: Callable[..., StudioProcess], api: EmulatorServer) -> StudioProcess:
    return start_studio(env={"STUDIO_GEMINI_BASE_URL": api.base_url})


def connect(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page)
    page.get_by_label("Gemini API key", exact=True).fill(TEST_KEY)
    page.get_by_role("button", name="Connect with API key").click()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=LANDED_S)
    wait_for_app_run(page)


def set_count(page: Page, count: int) -> None:
    set_images(page, count)
    # the slider sends its value after a pause: wait for the server's estimate for that many images
    expect(page.locator('[data-testid="stSidebar"]').get_by_text(f"${START_MODEL.estimate_cost('1K', count):.3f}")
           ).to_be_visible()
    wait_for_app_run(page)


def generate(page: Page, prompt: str) -> None:
    """Press Generate and see the work under way (its Cancel button) or, with a fast emulator (0.2 s), already
    landed: a 1K image can land between two looks, and the button is gone by then."""
    studio_page.generate(page, prompt)
    under_way = page.get_by_role("button", name="Cancel job")
    expect(under_way.or_(open_buttons(page)).first).to_be_visible(timeout=LANDED_S)


def open_buttons(page: Page):
    return page.locator('[data-testid="stMain"]').get_by_role("button", name="Open", exact=True)


def go(page: Page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    wait_for_app_run(page)


def history_count(page: Page, entries: int, status: str | None = None) -> None:
    go(page, "History")
    expect(page.get_by_text(f"{entries} entr{'y' if entries == 1 else 'ies'}", exact=True)).to_be_visible(
        timeout=LANDED_S)
    if status:
        expect(page.get_by_text(status).first).to_be_visible(timeout=LANDED_S)


def test_page_switches_and_setting_changes_cancel_nothing(studio, page: Page, api: EmulatorServer) -> None:
    connect(page, studio.url)
    set_count(page, 4)
    generate(page, "four lanterns that must all land")
    go(page, "History")
    expect(page.get_by_text("4 running")).to_be_visible()  # History shows the work at once
    go(page, "Generate")
    page.locator('[data-testid="stSidebar"]').get_by_text("JPEG", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_label("Prompt", exact=True)).to_be_editable()  # the page never blocks
    expect(open_buttons(page)).to_have_count(4, timeout=LANDED_S)
    expect(page.get_by_text("4 of 4 images ready")).to_be_visible()
    history_count(page, 4)
    assert api.stats()["requests"]["ok"] == 4


def test_a_reload_finds_the_running_batch_again(studio, page: Page, api: EmulatorServer) -> None:
    connect(page, studio.url)
    set_count(page, 2)
    generate(page, "two kites across a reload")
    page.reload()
    connect(page, studio.url)  # the same key: the same identity
    expect(open_buttons(page)).to_have_count(2, timeout=LANDED_S)
    history_count(page, 2)
    assert api.stats()["requests"]["ok"] == 2


def test_two_tabs_of_one_identity_both_see_the_batch(studio, browser: Browser, api: EmulatorServer) -> None:
    first, second = browser.new_page(), browser.new_page()
    try:
        connect(first, studio.url)
        connect(second, studio.url)
        set_count(first, 3)
        generate(first, "three boats seen from two tabs")
        second.reload()
        connect(second, studio.url)
        expect(open_buttons(second)).to_have_count(3, timeout=LANDED_S)
        expect(open_buttons(first)).to_have_count(3, timeout=LANDED_S)
    finally:
        first.close()
        second.close()
    assert api.stats()["requests"]["ok"] == 3


def test_cancel_a_job_records_the_images_as_cancelled(studio, page: Page, api: EmulatorServer) -> None:
    connect(page, studio.url)
    set_count(page, 2)
    generate(page, "a very slow harbour [[fault:slow=60]]")
    page.get_by_role("button", name="Cancel job").click()
    expect(page.get_by_text("may still be billed by Google").first).to_be_visible(timeout=LANDED_S)
    expect(page.get_by_role("button", name="Retry")).to_have_count(2, timeout=LANDED_S)
    history_count(page, 2, "2 cancelled")


def test_a_process_restart_marks_running_work_interrupted(studio, browser: Browser) -> None:
    page = browser.new_page()
    connect(page, studio.url)
    generate(page, "lost when the server dies [[fault:slow=60]]")
    page.close()
    studio.stop()
    studio.start()
    page = browser.new_page()
    connect(page, studio.url)
    history_count(page, 1, "1 interrupted")
    page.close()


def test_a_reload_on_history_asks_to_connect_then_opens_history(studio, page: Page) -> None:
    page.goto(f"{studio.url}/history")  # what a reload of the History page does in a new, unconnected session
    wait_for_app_run(page)
    expect(page.get_by_label("Gemini API key", exact=True)).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    page.get_by_label("Gemini API key", exact=True).fill(TEST_KEY)
    page.get_by_role("button", name="Connect with API key").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=LANDED_S)
    expect(page.get_by_text("0 entries", exact=True)).to_be_visible()
