"""Figures through the real studio in headless Chromium: Generate→visible overhead, grid bytes, server memory."""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page

from bench.common import BENCH_KEY, Report, median_time, raw_client, raw_config, start_emulator
from bench.studio_page import chromium
from bench.studio_process import StudioProcess, free_port
from studio.catalogue import DEFAULT_CATALOGUE

PRO = DEFAULT_CATALOGUE.by_key("pro").model_id


def _settled(page: Page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    page.wait_for_timeout(100)


def _connect_with_key(page: Page, url: str, key: str = BENCH_KEY) -> None:
    page.goto(url)
    _settled(page)
    page.get_by_label("Gemini API key", exact=True).fill(key)
    page.get_by_role("button", name="Connect with API key").click()
    page.get_by_label("Prompt", exact=True).wait_for(timeout=60_000)
    _settled(page)


def _set(page: Page, ratio: str, size: str, count: int) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_label("Aspect ratio", exact=True).click()
    page.get_by_role("option", name=ratio, exact=True).click()
    _settled(page)
    sidebar.get_by_text(size, exact=True).click()
    _settled(page)
    slider = sidebar.get_by_role("slider", name="Images")
    current = int(slider.get_attribute("aria-valuenow") or 1)
    slider.focus()
    for _ in range(abs(count - current)):
        slider.press("ArrowRight" if count > current else "ArrowLeft")
    _settled(page)


_IMAGES_JS = "[...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')]"
# Clicks Generate and resolves with the ms until an image not on the page before is decoded and shown:
# timed inside the page, so the figure holds no Playwright round trips.
_CLICK_AND_WAIT_JS = """async (before) => {
  const button = document.querySelector('.st-key-generate button');  // its label says count and cost
  const fresh = () => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')]
    .some(i => !before.includes(i.src) && i.complete && i.naturalWidth > 0);
  const started = performance.now();
  const shown = new Promise(resolve => {
    const check = () => { if (fresh()) { observer.disconnect(); resolve(performance.now() - started); } };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {subtree: true, childList: true, attributes: true});
    document.addEventListener('load', check, true);
  });
  button.click();
  return await shown;
}"""


def _generate_and_time(page: Page, prompt: str, count: int = 1) -> float:
    """Seconds from the click on Generate to the first image of the batch drawn in the page."""
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Prompt", exact=True).blur()  # commits it (Ctrl+Enter would also press Generate)
    _settled(page)
    before = page.evaluate(f"() => {_IMAGES_JS}.map(i => i.src)")
    elapsed = page.evaluate(_CLICK_AND_WAIT_JS, before) / 1000
    _wait_batch_done(page)
    return elapsed


def _wait_batch_done(page: Page, timeout_ms: int = 120_000) -> None:
    """Every job of this page finished: its "Cancel job" buttons are gone and the page drew the summary.

    The studio keeps the summaries of the last three batches ("N of M images ready in X s"), so a
    summary's text alone does not tell this batch from the one before.
    """
    try:
        page.get_by_role("button", name="Cancel job").first.wait_for(state="detached", timeout=timeout_ms)
        page.get_by_text("images ready in").first.wait_for(timeout=timeout_ms)
    except Exception:
        page.screenshot(path="/tmp/bench-failure.png")
        raise
    _settled(page)


def overhead(report: Report, page: Page, url: str, emulator, latency: dict[str, float], repeats: int,
             sizes: tuple[tuple[str, str], ...] = (("1K", "1:1"), ("4K", "16:9"))) -> None:
    """Both sides get fresh prompts each time, so the emulator draws a new picture for each call."""
    client = raw_client(emulator)
    for size, ratio in sizes:
        _set(page, ratio, size, 1)
        config = raw_config(ratio, size)
        counter = iter(range(1_000_000))
        raw = median_time(lambda: client.models.generate_content(
            model=PRO, contents=f"raw overhead {size} {next(counter)}", config=config), repeats)
        studio = statistics.median(_generate_and_time(page, f"browser overhead {size} {i}") for i in range(repeats))
        report.add("overhead", f"click→visible in Chromium / raw SDK, {size} ({latency[size]:g} s latency)",
                   studio / raw, "x", "<= 1.15", studio / raw <= 1.15, f"raw {raw:.3f}s, browser {studio:.3f}s")


_TRAFFIC = {"bytes": 0}  # what the browser received; counters attached when the page opens


def _count_traffic(page: Page) -> None:
    def add(n: int) -> None:
        _TRAFFIC["bytes"] += n

    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: add(len(payload))))
    page.on("response", lambda r: add(_body_size(r)) if "/media/" in r.url else None)


