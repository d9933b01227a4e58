"""The job runner's figures (issue 10) through real Chromium: the floor, drafts, the sidebar under load, many sessions.

- floor: the studio beside bench/floor_app.py (the least Streamlit app that shows a Gemini image) on the same
  emulator, runs alternating, click→first image visible timed inside each page; with a timeline of where the
  studio's time goes (script runs, the websocket message with the image, the thumbnail fetch, server records).
- drafts: click→first draft visible in the studio against a plain generate_content's time to the final image.
- sidebar: with 8 images in flight, a sidebar change (PNG↔JPEG) reruns and repaints: click→new element painted.
- jobs: N sessions × M images in real tabs, each with its own API key, with navigation and reloads mixed in;
  every image must land in the right History, and server RSS must come back after the work.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from bench.browser_bench import _connect_with_key, _settled, _wait_batch_done
from bench.common import BENCH_KEY, Report, percentile, raw_client, raw_config
from bench.studio_page import chromium, generate_button, type_prompt
from bench.studio_process import ROOT, StudioProcess, free_port
from studio.catalogue import DEFAULT_CATALOGUE
from studio.credentials import Connection
from studio.emulator.admin import set_config
from studio.emulator.server import EmulatorConfig, EmulatorServer
from studio.history import HistoryStore, namespace_for

PRO = DEFAULT_CATALOGUE.by_key("pro").model_id
FLOOR_APP = ROOT / "bench" / "floor_app.py"
VIEWPORT = {"width": 1440, "height": 1000}

# Records when websocket messages arrive and leave, so a timeline can say which message carried the image.
_WS_SPY_JS = """(() => {
  const Native = window.WebSocket;
  window.__ws = [];
  class Spy extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', e => window.__ws.push(['in', performance.now(),
        e.data.byteLength ?? e.data.size ?? e.data.length ?? 0]));
    }
    send(data) { window.__ws.push(['out', performance.now(), data.byteLength ?? data.length ?? 0]); super.send(data); }
  }
  window.WebSocket = Spy;
})()"""

# Clicks a main-area button and resolves once a new image is decoded on screen ("any" new image, or the first
# "final" one: not a draft). Marks script-state changes and the first new <img> on the way; all in page time.
_CLICK_TIMELINE_JS = """async ({before, label, target}) => {
  const app = document.querySelector('[data-testid=stApp]');
  const button = document.querySelector('.st-key-generate button')  // the studio's (its label says count, cost)
    || [...document.querySelectorAll('[data-testid=stMain] button')].find(b => b.innerText.trim().startsWith(label));
  const started = performance.now();
  const events = [];
  const mark = name => events.push([name, performance.now() - started]);
  const isDraft = i => (i.closest('[data-testid=stImage]')?.innerText || '').includes('Draft');
  const fresh = () => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')]
    .filter(i => i.src && !before.includes(i.src));
  let state = app.getAttribute('data-test-script-state');
  let inserted = false, first = null;
  const shown = new Promise(resolve => {
    const check = () => {
      const now = app.getAttribute('data-test-script-state');
      if (now !== state) { state = now; mark('script ' + now); }
      const imgs = fresh();
      if (!inserted && imgs.length) { inserted = true; mark('img inserted'); }
      const ready = imgs.filter(i => i.complete && i.naturalWidth > 0);
      if (first === null && ready.length) { first = performance.now() - started; mark('first img decoded'); }
      const finals = ready.filter(i => !isDraft(i));
      if ((target === 'any' && ready.length) || (target === 'final' && finals.length)) {
        mark('target decoded');
        observer.disconnect();
        document.removeEventListener('load', check, true);
        resolve(performance.now() - started);
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {subtree: true, childList: true, attributes: true});
    document.addEventListener('load', check, true);
  });
  window.__ws = [];
  const clickedAt = performance.timeOrigin + started;
  button.click();
  const ms = await shown;
  const media = performance.getEntriesByType('resource').filter(r => r.name.includes('/media/') && r.startTime >= started)
    .map(r => [r.startTime - started, r.responseEnd - started, r.transferSize]);
  const ws = (window.__ws || []).map(([dir, t, n]) => [dir, t - started, n]);
  return {ms, first, clickedAt, events, media, ws};
}"""

def _load() -> str:
    """The machine's 1-minute load average: these figures share 2 cores with whatever else runs."""
    return f"load avg {os.getloadavg()[0]:.1f}"


_IMAGES_JS = "() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')].map(i => i.src)"


@dataclass
class Click:
    """One timed click: ms to the target image, ms to the first new image, and the page's timeline."""

    seconds: float
    first_s: float
    clicked_at: float  # epoch seconds
    events: list[tuple[str, float]]
    media: list[tuple[float, float, int]]
    ws: list[tuple[str, float, int]]


def _timed_click(page: Page, target: str = "any") -> Click:
    before = page.evaluate(_IMAGES_JS)
    out: dict[str, Any] = page.evaluate(_CLICK_TIMELINE_JS, {"before": before, "label": "Generate", "target": target})
    first = out["first"] if out["first"] is not None else out["ms"]
    return Click(out["ms"] / 1000, first / 1000, out["clickedAt"] / 1000, [tuple(e) for e in out["events"]],
                 [tuple(m) for m in out["media"]], [tuple(w) for w in out["ws"]])


def _fill_prompt(page: Page, prompt: str) -> None:
    """``type_prompt`` with the benches' settle (it adds a 100 ms pause the timed figures were taken with)."""
    type_prompt(page, prompt, settle=_settled)


def _set_count(page: Page, count: int) -> None:
    """Move the Images slider to ``count``; a key press lost to a rerun is made up on the next pass."""
    slider = page.locator('[data-testid="stSidebar"]').get_by_role("slider", name="Images")
    for _ in range(4):
        current = int(slider.input_value() or 1)  # a range input: its value, not aria-valuenow
        if current == count:
            break
        slider.focus()
        for _ in range(abs(count - current)):
            slider.press("ArrowRight" if count > current else "ArrowLeft")
        page.wait_for_timeout(400)  # the slider sends its value after a pause
        _settled(page)
    expect(slider).to_have_value(str(count), timeout=30_000)
    _settled(page)


@contextlib.contextmanager
def _studio(emulator: EmulatorServer, tmp: Path, name: str = "studio", script: Path | None = None,
            extra_env: dict[str, str] | None = None, root: Path = ROOT) -> Iterator[StudioProcess]:
    """The studio (or the floor app) on the emulator; ``root`` may be a patched copy of the studio for experiments."""
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp / f"{name}-data"), "STUDIO_GEMINI_BASE_URL": emulator.base_url,
           "FLOOR_BASE_URL": emulator.base_url, "FLOOR_API_KEY": BENCH_KEY, "FLOOR_MODEL": PRO, **(extra_env or {})}
    process = StudioProcess(free_port(), env, tmp / f"{name}.log", None, script=script or root / "app.py",
                            cwd=root).start()
    try:
        yield process
    finally:
        process.stop()


