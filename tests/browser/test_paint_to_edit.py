"""Paint to edit in Chromium: a rectangle painted with mouse drags on the canvas, "Replace the sky with a
sunset" applied through the job runner and the real SDK against the emulator (which perturbs every pixel of
its answer a little), both versions downloaded and compared with Pillow: outside the rectangle and its soft
edge every pixel is equal, inside it changed. Painting sends nothing to the server until "Use this area"."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import Browser, Page, expect

from bench.studio_process import StudioProcess
from studio.emulator.server import EmulatorServer
from studio.regions.edit import DEFAULT_FEATHER_PX

from .conftest import wait_for_app_run
from .test_jobs import LANDED_S, connect, generate
from .test_phone import PHONE, PHONE_AGENT

pytestmark = pytest.mark.browser

CANVAS = "iframe[title='components.paint_canvas.paint_canvas']"
BOX = (0.2, 0.1, 0.7, 0.45)  # the painted rectangle, as shares of the canvas (left, top, right, bottom)
SLACK = DEFAULT_FEATHER_PX + 3  # the soft edge, and a pixel or two of the mouse's rounding


@pytest.fixture
def studio(start_studio: Callable[..., StudioProcess], fresh_emulator: Callable[..., EmulatorServer]) -> StudioProcess:
    return start_studio(env={"STUDIO_GEMINI_BASE_URL": fresh_emulator(latency_s=0.2).base_url})


def _download(page: Page) -> Image.Image:
    with page.expect_download() as info:
        page.get_by_role("button", name="Download this version").click()
    return Image.open(io.BytesIO(Path(info.value.path()).read_bytes())).convert("RGB")


def test_paint_a_rectangle_and_only_it_changes(studio, page: Page) -> None:
    sent: list[str] = []  # what the browser sends the server (the script's websocket), from here on
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(len(frame)))))
    connect(page, studio.url)
    generate(page, "a meadow under a blue sky")
    region = page.locator('[data-testid="stMain"]').get_by_role("button", name="Edit region", exact=True)
    expect(region).to_have_count(1, timeout=LANDED_S)
    region.click()
    expect(page.get_by_role("heading", name="Edit", exact=True)).to_be_visible(timeout=LANDED_S)
    wait_for_app_run(page)
    original = _download(page)

    canvas = page.frame_locator(CANVAS)
    paint = canvas.locator("#paint")
    expect(paint).to_be_visible()
    paint.scroll_into_view_if_needed()
    box = paint.bounding_box()
    assert box is not None
    assert abs(box["width"] / box["height"] - original.width / original.height) < 0.02, "at the image's ratio"
    sent.clear()
    canvas.get_by_role("button", name="Brush").click()  # a stroke first, erased again: painting is free
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.8)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.9, steps=8)
    page.mouse.up()
    canvas.get_by_role("button", name="Clear").click()
    canvas.get_by_role("button", name="Rectangle").click()
    left, top, right, bottom = BOX
    page.mouse.move(box["x"] + box["width"] * left, box["y"] + box["height"] * top)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * right, box["y"] + box["height"] * bottom, steps=10)
    page.mouse.up()
    assert sent == [], "painting sends nothing to the server (no rerun per stroke)"
    canvas.get_by_role("button", name="Use this area").click()
    expect(page.get_by_text(re.compile(r"^Painted area: \d+% of the image"))).to_be_visible(timeout=LANDED_S)
    assert sent, "the mask went to the server when the person pressed Use this area"
    wait_for_app_run(page)

    instruction = page.get_by_label("Edit instruction", exact=True)
    instruction.fill("Replace the sky with a sunset")
    instruction.blur()  # commits the text (Ctrl+Enter would also press Apply edit)
    wait_for_app_run(page)
    page.get_by_role("button", name="Apply edit", exact=True).click()
    expect(page.get_by_role("button", name=re.compile(r"^\W*└ v2 🖼️"))).to_be_visible(timeout=LANDED_S)
    wait_for_app_run(page)
    expect(page.get_by_role("button", name="Download this version")).to_be_visible()
    edited = _download(page)

    assert edited.size == original.size
    w, h = original.size
    inner = (round(w * left) + SLACK, round(h * top) + SLACK, round(w * right) - SLACK, round(h * bottom) - SLACK)
    outer = (round(w * left) - SLACK, round(h * top) - SLACK, round(w * right) + SLACK, round(h * bottom) + SLACK)
    keep = Image.new("1", original.size, 1)
    keep.paste(0, outer)
    difference = ImageChops.difference(original, edited).convert("L").point(lambda v: 255 if v else 0)
    outside = ImageChops.multiply(difference, keep.convert("L"))
    assert outside.getbbox() is None, "every pixel outside the rectangle and its soft edge is the original's"
    inside = difference.crop(inner)
    changed = inside.histogram()[255] / (inside.width * inside.height)
    assert changed > 0.5, f"inside the rectangle the picture changed ({changed:.0%} of its pixels)"


def test_a_phone_paints_with_touch(studio, browser: Browser) -> None:
    """390 px wide, touch only: the canvas fits the screen at the image's ratio and a finger paints."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3,
                                  user_agent=PHONE_AGENT)
    try:
        page = context.new_page()
        connect(page, studio.url)
        generate(page, "a lighthouse at night")
        region = page.locator('[data-testid="stMain"]').get_by_role("button", name="Edit region", exact=True)
        expect(region).to_have_count(1, timeout=LANDED_S)
        region.tap()
        expect(page.get_by_role("heading", name="Edit", exact=True)).to_be_visible(timeout=LANDED_S)
        wait_for_app_run(page)
        canvas = page.frame_locator(CANVAS)
        paint = canvas.locator("#paint")
        expect(paint).to_be_visible()
        paint.scroll_into_view_if_needed()
        box = paint.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "fits the phone"
        assert abs(box["width"] - box["height"]) < 2, "at the image's ratio (1:1)"
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a finger paints a spot
        canvas.get_by_role("button", name="Use this area").tap()
        expect(page.get_by_text(re.compile(r"^Painted area: \d+% of the image"))).to_be_visible(timeout=LANDED_S)
    finally:
        context.close()
