"""On a phone (390 × 844) the sidebar stays shut: welcome, Generate and History are usable at that size, the drawer
shuts after a page is chosen (in a narrow desktop window too), nothing is wider than the screen and taps are 44 px.

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


# what is wider than the screen in the main area (an element whose box sticks out left or right), and whether
# the page itself scrolls sideways
OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll('[data-testid="stMain"] *')].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && (box.right > width + 1 || box.left < -1);
  }).map((el) => (el.getAttribute("data-testid") || el.tagName) + " " + Math.round(el.getBoundingClientRect().width));
  return {wide: wide.slice(0, 5), scrolls: document.documentElement.scrollWidth > width};
}"""
# the visible buttons, links and boxes of the main area shorter than a finger's tap
SMALL_TAPS_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] button, [data-testid="stMain"] input, [data-testid="stMain"] textarea')]
  .filter((el) => { const box = el.getBoundingClientRect(); return box.width > 0 && box.height > 0
                    && box.height < 44 && el.type !== "file"; })
  .map((el) => (el.innerText || el.getAttribute("aria-label") || el.tagName).slice(0, 30)
               + " " + Math.round(el.getBoundingClientRect().height))"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3,
                                  user_agent=PHONE_AGENT)
    yield context.new_page()
    context.close()


@pytest.fixture
def narrow(browser: Browser) -> Iterator[Page]:
    """A desktop browser in a phone-sized window: Streamlit itself leaves the drawer open after a page link."""
    context = browser.new_context(viewport=PHONE)
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


def fits_the_screen(page: Page) -> None:
    found = page.evaluate(OVERFLOW_JS)
    assert found == {"wide": [], "scrolls": False}, f"wider than the screen: {found}"
    small = page.evaluate(SMALL_TAPS_JS)
    assert small == [], f"tap targets under 44 px: {small}"


def test_phone_welcome_generate_and_history(start_studio, phone: Page) -> None:
    studio = start_studio()
    page = phone
    page.goto(studio.url)
    wait_for_app_run(page)
    try_offline = page.get_by_role("button", name="Try offline")
    expect(try_offline).to_be_in_viewport()  # the first screen: not 1,540 px down any more
    expect(page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')).to_have_count(0)
    usable(page, try_offline)
    assert page.evaluate("() => window.innerWidth") == PHONE["width"]
    fits_the_screen(page)

    try_offline.click()
    expect(page.get_by_text("Offline mode")).to_be_visible(timeout=OFFLINE_S)
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Generate")).to_be_in_viewport()  # the page opens at its top
    sidebar_is_shut(page)
    prompt = page.get_by_label("Prompt", exact=True)
    usable(page, prompt)
    expect(prompt).to_be_editable()
    prompt.fill("a phone-sized banana")
    prompt.blur()
    wait_for_app_run(page)
    expect(prompt).to_have_value("a phone-sized banana")
    box = prompt.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "the box fits the screen"
    fits_the_screen(page)

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


def test_a_narrow_window_shuts_the_drawer_after_a_page_is_chosen(start_studio, narrow: Page) -> None:
    studio = start_studio()
    page = narrow
    page.goto(studio.url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=OFFLINE_S)
    wait_for_app_run(page)
    page.locator(".st-key-generate button").click()  # an empty prompt: a plain message, nothing sent
    expect(page.get_by_text("Write a prompt first")).to_be_visible()
    for name, heading in (("History", "History"), ("Generate", "Generate")):
        page.get_by_role("button", name="Expand sidebar").click()
        link = page.locator('[data-testid="stSidebar"]').get_by_role("link", name=name)
        usable(page, link)  # the drawer keeps its own scroll position between openings
        link.click()
        wait_for_app_run(page)
        expect(page.get_by_role("heading", name=heading)).to_be_in_viewport()
        sidebar_is_shut(page)
        fits_the_screen(page)


def test_wide_screen_opens_the_settings_once_connected(start_studio, browser: Browser) -> None:
    """The other half of "auto": on a wide screen the sidebar opens by itself, with the settings once connected."""
    studio = start_studio()
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    try:
        page.goto(studio.url)
        wait_for_app_run(page)
        expect(page.get_by_role("button", name="Try offline")).to_be_visible()
        expect(page.get_by_text("Aspect ratio")).to_have_count(0)  # nothing to set before connecting
        page.get_by_role("button", name="Try offline").click()
        expect(page.locator('[data-testid="stSidebar"]').get_by_text("Aspect ratio")).to_be_in_viewport(
            timeout=OFFLINE_S)
        expect(page.locator('[data-testid="stSidebar"]')).to_have_attribute("data-collapsed", "false")
    finally:
        context.close()