def _emulator(keys: frozenset[str] = frozenset({BENCH_KEY}), **config: Any) -> EmulatorServer:
    return EmulatorServer(EmulatorConfig(api_keys=keys, **config)).start()


@dataclass
class Rig:
    """An emulator with the studio (and the floor app) on it, and the folder holding their data and logs."""

    emulator: EmulatorServer
    studio: StudioProcess
    floor_app: StudioProcess | None
    tmp: Path


@contextlib.contextmanager
def shared_rig() -> Iterator[Rig]:
    """One rig for the smoke run's floor, drafts and sidebar sections: two server starts instead of five.

    A full run gives each figure fresh servers (pass no rig), so no figure inherits another's history or memory.
    """
    with _rig(ROOT, floor_app=True) as rig:
        yield rig


@contextlib.contextmanager
def _rig(studio_root: Path, floor_app: bool, shared: Rig | None = None, **config: Any) -> Iterator[Rig]:
    """``shared`` with its emulator set to ``config`` (for the tree's studio), else fresh servers for this block."""
    if shared is not None and studio_root == ROOT:
        set_config(shared.emulator.state, config)
        yield shared
        return
    emulator = _emulator(**config)
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            with _studio(emulator, tmp, root=studio_root) as studio, contextlib.ExitStack() as stack:
                floor_process = stack.enter_context(_studio(emulator, tmp, "floor", FLOOR_APP)) if floor_app else None
                yield Rig(emulator, studio, floor_process, tmp)
    finally:
        emulator.stop()


