"""On a phone (390 × 844) the sidebar stays shut: welcome, Generate and History are usable at that size.

The sidebar is Streamlit's own: shut, it carries ``data-collapsed="true"``, its box sits left of the
screen, and the header shows an "Expand sidebar" button. "Usable" is Playwright's actionability check
(``click(trial=True)``): visible, stable, and the element itself receives the tap, so nothing covers it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import wait_for_app_run

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# a phone's browser says so: Streamlit shuts the sidebar after a page link only on a mobile user agent
PHONE_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/126.0.0.0 Mobile Safari/537.36")
WIDE = {"width": 1440, "height": 1000}
OFFLINE_S = 60_000  # the first Try offline starts the emulator


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3,
                                  user_agent=PHONE_AGENT)
    yield context.new_page()
    context.close()


def sidebar_is_shut(page: Page) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    expect(page.get_by_role("button", name="Expand sidebar")).to_be_visible()
    # its box has left the screen, so it cannot lie over the main area
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stSidebar\"]').getBoundingClientRect().right <= 0")


def usable(page: Page, locator) -> None:  # type: ignore[no-untyped-def]
    locator.scroll_into_view_if_needed()
    expect(locator).to_be_in_viewport()
    locator.click(trial=True)  # waits until nothing else would take the tap


def test_phone_welcome_generate_and_history(start_studio, phone: Page) -> None:
    studio = start_studio()
    page = phone
    page.goto(studio.url)
    wait_for_app_run(page)
    try_offline = page.get_by_role("button", name="Try offline")
    expect(try_offline).to_be_visible()
    sidebar_is_shut(page)
    usable(page, try_offline)
    assert page.evaluate("() => window.innerWidth") == PHONE["width"]

    try_offline.click()
    expect(page.get_by_text("Offline mode")).to_be_visible(timeout=OFFLINE_S)
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()
    sidebar_is_shut(page)
    prompt = page.get_by_label("Prompt", exact=True)
    usable(page, prompt)
    expect(prompt).to_be_editable()
    prompt.fill("a phone-sized banana")
    prompt.press("Control+Enter")
    wait_for_app_run(page)
    expect(prompt).to_have_value("a phone-sized banana")
    box = prompt.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "the box fits the screen"

    # the pages are listed in the sidebar: open it, go to History, and it shuts again on a phone
    page.get_by_role("button", name="Expand sidebar").click()
    history_link = page.locator('[data-testid="stSidebar"]').get_by_role("link", name="History")
    expect(history_link).to_be_in_viewport()
    history_link.click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.get_by_text("0 entries", exact=True)).to_be_visible()
    sidebar_is_shut(page)
    usable(page, page.get_by_text("0 entries", exact=True))
    usable(page, page.get_by_label("Search prompts"))


def test_wide_screen_still_opens_the_sidebar(start_studio, browser: Browser) -> None:
    """The other half of "auto": on a wide screen the sidebar opens by itself."""
    studio = start_studio()
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    try:
        page.goto(studio.url)
        wait_for_app_run(page)
        expect(page.get_by_role("button", name="Try offline")).to_be_visible()
        expect(page.locator('[data-testid="stSidebar"]')).to_have_attribute("data-collapsed", "false")
        expect(page.locator('[data-testid="stSidebar"]').get_by_text("Aspect ratio")).to_be_in_viewport()
    finally:
        context.close()
