"""Every day on the Generate page, in headless Chromium at 1440×900 and 390×844: Ctrl+Enter generates, the new
card comes into view, and the unsent prompt survives a reload of the same browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import wait_for_app_run

pytestmark = pytest.mark.browser

SIZES = {"wide": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
OFFLINE_S = 60_000  # the first Try offline starts the emulator
# the card's top edge, in the window's coordinates (the page scrolls inside Streamlit's main area)
FIRST_CARD_TOP_JS = """() => {
  const card = document.querySelector('.st-key-session_results [data-testid="stImage"]');
  return card ? card.getBoundingClientRect().top : null;
}"""


def _offline(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=OFFLINE_S)
    wait_for_app_run(page)


@pytest.mark.parametrize("size", ["wide", "phone"])
def test_ctrl_enter_generates_and_the_new_card_is_in_view(start_studio, browser: Browser, size: str) -> None:
    studio = start_studio()
    context = browser.new_context(viewport=SIZES[size])  # type: ignore[arg-type]
    page = context.new_page()
    try:
        _offline(page, studio.url)
        box = page.get_by_label("Prompt", exact=True)
        box.fill("a lighthouse pressed with the keyboard")
        box.press("Control+Enter")
        results = page.locator('.st-key-session_results [data-testid="stImage"]')
        expect(results).to_have_count(1, timeout=OFFLINE_S)
        wait_for_app_run(page)
        expect(results.first).to_be_in_viewport()
        page.wait_for_function(f"() => {{ const top = ({FIRST_CARD_TOP_JS})(); "
                               f"return top !== null && top >= 0 && top < {SIZES[size]['height']}; }}")
        expect(box).to_have_value("a lighthouse pressed with the keyboard")
    finally:
        context.close()


def test_the_unsent_prompt_survives_a_reload(start_studio, browser: Browser) -> None:
    studio = start_studio()
    context = browser.new_context(viewport=SIZES["wide"])  # type: ignore[arg-type]
    page = context.new_page()
    try:
        _offline(page, studio.url)
        draft = "a draft typed but never sent, with ünïcode and </script> in it"
        page.get_by_label("Prompt", exact=True).fill(draft)  # typed, not committed, not sent
        page.reload()
        _offline(page, studio.url)
        box = page.get_by_label("Prompt", exact=True)
        expect(box).to_have_value(draft)
        page.locator(".st-key-generate button").click()  # the server has it too: Generate sends it
        expect(page.locator('.st-key-session_results [data-testid="stImage"]')).to_have_count(1, timeout=OFFLINE_S)
        expect(page.get_by_text("Write a prompt first")).to_have_count(0)

        other = browser.new_context(viewport=SIZES["wide"])  # type: ignore[arg-type]
        try:  # another browser has its own storage: nothing typed here shows there
            stranger = other.new_page()
            _offline(stranger, studio.url)
            expect(stranger.get_by_label("Prompt", exact=True)).to_have_value("")
        finally:
            other.close()
    finally:
        context.close()