# ---- 1. the floor ------------------------------------------------------------------------------------------
def _server_marks(data_dir: Path, prompt: str, clicked_at: float) -> dict[str, float]:
    """Server-side moments of the studio's entry for this prompt, in s after the click (read-only SQLite)."""
    db = sqlite3.connect(f"file:{data_dir / 'history.sqlite3'}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT id, created_at, latency_s FROM entries WHERE prompt = ? ORDER BY created_at LIMIT 1",
                         (prompt,)).fetchone()
    finally:
        db.close()
    if row is None:
        return {}
    marks = {"job submitted": row[1] - clicked_at, "answer in (submit + API latency)": row[1] + row[2] - clicked_at}
    thumbs = glob.glob(str(data_dir / "ns" / "*" / f"{row[0]}.thumb.jpg"))
    if thumbs:
        marks["thumbnail written"] = os.path.getmtime(thumbs[0]) - clicked_at
    return marks


def _describe(click: Click, server: dict[str, float] | None = None) -> str:
    """A one-line timeline in ms after the click."""
    parts = [f"{name} {ms:.0f}" for name, ms in click.events if name != "target decoded"]
    for name, s in (server or {}).items():
        parts.append(f"[server] {name} {s * 1000:.0f}")
    image_ws = [w for w in click.ws if w[0] == "in" and w[1] <= next(
        (ms for name, ms in click.events if name == "img inserted"), 1e12)]
    if image_ws:
        parts.append(f"ws msg before img {image_ws[-1][1]:.0f}")
    for start, end, size in click.media[:1]:
        parts.append(f"media fetch {start:.0f}-{end:.0f} ({size / 1000:.0f} kB)")
    return ", ".join(parts)


def floor(report: Report, quick: bool, studio_root: Path = ROOT, label: str = "",
          latencies: tuple[float, ...] | None = None, browser: Browser | None = None, rig: Rig | None = None) -> None:
    """Studio click→first image visible against the floor app's, alternating runs on one emulator.

    ``studio_root`` and ``label`` let an experiment run a patched copy of the studio against the same floor;
    ``browser`` and ``rig`` are the smoke run's shared Chromium and servers, else this figure starts its own.
    """
    latencies = latencies or ((0.5,) if quick else (0.5, 2.0))
    repeats = 1 if quick else 9
    with chromium(browser) as chrome, _rig(studio_root, True, rig, latency_s=latencies[0]) as servers:
        emulator, studio, floor_app, tmp = servers.emulator, servers.studio, servers.floor_app, servers.tmp
        assert floor_app is not None
        pages = {"studio": _new_page(chrome), "floor": _new_page(chrome)}
        _connect_with_key(pages["studio"], studio.url)
        pages["floor"].goto(floor_app.url)
        _settled(pages["floor"])
        data_dir = tmp / "studio-data"
        for latency in latencies:
            set_config(emulator.state, {"latency_s": latency})
            times: dict[str, list[float]] = {"studio": [], "floor": []}
            profiles: list[str] = []
            for i in range(repeats + 1):  # run 0 warms both up and is not counted
                order = ("floor", "studio") if i % 2 == 0 else ("studio", "floor")
                for side in order:
                    prompt = f"{side} floor bench {latency:g} s #{i}"
                    _fill_prompt(pages[side], prompt)
                    click = _timed_click(pages[side])
                    if side == "studio":
                        _wait_batch_done(pages[side])
                        if i:
                            profiles.append(f"{click.seconds * 1000:.0f} ms: "
                                            + _describe(click, _server_marks(data_dir, prompt, click.clicked_at)))
                    else:
                        _settled(pages[side])
                        if i == 1:
                            print(f"    floor profile {latency:g} s: {click.seconds * 1000:.0f} ms: "
                                  + _describe(click), flush=True)
                    if i:
                        times[side].append(click.seconds)
            for line in profiles[: 2 if quick else 4]:
                print(f"    studio profile {latency:g} s: {line}", flush=True)
            studio_s, floor_s = statistics.median(times["studio"]), statistics.median(times["floor"])
            ratio = studio_s / floor_s
            report.add("floor", f"studio{label} / floor app, click→first image visible ({latency:g} s)", ratio, "x",
                       "<= 1.05", None if quick else ratio <= 1.05,
                       f"studio {studio_s:.3f}s, floor {floor_s:.3f}s, median of {repeats} alternating; "
                       f"studio p90 {percentile(times['studio'], 90):.3f}s; {_load()}")
        for page in pages.values():
            page.context.close()


def _new_page(browser: Browser) -> Page:
    page = browser.new_context(viewport=VIEWPORT).new_page()  # type: ignore[arg-type]
    page.add_init_script(_WS_SPY_JS)
    return page


