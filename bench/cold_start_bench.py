"""Cold start: a new server process → the first paint of the welcome page, against the floor app's first paint.

This is what a Community Cloud visitor waits for when the app wakes: the server starts, answers its health
check, and the first script run draws the page. Both apps start fresh each time (alternating, one Chromium),
so the studio's figure includes every import its first run makes. Two ratios: from the process spawn, and
from the moment the server answered (the first script run alone).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page

from bench.common import Report, percentile
from bench.studio_page import chromium
from bench.studio_process import ROOT, StudioProcess, free_port

FLOOR_APP = ROOT / "bench" / "floor_app.py"
VIEWPORT = {"width": 1440, "height": 900}
FLOOR_ENV = {"FLOOR_BASE_URL": "http://127.0.0.1:9", "FLOOR_API_KEY": "unused", "FLOOR_MODEL": "unused"}


def _first_paint(chrome: Browser, tmp: Path, name: str, script: Path, painted: Callable[[Page], Locator]
                 ) -> tuple[float, float]:
    """Seconds from spawning the server, and from its health answer, to the page's first element visible."""
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp / f"{name}-data"), **FLOOR_ENV}
    spawned = time.perf_counter()
    process = StudioProcess(free_port(), env, tmp / f"{name}.log", None, script=script).start()
    healthy = time.perf_counter()
    try:
        page = chrome.new_context(viewport=VIEWPORT).new_page()  # type: ignore[arg-type]
        page.goto(process.url)
        painted(page).wait_for(state="visible", timeout=60_000)
        done = time.perf_counter()
        page.context.close()
    finally:
        process.stop()
    return done - spawned, done - healthy


def run(report: Report, quick: bool, browser: Browser | None = None) -> None:
    repeats = 1 if quick else 6
    sides: dict[str, tuple[Path, Callable[[Page], Locator]]] = {
        "studio": (ROOT / "app.py", lambda page: page.get_by_role("button", name="Try offline")),
        "floor": (FLOOR_APP, lambda page: page.get_by_label("Prompt", exact=True)),
    }
    spawn: dict[str, list[float]] = {"studio": [], "floor": []}
    served: dict[str, list[float]] = {"studio": [], "floor": []}
    with chromium(browser) as chrome, tempfile.TemporaryDirectory(prefix="cold-start-") as folder:
        warm_up = 0 if quick else 1  # run 0 warms the disk cache for both and is not counted (the smoke run: none)
        for i in range(1 - warm_up, repeats + 1):
            for side in (("floor", "studio") if i % 2 == 0 else ("studio", "floor")):
                script, painted = sides[side]
                whole, first_run = _first_paint(chrome, Path(folder), f"{side}-{i}", script, painted)
                if i:
                    spawn[side].append(whole)
                    served[side].append(first_run)
    ratio = statistics.median(spawn["studio"]) / statistics.median(spawn["floor"])
    report.add("cold_start", "studio / floor app, cold start → first paint", ratio, "x", "<= 1.05",
               None if quick else ratio <= 1.05,
               f"studio {statistics.median(spawn['studio']):.2f}s (p90 {percentile(spawn['studio'], 90):.2f}s), "
               f"floor {statistics.median(spawn['floor']):.2f}s; median of {repeats} alternating fresh processes")
    first = statistics.median(served["studio"]) / statistics.median(served["floor"])
    report.add("cold_start", "studio / floor app, health answer → first paint", first, "x",
               note=f"studio {statistics.median(served['studio']):.2f}s, floor {statistics.median(served['floor']):.2f}s "
                    "(the first script run and its imports)")
