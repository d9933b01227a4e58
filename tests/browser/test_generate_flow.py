"""The whole studio in headless Chromium: try offline, upload, choose, generate, open, download."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from studio.images import read_recipe

from .conftest import wait_for_app_run

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
PROMPT = "A banana-yellow vintage scooter on a rainy Tokyo street at night, neon reflections"


def _reference(tmp_path: Path, i: int) -> Path:
    path = tmp_path / f"reference-{i}.png"
    Image.new("RGB", (320 + 40 * i, 240), ("tomato", "gold", "steelblue")[i]).save(path)
    return path


def _choose(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app_run(page)


def test_offline_generation_end_to_end(start_studio, page, tmp_path: Path) -> None:
    studio = start_studio()
    page.goto(studio.url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    wait_for_app_run(page)
    assert page.get_by_text("Offline mode").is_visible()

    page.get_by_label("Prompt").fill(PROMPT)
    page.get_by_label("Prompt").press("Control+Enter")
    wait_for_app_run(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [str(_reference(tmp_path, i)) for i in range(3)])
    wait_for_app_run(page)
    page.get_by_text("3 of 14 reference images").wait_for()

    sidebar = page.locator('[data-testid="stSidebar"]')
    _choose(page, "Aspect ratio", "21:9")
    sidebar.get_by_text("2K", exact=True).click()
    wait_for_app_run(page)
    sidebar.get_by_text("JPEG", exact=True).click()
    wait_for_app_run(page)
    images_slider = sidebar.get_by_role("slider", name="Images")
    images_slider.focus()
    for _ in range(3):
        images_slider.press("ArrowRight")
    wait_for_app_run(page)
    assert sidebar.get_by_text("3168 × 1344 px").is_visible()

    page.get_by_role("button", name="Generate").click()
    page.get_by_text("4 of 4 images ready").wait_for(timeout=60_000)
    wait_for_app_run(page)
    open_buttons = page.locator('[data-testid="stMain"]').get_by_role("button", name="Open", exact=True)
    page.set_viewport_size({"width": 1440, "height": 1500})  # tall enough to show the grid in the README
    wait_for_app_run(page)
    page.screenshot(path=str(DOCS / "screenshot.png"))
    assert open_buttons.count() == 4

    open_buttons.first.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    with page.expect_download() as info:
        dialog.get_by_role("button", name="Download", exact=True).click()
    data = Path(info.value.path()).read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (3168, 1344)
    recipe = read_recipe(data)
    assert recipe["prompt"] == PROMPT and recipe["references"] == 3 and recipe["aspect_ratio"] == "21:9"
    assert info.value.suggested_filename.endswith(".jpg")