# ---- 2. drafts ---------------------------------------------------------------------------------------------
def drafts(report: Report, quick: bool, studio_root: Path = ROOT, label: str = "",
           browser: Browser | None = None, rig: Rig | None = None) -> None:
    """Time to first pixels (first draft visible) against the raw SDK's time to the final image.

    ``browser`` and ``rig`` are the smoke run's shared Chromium and servers, else this figure starts its own.
    """
    latency = 1.0 if quick else 4.0
    timing = (0.3, 0.6)
    repeats = 1 if quick else 5
    with chromium(browser) as chrome, \
            _rig(studio_root, False, rig, latency_s=latency, draft_timing=timing) as servers:
        client = raw_client(servers.emulator)
        config = raw_config("1:1", "1K")
        raw_times = []
        for i in range(repeats):  # the studio is up but idle: no session has connected yet
            started = time.perf_counter()
            client.models.generate_content(model=PRO, contents=f"raw drafts bench #{i}", config=config)
            raw_times.append(time.perf_counter() - started)
        raw_s = statistics.median(raw_times)
        page = _new_page(chrome)
        _connect_with_key(page, servers.studio.url)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("Advanced", exact=True).click()
        sidebar.get_by_text("Show the model's thoughts and drafts", exact=True).click()
        _settled(page)
        firsts, finals = [], []
        for i in range(repeats + 1):  # run 0 warms up
            prompt = f"studio drafts bench #{i}"
            _fill_prompt(page, prompt)
            click = _timed_click(page, target="final")
            _wait_batch_done(page)
            if i:
                firsts.append(click.first_s)
                finals.append(click.seconds)
                if i <= 2:
                    print(f"    drafts profile: {click.seconds * 1000:.0f} ms: "
                          + _describe(click, _server_marks(servers.tmp / "studio-data", prompt, click.clicked_at)),
                          flush=True)
        page.context.close()
    first_s, final_s = statistics.median(firsts), statistics.median(finals)
    ratio = first_s / raw_s
    setting = f"latency {latency:g} s, drafts at {', '.join(f'{t:.0%}' for t in timing)}"
    report.add("drafts", f"first draft visible{label} / raw SDK final image ({setting})", ratio, "x", "<= 0.6",
               None if quick else ratio <= 0.6, f"first draft {first_s:.3f}s, raw final {raw_s:.3f}s, "
                                                f"median of {repeats}; {_load()}")
    report.add("drafts", f"studio final image visible{label} / raw SDK final image ({setting})", final_s / raw_s, "x",
               note=f"studio final {final_s:.3f}s")


# ---- 3. a sidebar change while 8 images are in flight ------------------------------------------------------
_TOGGLE_JS = """async ({label, wantSlider}) => {
  const sidebar = document.querySelector('[data-testid=stSidebar]');
  const option = [...sidebar.querySelectorAll('label')].find(l => l.innerText.trim() === label);
  const hasSlider = () => [...sidebar.querySelectorAll('[data-testid=stSlider]')]
    .some(s => s.innerText.includes('JPEG quality'));
  const app = document.querySelector('[data-testid=stApp]');
  const started = performance.now();
  const events = [];
  const mark = name => events.push([name, Math.round(performance.now() - started)]);
  let state = app.getAttribute('data-test-script-state');
  const painted = new Promise(resolve => {
    const check = () => {
      const now = app.getAttribute('data-test-script-state');
      if (now !== state) { state = now; mark('script ' + now); }
      if (hasSlider() === wantSlider) {
        mark('element');
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - started));  // the frame that shows it
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  });
  window.__ws = [];
  option.click();
  const ms = await painted;
  const ws = (window.__ws || []).map(([dir, t, n]) => [dir, Math.round(t - started), n]);
  return {ms, events, ws};
}"""


_DICE_JS = """async () => {
  const seed = () => document.querySelector('[data-testid=stSidebar] .st-key-seed input').value;
  const before = seed();
  const started = performance.now();
  [...document.querySelectorAll('[data-testid=stSidebar] .st-key-seed_randomize button')]
    .find(b => b.offsetParent !== null).click();  // the shown one (Streamlit keeps a hidden twin beside it)
  return await new Promise(resolve => {
    const check = () => seed() !== before ? resolve(performance.now() - started) : requestAnimationFrame(check);
    requestAnimationFrame(check);
  });
}"""