def grid_bytes(report: Report, page: Page, url: str, generations: int) -> None:
    """Fill a session with N generations, then count what coming back to the grid page sends to the browser."""
    _set(page, "1:1", "1K", 8)
    while _session_count(page) < generations:
        _generate_and_time(page, f"grid filler {_session_count(page)}", count=8)
    received = _TRAFFIC
    page.get_by_role("link", name="History").click()
    _settled(page)
    received["bytes"] = 0
    page.get_by_role("link", name="Generate").click()
    _settled(page)
    page.wait_for_timeout(1000)
    mb = received["bytes"] / 1e6
    report.add("session", f"bytes to the browser for the grid, {_session_count(page)} generations", mb, "MB",
               "< 5", mb < 5, "websocket frames + thumbnail media, one visit to the page")


def _session_count(page: Page) -> int:
    heading = page.get_by_text("This session ·")
    if heading.count() == 0:
        return 0
    text = heading.first.inner_text()
    return int(text.split("·")[1].split()[0])


def _body_size(response) -> int:
    try:
        return len(response.body())
    except Exception:
        return 0


def memory(report: Report, page: Page, studio: StudioProcess, counts: tuple[int, ...], batch: int = 8) -> None:
    """Server RSS growth per 4K image after a first, warming one (originals go to disk, not memory)."""
    _set(page, "16:9", "4K", 1)
    _generate_and_time(page, "memory warm-up")
    before = studio.rss_bytes()
    made = 0
    _set(page, "16:9", "4K", batch)
    for target in counts:
        while made < target:
            _generate_and_time(page, f"memory {made}", count=batch)
            made += batch
        growth = (studio.rss_bytes() - before) / 1e6
        report.add("memory", f"server RSS growth over {made} more 4K images", growth / made, "MB/img", "< 2",
                   growth / made < 2, f"{growth:+.1f} MB in all, RSS {studio.rss_bytes() / 1e6:.0f} MB")


def run(report: Report, quick: bool, browser: Browser | None = None) -> None:
    """``browser``: a shared Chromium (the smoke run's); ``--quick`` fills the grid with 2 generations, not 200."""
    # Stated latency per size, as at Google where 4K takes longer (Pro: 10-60 s per image).
    by_size = {"1K": 0.5, "2K": 0.7, "4K": 1.0} if quick else {"1K": 2.0, "2K": 3.0, "4K": 6.0}
    emulator = start_emulator(latency_by_size=by_size)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "STUDIO_DATA_DIR": str(Path(tmp) / "data"), "STUDIO_GEMINI_BASE_URL": emulator.base_url}
        studio = StudioProcess(free_port(), env, Path(tmp) / "streamlit.log", None).start()
        try:
            with chromium(browser) as chrome:
                page = chrome.new_context(viewport={"width": 1440, "height": 1000}).new_page()
                _count_traffic(page)
                _connect_with_key(page, studio.url)
                overhead(report, page, studio.url, emulator, by_size, repeats=2 if quick else 5,
                         sizes=(("1K", "1:1"),) if quick else (("1K", "1:1"), ("4K", "16:9")))  # quick: 4K in memory
                memory(report, page, studio, (2,) if quick else (8, 48), batch=2 if quick else 8)
                grid_bytes(report, page, studio.url, 2 if quick else 200)
                page.context.close()
        finally:
            studio.stop()
            emulator.stop()
