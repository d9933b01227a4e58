"""Roles and grounding in headless Chromium: tag a reference, search with Google, see the suggestions and sources.

The Search Suggestions frame is a ``data:`` URL: this checks Chromium really draws it (an opaque-origin frame)
with Google's chips inside, beside the image in the grid.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bench.studio_page import START_MODEL, generate, reference_images, wait_for_app_run
from studio.roles import limits_text

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_a_tagged_grounded_generation_shows_its_sources(start_studio, page, tmp_path: Path) -> None:
    studio = start_studio()
    page.goto(studio.url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    expect(page.get_by_text("Offline mode")).to_be_visible(timeout=60_000)
    wait_for_app_run(page)

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [str(path) for path in reference_images(tmp_path)[:2]])
    expect(page.get_by_text("2 of 14 reference images")).to_be_visible()
    expect(page.get_by_text(limits_text(START_MODEL))).to_be_visible()  # the default model's limits, said once
    wait_for_app_run(page)
    main = page.locator('[data-testid="stMain"]')
    first_role = main.locator('[class*="st-key-ref_role_0_"]')  # the strip's role dropdown of the first image
    first_role.get_by_role("combobox").click()
    page.get_by_role("option", name="Character", exact=True).click()
    expect(first_role.get_by_role("combobox")).to_have_value("Character")
    wait_for_app_run(page)

    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Grounding with Google Search", exact=True).click()
    expect(sidebar.get_by_role("switch", name="Grounding with Google Search")).to_be_checked()
    wait_for_app_run(page)

    generate(page, "the weather in Lisbon today as a travel poster")
    expect(page.get_by_text("1 of 1 images ready")).to_be_visible(timeout=60_000)
    wait_for_app_run(page)

    suggestions = page.frame_locator('iframe[title="Google Search suggestions for this image"]').first
    expect(suggestions.get_by_text("Google Search suggestions (emulated)")).to_be_visible(timeout=15_000)
    expect(suggestions.get_by_role("link").first).to_have_attribute(
        "href", "https://www.google.com/search?q=the+weather+in+Lisbon+today+as+a+travel")
    expect(main.get_by_text("Sources from Google Search ·")).to_be_visible()
    page.locator('iframe[title="Google Search suggestions for this image"]').first.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "roles-and-grounding.png"))  # to look at