def _dice_times(page: Page, repeats: int) -> list[float]:
    """Seconds from a 🎲 click to the frame showing the new seed: a change that reruns all of Generate's settings
    (the settings fragment), not only the output format's (checked on each animation frame)."""
    times = []
    for i in range(repeats):
        page.locator("[data-testid=stSidebar] .st-key-seed_randomize button").first.wait_for()
        times.append(page.evaluate(_DICE_JS) / 1000)
        page.wait_for_timeout(300 + 97 * (i % 7))
    return times


def _toggle_times(page: Page, repeats: int, profile: str, in_flight: list[int] | None = None,
                  emulator: EmulatorServer | None = None) -> list[float]:
    """Seconds from each click to the frame that shows the change; prints where the time went (medians, ms).

    Between changes it pauses rather than waiting for the script to stop: while work runs the live panel's
    fragment runs follow one another, so "not running" is rare. ``in_flight`` collects the API's count per change.
    """
    times: list[float] = []
    parts: dict[str, list[float]] = {"request sent": [], "server answers": [], "server's last message": [],
                                     "element in the page": [], "frame": []}
    for i in range(repeats):
        jpeg = i % 2 == 0
        if in_flight is not None and emulator is not None:
            in_flight.append(int(emulator.stats()["in_flight"]))
        label = "JPEG" if jpeg else "PNG"
        page.locator("[data-testid=stSidebar] label").filter(has_text=re.compile(f"^{label}$")).first.wait_for()  # drawn (a loaded machine)
        out = page.evaluate(_TOGGLE_JS, {"label": label, "wantSlider": jpeg})
        times.append(out["ms"] / 1000)
        element = next(ms for name, ms in out["events"] if name == "element")
        ws_in = [t for d, t, _ in out["ws"] if d == "in" and t <= element]
        ws_out = [t for d, t, _ in out["ws"] if d == "out"]
        if ws_in and ws_out:
            for name, value in zip(parts, (ws_out[0], ws_in[0], ws_in[-1], element, out["ms"]), strict=True):
                parts[name].append(value)
        page.wait_for_timeout(300 + 97 * (i % 7))  # land at different points of the live panel's runs
    if len(times) % 2:  # leave it on PNG
        page.evaluate(_TOGGLE_JS, {"label": "PNG", "wantSlider": False})
        page.wait_for_timeout(300)
    print(f"    sidebar profile ({profile}, medians after the click): "
          + ", ".join(f"{name} {statistics.median(v):.0f} ms" for name, v in parts.items() if v), flush=True)
    return times


def sidebar_under_load(report: Report, quick: bool, browser: Browser | None = None, rig: Rig | None = None) -> None:
    """PNG↔JPEG in the sidebar, idle and then with 8 images in flight: click→repainted, timed in the page.

    ``browser`` and ``rig`` are the smoke run's shared Chromium and servers, else this figure starts its own.
    """
    latency = 20.0 if quick else 90.0  # long enough that all 8 are still in flight after the last change
    repeats = 4 if quick else 30
    with chromium(browser) as chrome, _rig(ROOT, True, rig, latency_s=latency) as servers:
        emulator, studio, floor_app = servers.emulator, servers.studio, servers.floor_app
        assert floor_app is not None
        floor_page = _new_page(chrome)  # the same change in the floor app: Streamlit and this machine's share
        floor_page.goto(floor_app.url)
        _settled(floor_page)
        floor_times = _toggle_times(floor_page, repeats, "floor app")
        floor_page.context.close()
        page = _new_page(chrome)
        _connect_with_key(page, studio.url)
        idle = _toggle_times(page, repeats, "idle")
        dice = _dice_times(page, repeats)
        _set_count(page, 8)
        _fill_prompt(page, "eight images in flight while the sidebar changes")
        generate_button(page).click()
        page.get_by_role("button", name="Cancel job").first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        counts: list[int] = []
        busy = _toggle_times(page, repeats, "8 in flight", counts, emulator)
        page.context.close()
    med, p90 = statistics.median(busy) * 1000, percentile(busy, 90) * 1000
    report.add("sidebar", "PNG↔JPEG click→repainted, 8 images in flight: median", med, "ms", "< 150",
               None if quick else med < 150,
               f"p90 {p90:.0f} ms, max {max(busy) * 1000:.0f} ms, {repeats} changes; in flight at the API at "
               f"each change: {min(counts)}–{max(counts)}; {_load()}")
    report.add("sidebar", "PNG↔JPEG click→repainted, 8 images in flight: p90", p90, "ms", "< 150",
               None if quick else p90 < 150)
    report.add("sidebar", "PNG↔JPEG click→repainted, nothing in flight: median", statistics.median(idle) * 1000, "ms",
               note=f"p90 {percentile(idle, 90) * 1000:.0f} ms")
    report.add("sidebar", "the same change in the floor app: median", statistics.median(floor_times) * 1000, "ms",
               note=f"p90 {percentile(floor_times, 90) * 1000:.0f} ms (Streamlit's own round trip on this machine)")
    idle_ratio = statistics.median(idle) / statistics.median(floor_times)
    report.add("sidebar", "studio / floor app, sidebar change, nothing in flight", idle_ratio, "x", "<= 2",
               None if quick else idle_ratio <= 2, "medians of the two rows above")
    dice_ratio = statistics.median(dice) / statistics.median(floor_times)
    report.add("sidebar", "studio / floor app, 🎲 seed (all of Generate's settings rerun), nothing in flight",
               dice_ratio, "x", note=f"median {statistics.median(dice) * 1000:.0f} ms, p90 "
               f"{percentile(dice, 90) * 1000:.0f} ms; timed by animation frame")


