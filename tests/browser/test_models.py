"""Today's models in headless Chromium, on the real studio and its emulator with the shipped registry.

Connect → the default model is Nano Banana 2.1 → generate 21:9 at 2K with Thinking level High → the request
carried gemini-nano-banana-2.1, imageSize 2K and thinking level HIGH; an entry made on retired Nano Banana 2
(seeded into this identity's History) → Re-run lands on 2.1 with the retirement note.
Needs the registry (studio/models.toml) and the emulator that follows it: 2.1 must be in the shipped lineup.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bench.studio_page import generate_button
from bench.studio_process import StudioProcess
from studio.credentials import Connection
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore, namespace_for
from studio.request import GenerationRequest
from tests.conftest import TEST_KEY
from tests.history.conftest import ok_result

from .conftest import wait_for_app_run
from .test_jobs import LANDED_S, connect, go, open_buttons
from .test_replicas import select_first_row

pytestmark = pytest.mark.browser
NB21_ID = "gemini-nano-banana-2.1"
RETIRED_ID = "gemini-3.1-flash-image"  # Nano Banana 2, shut down 2026-10-29


def _choose(page: Page, label: str, option: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app_run(page)


def _entries(data_dir: Path, namespace: str) -> list:
    store = HistoryStore.open(data_dir=data_dir)
    try:
        return store.list_entries(namespace, sort="newest", limit=100)
    finally:
        store.close()


def test_2_1_by_default_with_thinking_high_and_a_retired_entry_rerun_on_it(
        start_studio: Callable[..., StudioProcess], fresh_emulator: Callable[..., EmulatorServer], page: Page,
        tmp_path: Path) -> None:
    api = fresh_emulator()
    studio = start_studio(env={"STUDIO_GEMINI_BASE_URL": api.base_url})
    data_dir = tmp_path / "data"
    connect(page, studio.url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("combobox", name="Model")).to_have_value("Nano Banana 2.1 · gemini-nano-banana-2.1",
                                                                        timeout=LANDED_S)
    _choose(page, "Aspect ratio", "21:9")
    sidebar.get_by_text("2K", exact=True).click()
    wait_for_app_run(page)
    expect(sidebar.get_by_label("Thinking level", exact=True)).to_be_visible()
    _choose(page, "Thinking level", "High")
    page.get_by_label("Prompt", exact=True).fill("a cable car over a misty valley at dawn")
    generate_button(page).click()
    expect(page.get_by_text("1 of 1 images ready")).to_be_visible(timeout=LANDED_S)
    expect(open_buttons(page)).to_have_count(1, timeout=LANDED_S)

    namespace = namespace_for(Connection(mode="api_key", api_key=TEST_KEY), data_dir)
    (made,) = _entries(data_dir, namespace)
    sent = made.request_json
    assert sent["model"] == NB21_ID
    assert sent["generationConfig"]["imageConfig"] == {"aspectRatio": "21:9", "imageSize": "2K"}
    assert sent["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "HIGH"

    old = GenerationRequest(prompt="a fox in the snow", model_id=RETIRED_ID, aspect_ratio="16:9", image_size="512")
    store = HistoryStore.open(data_dir=data_dir)
    try:
        retired = store.record_attempt(namespace, old, ok_result(old), batch_id="made-in-october")
    finally:
        store.close()
    go(page, "History")
    expect(page.get_by_text("2 entries", exact=True)).to_be_visible(timeout=LANDED_S)
    select_first_row(page)  # newest first: the Nano Banana 2 entry
    page.get_by_role("button", name="Re-run", exact=True).click()
    expect(page.get_by_text("Nano Banana 2 was retired by Google on 2026-10-29; this runs on Nano Banana 2.1.")
           ).to_be_visible(timeout=LANDED_S)
    expect(page.get_by_text("Nano Banana 2.1 does not make 512: Resolution set to 1K.")).to_be_visible()
    expect(open_buttons(page)).to_have_count(2, timeout=LANDED_S)  # this session's first image and the re-run
    again = [e for e in _entries(data_dir, namespace) if e.id not in (made.id, retired.id)]
    assert len(again) == 1 and again[0].model_id == NB21_ID and again[0].image_size == "1K"
    assert again[0].status == "ok", again[0].failure_message
