"""The studio in headless Chromium: the browser, waiting for a script run, and the batch the README shows.

Shared by the browser tests, the benchmarks and scripts/update-screenshot.py, so the script that makes
docs/screenshot.png walks exactly the path the browser tests check.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Locator, Page, Playwright, ViewportSize, expect, sync_playwright

from studio import lineup
from studio.catalogue import DEFAULT_CATALOGUE

# Playwright cannot download its browsers on every machine: STUDIO_CHROMIUM, Debian's chromium, then its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
SHOWCASE_PROMPT = "A banana-yellow vintage scooter on a rainy Tokyo street at night, neon reflections"
SHOWCASE_VIEWPORT: ViewportSize = {"width": 1440, "height": 1500}  # tall enough to show the whole grid
SHOWCASE_COUNT = 4

START_MODEL = lineup.default_spec(DEFAULT_CATALOGUE)  # the model a new session starts on (the registry's default)


def chromium_path() -> str | None:
    """The Chromium to drive, or None for Playwright's own build where one is installed."""
    for candidate in (os.environ.get("STUDIO_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


@contextlib.contextmanager
def chromium(shared: Browser | None = None) -> Iterator[Browser]:
    """``shared`` when given (one Chromium for a whole bench run), else a Chromium launched for this block.

    A block using a shared browser closes the contexts it opened, never the browser.
    """
    if shared is not None:
        yield shared
        return
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_app_run(page: Page, timeout_ms: int = 60_000) -> None:
    """The app is drawn and its script is not running (as in Streamlit's e2e helper, without its fixed sleep).

    A rerun a click has only just asked for may not have started yet, so check what it should show with
    Playwright's retrying `expect(...)` rather than trusting the page right after this returns.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)


def reference_images(folder: Path) -> list[Path]:
    """Three small PNGs of different sizes to upload as references."""
    paths = []
    for i, colour in enumerate(("tomato", "gold", "steelblue")):
        path = folder / f"reference-{i}.png"
        Image.new("RGB", (320 + 40 * i, 240), colour).save(path)
        paths.append(path)
    return paths


def type_prompt(page: Page, text: str, settle: Callable[[Page], None] = wait_for_app_run) -> None:
    """Write the prompt and commit it (a text area sends its value on blur; Ctrl+Enter would press Generate too),
    then ``settle``."""
    box = page.get_by_label("Prompt", exact=True)
    box.fill(text)
    box.blur()  # commits the text (Ctrl+Enter would also press Generate)
    settle(page)


def generate_button(page: Page) -> Locator:
    """Generate, whose label also says what it will make and cost ("Generate 4 images · $0.54")."""
    return page.locator(".st-key-generate button")


def generate(page: Page, prompt: str) -> None:
    """Write the prompt and press Generate (returns at once: callers wait for what they expect to see)."""
    type_prompt(page, prompt)
    generate_button(page).click()


def download_from_first_card(page: Page) -> tuple[bytes, str]:
    """Open the grid's first image and download it from the detail dialog: the file's bytes and name."""
    page.locator(".st-key-session_results").get_by_role("button", name="Open", exact=True).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    with page.expect_download() as info:
        dialog.get_by_role("button", name="Download", exact=True).click()
    return Path(info.value.path()).read_bytes(), info.value.suggested_filename


def _choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app_run(page)


def set_images(page: Page, count: int) -> None:
    """Step the sidebar's Images slider with the keyboard until it shows ``count`` (a rerun can eat a key press)."""
    slider = page.locator('[data-testid="stSidebar"]').get_by_role("slider", name="Images")
    for _ in range(5):
        current = int(slider.input_value())
        if current == count:
            break
        slider.focus()
        for _ in range(abs(count - current)):
            slider.press("ArrowRight" if count > current else "ArrowLeft")
        wait_for_app_run(page)
    expect(slider).to_have_value(str(count))


def showcase_batch(page: Page, url: str, folder: Path) -> None:
    """Offline, a prompt, three references, 21:9 at 2K as JPEG, four images, generated and all in the grid.

    Each step waits for the server to have drawn its effect, so the next never races a rerun.
    """
    page.goto(url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    expect(page.get_by_text("Offline mode")).to_be_visible(timeout=60_000)
    wait_for_app_run(page)

    type_prompt(page, SHOWCASE_PROMPT)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [str(path) for path in reference_images(folder)])
    expect(page.get_by_text("3 of 14 reference images")).to_be_visible()
    wait_for_app_run(page)

    sidebar = page.locator('[data-testid="stSidebar"]')
    _choose(page, "Aspect ratio", "21:9")
    sidebar.get_by_text("2K", exact=True).click()
    expect(sidebar.get_by_text("3168 × 1344 px")).to_be_visible()
    wait_for_app_run(page)
    sidebar.get_by_text("JPEG", exact=True).click()
    expect(sidebar.get_by_role("slider", name="JPEG quality")).to_be_visible()
    wait_for_app_run(page)
    set_images(page, SHOWCASE_COUNT)
    # the slider sends its value after a pause: wait for the server's estimate of four images
    expect(sidebar.get_by_text(f"${START_MODEL.estimate_cost('2K', SHOWCASE_COUNT, 3):.3f}")).to_be_visible(timeout=15_000)
    wait_for_app_run(page)

    generate_button(page).click()
    expect(page.get_by_text(f"{SHOWCASE_COUNT} of {SHOWCASE_COUNT} images ready")).to_be_visible(timeout=60_000)
    wait_for_app_run(page)
    expect(page.locator(".st-key-session_results").get_by_role("button", name="Open", exact=True)).to_have_count(
        SHOWCASE_COUNT)