# ---- 4. many sessions with navigation and reloads ----------------------------------------------------------
def _key(i: int) -> str:
    return f"jobs-key-{i:02d}"


def _prompt(i: int, round_: int) -> str:
    return f"jobs session {i} round {round_}"


def _db_counts(data_dir: Path) -> tuple[int, int]:
    """(entries, entries still running), read-only."""
    path = data_dir / "history.sqlite3"
    if not path.exists():
        return 0, 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        total, running = db.execute("SELECT COUNT(*), COALESCE(SUM(status = 'running'), 0) FROM entries").fetchone()
    finally:
        db.close()
    return int(total), int(running)


def _sent_so_far(emulator: EmulatorServer) -> int:
    stats = emulator.stats()
    return int(stats["served"]) + int(stats["in_flight"])


def _wait_sent(emulator: EmulatorServer, before: int, images: int, timeout_s: float = 120.0) -> None:
    """Until this click's images have reached the API.

    Not "until Cancel job shows": on a loaded server a 5-image job at 1 s can finish before the click's rerun
    has drawn it, and the button is then never there to see.
    """
    deadline = time.monotonic() + timeout_s
    while _sent_so_far(emulator) < before + images:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{images} requests did not reach the API within {timeout_s:.0f} s of the click")
        time.sleep(0.01)


def _wait_recorded(data_dir: Path, expected: int, timeout_s: float) -> float:
    """Seconds until the store holds `expected` entries and none is running (bounded)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        total, running = _db_counts(data_dir)
        if total >= expected and running == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    raise TimeoutError(f"store holds {_db_counts(data_dir)} (entries, running) after {timeout_s:.0f} s; "
                       f"expected {expected} finished")


RECONNECT_NOTES: list[str] = []  # what a reload met on the way (printed with the figures)


def _reconnect(page: Page, url: str, key: str) -> None:
    """Reload the tab (the session and its connection are gone) and connect again with the same key.

    A reload on /generate or /history lands on a session without a connection, where only the welcome page
    exists: Streamlit then shows a "Page not found" dialog over the key box. It is noted and closed, as a
    person would.
    """
    page.reload()
    _settled(page)
    box = page.get_by_label("Gemini API key", exact=True)
    box.wait_for(timeout=60_000)
    for attempt in range(3):
        dialog = page.locator('[role="dialog"]')
        if dialog.count():
            RECONNECT_NOTES.append(f"reload on {page.url.removeprefix(url) or '/'}: dialog "
                                   f"{' '.join(dialog.first.inner_text().split())[:60]!r}")
            page.keyboard.press("Escape")
            dialog.first.wait_for(state="detached", timeout=30_000)
        try:
            box.fill(key, timeout=5_000)  # the dialog may come a moment after the page: then close it and retry
            break
        except Exception:
            if attempt == 2:
                raise
    page.get_by_role("button", name="Connect with API key").click()
    # a reload on /history opens History once connected (the address is kept): come back to Generate
    page.get_by_role("link", name="Generate").wait_for(timeout=120_000)
    if not page.get_by_label("Prompt", exact=True).count():
        page.get_by_role("link", name="Generate").click()
    page.get_by_label("Prompt", exact=True).wait_for(timeout=120_000)
    _settled(page)


def _go(page: Page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    _settled(page)


MOVES = ("History and back", "reload", "History, back, reload", "stay")


def _move(page: Page, url: str, key: str, move: str) -> None:
    if "History" in move:
        _go(page, "History")
        _go(page, "Generate")
    if "reload" in move:
        _reconnect(page, url, key)


def _history_count(page: Page) -> int:
    """The History page's own count ("N entries")."""
    _go(page, "History")
    caption = page.get_by_text(" entries", exact=False).first
    caption.wait_for(timeout=60_000)
    text = caption.inner_text().split()[0].replace(",", "")
    _go(page, "Generate")
    return int(text) if text.isdigit() else -1


