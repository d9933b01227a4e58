"""A sidebar change that only the sidebar shows reruns the sidebar alone (issue 22: a sidebar change costs at
most twice the floor app's round trip), in headless Chromium on the real studio and its emulator.

PNG → JPEG → PNG leaves the page as it was: no element of the main area is marked stale (Streamlit marks what a
full rerun has not redrawn yet); with images in flight, where the live panel's runs follow one another, the
JPEG quality slider still comes and goes at once. A change the page shows too (the number of images, on the Generate button) still redraws the page.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from bench.studio_page import generate_button, set_images
from bench.studio_process import StudioProcess
from studio.emulator.server import EmulatorServer

from .conftest import wait_for_app_run
from .test_jobs import LANDED_S, connect

pytestmark = pytest.mark.browser

# counts each main-area element Streamlit marks stale (a full rerun that has not redrawn it yet)
_WATCH_STALE = """() => {
  window.__staleInMain = 0;
  const main = document.querySelector('[data-testid="stMain"]');
  new MutationObserver(records => {
    for (const record of records) {
      if (record.target.getAttribute && record.target.getAttribute('data-stale') === 'true') window.__staleInMain++;
    }
  }).observe(main, {subtree: true, attributes: true, attributeFilter: ['data-stale']});
}"""


def _switch_format(page: Page, label: str) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(label, exact=True).click()
    quality = sidebar.get_by_role("slider", name="JPEG quality")
    if label == "JPEG":
        expect(quality).to_be_visible(timeout=5_000)
    else:
        expect(quality).to_have_count(0, timeout=5_000)  # within seconds, not when the batch ends


def test_a_format_change_reruns_only_the_sidebar_and_a_count_change_the_page(
        start_studio: Callable[..., StudioProcess], fresh_emulator: Callable[..., EmulatorServer],
        page: Page) -> None:
    api = fresh_emulator(latency_s=60.0)
    studio = start_studio(env={"STUDIO_GEMINI_BASE_URL": api.base_url})
    connect(page, studio.url)
    page.evaluate(_WATCH_STALE)
    for label in ("JPEG", "PNG"):
        _switch_format(page, label)
        wait_for_app_run(page)
    assert page.evaluate("window.__staleInMain") == 0, "a format change redrew the page, not only the sidebar"

    set_images(page, 8)
    expect(generate_button(page)).to_contain_text("Generate 8 images", timeout=LANDED_S)

    page.get_by_label("Prompt", exact=True).fill("eight images in flight while the format changes")
    generate_button(page).click()
    expect(page.get_by_role("button", name="Cancel job").first).to_be_visible(timeout=LANDED_S)
    for label in ("JPEG", "PNG") * 6:  # the live panel's runs follow one another beside each change
        _switch_format(page, label)
    expect(page.get_by_role("button", name="Cancel job").first).to_be_visible()  # still in flight throughout
