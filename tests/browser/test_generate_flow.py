"""The whole studio in headless Chromium: try offline, upload, choose, generate, open, download."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bench.studio_page import SHOWCASE_PROMPT, SHOWCASE_VIEWPORT, download_from_first_card, showcase_batch
from studio.images import read_recipe

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_offline_generation_end_to_end(start_studio, page, tmp_path: Path) -> None:
    studio = start_studio()
    showcase_batch(page, studio.url, tmp_path)  # the README's batch: each step checked as it lands
    page.set_viewport_size(SHOWCASE_VIEWPORT)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "generate-flow.png"))  # to look at; docs/ has its own script

    data, file_name = download_from_first_card(page)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (3168, 1344)
    recipe = read_recipe(data)
    assert recipe["prompt"] == SHOWCASE_PROMPT and recipe["references"] == 3 and recipe["aspect_ratio"] == "21:9"
    assert file_name.endswith(".jpg")