def jobs_load(report: Report, quick: bool, extra_env: dict[str, str] | None = None,
              browser: Browser | None = None) -> None:
    """N sessions × M images, twice, with History visits and reloads while the images are in flight.

    ``extra_env`` is for experiments on the server (e.g. MALLOC_ARENA_MAX); the figures use none.
    """
    # quick: one tab visits History while its images are in flight, the other reloads (the warm-up does both)
    sessions, images, rounds = (2, 2, 1) if quick else (20, 5, 2)
    settle_s = 1.0 if quick else 20.0
    # the runner closes a connection's client (its HTTP pools, ~2 MB) after STUDIO_ENGINE_IDLE_S unused (60 s by
    # default), at its next housekeeping (every 15 s): "back" is read once that has happened, 90 s after the work
    back_s = 1.0 if quick else 90.0
    latency = 1.0
    keys = frozenset(_key(i) for i in range(sessions + 1))  # the last one is the warm-up identity
    emulator = _emulator(keys=keys, latency_s=latency)
    with tempfile.TemporaryDirectory() as tmpdir, chromium(browser) as chrome:
        tmp = Path(tmpdir)
        data_dir = tmp / "studio-data"
        with _studio(emulator, tmp, extra_env=extra_env) as studio:
            # one session walks the whole path first (a batch, History, back, a reload), so first-use imports
            # and caches (the History table loads pandas and pyarrow) are not counted as growth
            warm = _new_page(chrome)
            _connect_with_key(warm, studio.url, _key(sessions))
            _set_count(warm, images)
            _fill_prompt(warm, "jobs warm-up")
            generate_button(warm).click()
            _wait_recorded(data_dir, images, 120)
            _wait_batch_done(warm)
            _move(warm, studio.url, _key(sessions), MOVES[2])
            warm.context.close()
            pages = []
            for i in range(sessions):
                page = _new_page(chrome)
                _connect_with_key(page, studio.url, _key(i))
                pages.append(page)
            rss_start = studio.rss_bytes()
            expected = images
            walls, moves_in_flight, rss_rounds = [], [], []
            started_all = time.monotonic()
            for round_ in range(rounds):
                for i, page in enumerate(pages):
                    _fill_prompt(page, _prompt(i, round_))
                    _set_count(page, images)
                started = time.monotonic()
                for i, page in enumerate(pages):  # each session presses Generate, then moves while its work runs
                    sent_before = _sent_so_far(emulator)
                    generate_button(page).click()
                    _wait_sent(emulator, sent_before, images)
                    moves_in_flight.append(emulator.stats()["in_flight"])
                    _move(page, studio.url, _key(i), MOVES[(i + round_) % len(MOVES)])
                expected += sessions * images
                _wait_recorded(data_dir, expected, 600)
                walls.append(time.monotonic() - started)
                rss_rounds.append(studio.rss_bytes())
            total_s = time.monotonic() - started_all
            page_counts = [_history_count(page) for page in pages]
            rss_after = studio.rss_bytes()
            work_done = time.monotonic()
            time.sleep(settle_s)
            rss_settled = studio.rss_bytes()
            time.sleep(max(0.0, work_done + back_s - time.monotonic()))
            rss_back = studio.rss_bytes()
            for page in pages:
                page.context.close()
        verified = _verify(data_dir, sessions, images, rounds)
    stats = emulator.stats()
    emulator.stop()
    made = sessions * images * rounds
    label = f"{sessions} sessions × {images} images × {rounds} rounds ({latency:g} s)"
    want = sessions * images * rounds
    report.add("jobs", f"{label}: images in the right History", verified["right"], "img", f"= {want}",
               verified["right"] == want, f"{verified['crossed']} crossed identities, {verified['not_ok']} not ok; "
                                          f"API served {stats['served']} (incl. {images} warm-up)")
    page_ok = sum(n == images * rounds for n in page_counts)
    report.add("jobs", f"{label}: History pages showing every entry", page_ok, "tabs", f"= {sessions}",
               page_ok == sessions, f"'N entries' per tab: {sorted(set(page_counts))}")
    report.add("jobs", f"{label}: wall time per round", statistics.median(walls), "s",
               note=f"rounds {', '.join(f'{w:.1f}' for w in walls)} s; API requests in flight as a tab moves: "
                    f"median {statistics.median(moves_in_flight):.0f}, min {min(moves_in_flight)}; {_load()}")
    for note, n in Counter(RECONNECT_NOTES).items():
        print(f"    jobs: {n} × {note}", flush=True)
    report.add("jobs", f"server RSS {settle_s:g} s after {made} images − start", (rss_settled - rss_start) / 1e6, "MB",
               note="idle connection clients still open")
    growth = (rss_back - rss_start) / 1e6
    report.add("jobs", f"server RSS {back_s:g} s after {made} images − start", growth, "MB", "< 50",
               None if quick else growth < 50,
               f"start {rss_start / 1e6:.0f} MB (after a warm-up batch), after each round "
               f"{', '.join(f'{r / 1e6:.0f}' for r in rss_rounds)} MB, with History visited {rss_after / 1e6:.0f} MB, "
               f"{settle_s:g} s later {rss_settled / 1e6:.0f} MB, {back_s:g} s later (idle clients closed) "
               f"{rss_back / 1e6:.0f} MB; {total_s:.0f} s of work")


