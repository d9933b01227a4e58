"""Load: N concurrent sessions in real browser tabs, each with its own API key, each generating M images.

Checks as it measures: every image reaches the right session and the right history, and no entry
crosses identities. Time to image comes from the history (server-side arrival) minus the click.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser

from bench.browser_bench import _settled
from bench.common import Report, percentile
from bench.studio_page import chromium, generate_button
from bench.studio_process import StudioProcess, free_port
from studio.credentials import Connection
from studio.emulator.server import EmulatorConfig, EmulatorServer
from studio.history import HistoryStore, namespace_for


def _key(i: int) -> str:
    return f"load-key-{i:02d}"


def run(report: Report, quick: bool, sessions: int | None = None, images: int | None = None,
        latency_s: float | None = None, browser: Browser | None = None) -> dict:
    """``browser``: a shared Chromium (the smoke run's), else one of its own."""
    sessions = sessions or (3 if quick else 20)
    images = images or (2 if quick else 5)
    latency_s = latency_s if latency_s is not None else (0.5 if quick else 1.0)
    emulator = EmulatorServer(EmulatorConfig(api_keys=frozenset(_key(i) for i in range(sessions)),
                                             latency_s=latency_s)).start()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = {**os.environ, "STUDIO_DATA_DIR": str(data_dir), "STUDIO_GEMINI_BASE_URL": emulator.base_url}
        studio = StudioProcess(free_port(), env, Path(tmp) / "streamlit.log", None).start()
        try:
            figures = _drive(studio, sessions, images, browser)
        finally:
            rss_after = studio.rss_bytes()
            studio.stop()
            emulator.stop()
        figures.update(_verify(data_dir, sessions, images, figures["clicks"]))
    figures["rss_after_mb"] = rss_after / 1e6
    label = f"{sessions} sessions x {images} images ({latency_s:g} s latency)"
    report.add("load", f"{label}: wall time", figures["wall_s"], "s")
    report.add("load", f"{label}: p50 time to image", figures["p50_s"], "s")
    report.add("load", f"{label}: p95 time to image", figures["p95_s"], "s")
    report.add("load", f"{label}: server RSS after", figures["rss_after_mb"], "MB",
               note=f"before {figures['rss_before_mb']:.0f} MB")
    report.add("load", f"{label}: images in the right history", figures["right_history"], "img",
               f"= {sessions * images}", figures["right_history"] == sessions * images)
    report.add("load", f"{label}: entries crossing sessions", figures["crossed"], "", "= 0", figures["crossed"] == 0)
    return figures


def _drive(studio: StudioProcess, sessions: int, images: int, browser: Browser | None) -> dict:
    with chromium(browser) as chrome:
        pages = []
        for i in range(sessions):
            page = chrome.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(studio.url)
            _settled(page)
            page.get_by_label("Gemini API key", exact=True).fill(_key(i))
            page.get_by_role("button", name="Connect with API key").click()
            page.get_by_label("Prompt", exact=True).wait_for(timeout=120_000)
            _settled(page)
            page.get_by_label("Prompt", exact=True).fill(f"load session {i}")
            page.get_by_label("Prompt", exact=True).blur()  # commits it (Ctrl+Enter would also press Generate)
            _settled(page)
            slider = page.locator('[data-testid="stSidebar"]').get_by_role("slider", name="Images")
            slider.focus()
            for _ in range(images - 1):
                slider.press("ArrowRight")
            _settled(page)
            pages.append(page)
        rss_before = studio.rss_bytes()
        clicks: dict[int, float] = {}
        started = time.time()
        for i, page in enumerate(pages):  # every session presses Generate within a fraction of a second
            clicks[i] = time.time()
            generate_button(page).click()
        for page in pages:
            page.get_by_text(f"{images} of {images} images ready").wait_for(timeout=600_000)
        wall = time.time() - started
        shown = {}
        for i, page in enumerate(pages):
            _settled(page)
            shown[i] = page.get_by_text(f"This session · {images} generations").count()
        for page in pages:
            page.context.close()
    return {"clicks": clicks, "wall_s": wall, "rss_before_mb": rss_before / 1e6, "grids_ok": sum(shown.values())}


def _verify(data_dir: Path, sessions: int, images: int, clicks: dict[int, float]) -> dict:
    store = HistoryStore.open(data_dir=data_dir)
    right = crossed = 0
    waits: list[float] = []
    for i in range(sessions):
        namespace = namespace_for(Connection(mode="api_key", api_key=_key(i)), data_dir)
        entries = store.list_entries(namespace, limit=1000)
        right += sum(1 for e in entries if e.prompt == f"load session {i}" and e.status == "ok")
        crossed += sum(1 for e in entries if e.prompt != f"load session {i}")
        waits += [e.created_at - clicks[i] for e in entries]
    store.close()
    return {"right_history": right, "crossed": crossed, "p50_s": percentile(waits, 50), "p95_s": percentile(waits, 95)}
