"""Search by meaning in a real browser, offline: twelve images on varied prompts, then "a vehicle at night"
finds the scooter first although no word of it is in that prompt, and "More like this" ranks the rest."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bench.studio_page import generate, wait_for_app_run

pytestmark = pytest.mark.browser

LANDED_MS = 60_000
SCOOTER = "a red scooter parked on a rainy street at night"
PROMPTS = [SCOOTER, "a bowl of lemons on a wooden table", "a snowy mountain cabin at sunrise",
           "a cat sleeping on a sunny windowsill", "a sailing boat on a calm blue sea",
           "a portrait of an old wizard with a long beard", "a field of sunflowers under a bright sky",
           "a stack of pancakes with berries", "a lighthouse on a rocky coast", "a child flying a kite in a meadow",
           "a castle tower covered in ivy", "a golden retriever playing in the snow"]
HEADER_PX, ROW_PX = 35, 56  # the History table's header and rows (row_height=56 in app_pages/history.py)


def _go(page: Page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    wait_for_app_run(page)


def _select_first_row(page: Page) -> None:
    """Tick the table's first row at its marker (the grid's scroller takes clicks over its canvas)."""
    canvas = page.locator('[data-testid="stDataFrame"]').first.locator('[data-testid="data-grid-canvas"]')
    expect(canvas).to_be_visible(timeout=LANDED_MS)
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 15, box["y"] + HEADER_PX + ROW_PX / 2)
    expect(page.get_by_role("button", name="More like this", exact=True)).to_be_visible(timeout=LANDED_MS)
    wait_for_app_run(page)


def _all_indexed(page: Page) -> None:
    """Draw History again until the index panel says every image is indexed (they are embedded as they land)."""
    panel = page.locator('[data-testid="stExpander"] details').filter(has_text="Index for search by meaning")
    for _ in range(20):
        _go(page, "Generate")
        _go(page, "History")
        if panel.get_by_text(f"{len(PROMPTS)} of {len(PROMPTS)} entries are indexed").count():
            return
    raise AssertionError("the images were not indexed")


def test_search_by_meaning_finds_the_scooter_then_more_like_this(start_studio, page: Page) -> None:
    studio = start_studio()
    page.goto(studio.url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=LANDED_MS)
    wait_for_app_run(page)
    for prompt in PROMPTS:
        generate(page, prompt)
        wait_for_app_run(page)
    _go(page, "History")
    expect(page.get_by_text(f"{len(PROMPTS)} entries", exact=True)).to_be_visible(timeout=LANDED_MS)
    _all_indexed(page)

    search = page.get_by_label("Search prompts")
    search.fill("a vehicle at night")
    search.press("Enter")
    wait_for_app_run(page)
    expect(page.get_by_text("No entry matches these filters.")).to_be_visible(timeout=LANDED_MS)  # no word matches

    page.get_by_text("Search by meaning", exact=True).click()
    expect(page.get_by_text("Search by meaning: “a vehicle at night”")).to_be_visible(timeout=LANDED_MS)
    expect(page.get_by_text("emulated").first).to_be_visible()
    wait_for_app_run(page)
    _select_first_row(page)
    expect(page.get_by_label("New version of this prompt")).to_have_value(SCOOTER)

    page.get_by_role("button", name="More like this", exact=True).click()
    expect(page.get_by_text(f"More like “{SCOOTER}”")).to_be_visible(timeout=LANDED_MS)
    expect(page.get_by_role("button", name="Show all entries")).to_be_visible()
    expect(page.get_by_label("New version of this prompt")).to_have_value(SCOOTER)  # the first row: this one