def _verify(data_dir: Path, sessions: int, images: int, rounds: int) -> dict[str, int]:
    store = HistoryStore.open(data_dir=data_dir)
    right = crossed = not_ok = 0
    try:
        for i in range(sessions):
            namespace = namespace_for(Connection(mode="api_key", api_key=_key(i)), data_dir)
            entries = store.list_entries(namespace, limit=10_000)
            mine = {_prompt(i, r) for r in range(rounds)}
            right += sum(1 for e in entries if e.prompt in mine and e.status == "ok")
            not_ok += sum(1 for e in entries if e.prompt in mine and e.status != "ok")
            crossed += sum(1 for e in entries if e.prompt not in mine)
    finally:
        store.close()
    return {"right": right, "crossed": crossed, "not_ok": not_ok}


SECTIONS = {"floor": floor, "drafts": drafts, "sidebar": sidebar_under_load, "jobs": jobs_load}


# ---- experiments: the same figures for patched copies of the live panel (docs/PERFORMANCE.md, "Jobs") ------------
# The patches are written against components/gallery.py as of b626110; 3c30a79 made the same changes in the tree,
# so there they no longer apply (patched_studio says so) and the plain sections measure them instead.
_PATCHES = {
    "longpoll": [("st.fragment(_body, run_every=POLL_S if active else None)()",
                  "st.fragment(_body, run_every=0.1 if active else None)()")],
    "defer": [("""    if st.session_state.get(LIVE_ACTIVE) and not active:
        st.session_state[LIVE_ACTIVE] = False
        st.rerun()""", """    if st.session_state.get(LIVE_ACTIVE) and not active:
        if st.session_state.get("_final_drawn"):
            st.session_state[LIVE_ACTIVE] = False
            st.session_state.pop("_final_drawn", None)
            st.rerun()
        st.session_state["_final_drawn"] = True""")],
}


def patched_studio(folder: Path, variant: str) -> Path:
    """A copy of the studio with ``components/gallery.py`` patched ("longpoll", "longpoll+defer"); the tree is untouched."""
    import shutil

    root = folder / variant
    root.mkdir(parents=True)
    shutil.copy(ROOT / "app.py", root / "app.py")
    for name in ("app_pages", "components", "studio", ".streamlit"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    gallery = root / "components" / "gallery.py"
    text = gallery.read_text()
    for part in variant.split("+"):
        for old, new in _PATCHES[part]:
            if old not in text:
                raise RuntimeError(f"components/gallery.py changed: cannot apply {part!r}")
            text = text.replace(old, new)
    gallery.write_text(text)
    return root


def experiment(variants: tuple[str, ...] = ("longpoll", "longpoll+defer")) -> Report:
    """``python -m bench.jobs_bench``: the floor and drafts figures for each patched copy."""
    report = Report()
    with tempfile.TemporaryDirectory() as tmpdir:
        for variant in variants:
            root = patched_studio(Path(tmpdir), variant)
            floor(report, quick=False, studio_root=root, label=f" [{variant}]")
            drafts(report, quick=False, studio_root=root, label=f" [{variant}]")
    return report


if __name__ == "__main__":
    experiment()
