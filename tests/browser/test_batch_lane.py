"""The batch lane in Chromium: a batch sent from the page survives a server restart and lands once, at half price."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from bench.studio_page import START_MODEL, generate
from bench.studio_process import StudioProcess
from studio.emulator.server import EmulatorServer

from .conftest import wait_for_app_run
from .test_jobs import LANDED_S, connect, go, history_count, open_buttons

pytestmark = pytest.mark.browser


def test_a_batch_survives_a_restart_and_lands_once(start_studio: Callable[..., StudioProcess],
                                                    fresh_emulator: Callable[..., EmulatorServer],
                                                    browser: Browser) -> None:
    api = fresh_emulator(batch_delay_s=15.0)  # long enough to restart the server in the middle
    studio = start_studio(env={"STUDIO_GEMINI_BASE_URL": api.base_url, "STUDIO_BATCH_POLL_S": "0.3"})
    page = browser.new_page()
    connect(page, studio.url)
    page.locator(".st-key-lane").get_by_text("Batch", exact=True).click()  # the lane control beside Generate
    wait_for_app_run(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(f"${START_MODEL.estimate_cost('1K', 1) / 2:.3f}", exact=True)).to_be_visible()
    generate(page, "three lamps for the night shift")
    expect(page.get_by_text("Batch lane ·").first).to_be_visible(timeout=LANDED_S)
    expect(page.get_by_role("button", name="Cancel job")).to_be_visible()
    page.close()
    studio.stop()  # the server goes away while Google still works on the batch
    studio.start()
    page = browser.new_page()
    connect(page, studio.url)  # the same key: the same identity picks its batch up again
    expect(open_buttons(page)).to_have_count(1, timeout=LANDED_S)
    history_count(page, 1)
    go(page, "Generate")
    assert api.stats()["requests"]["batchGenerateContent"] == 1
    assert api.stats()["requests"].get("generateContent", 0) == 0
    page.close()
