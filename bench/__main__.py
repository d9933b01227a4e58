"""``python -m bench``: the studio's figures, side by side with the raw API, printed as a table.

``--quick`` is the smoke run CI uses (small counts, no targets judged); the full run is by hand and
its output goes in docs/PERFORMANCE.md. Ratios are measured in the same run so they hold on a noisy
machine; absolute times are context only. Every section says how long it took, so a slow smoke run
shows where its time went. The sections that drive Chromium share one browser (each opens its own
contexts), so the run launches it once; in ``--quick`` the floor, drafts and sidebar sections also share one
emulator, studio and floor app (a full run gives each figure fresh servers).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import platform
import sys
import time
from collections.abc import Callable

from playwright.sync_api import Browser

from bench import engine_bench
from bench.common import Report
from bench.studio_page import chromium

JOBS_SECTIONS = ("floor", "drafts", "sidebar", "jobs")
RIG_SECTIONS = ("floor", "drafts", "sidebar")  # the quick run's shared servers (bench.jobs_bench.shared_rig)
# section -> the module whose run(report, quick[, browser]) makes its figures
MODULE_SECTIONS = {"session": "bench.session_bench", "postgres": "bench.postgres_bench", "blobs": "bench.blobs_bench",
                   "batch_lane": "bench.batch_lane_bench", "browser": "bench.browser_bench",
                   "load": "bench.load_bench", "mask": "bench.mask_bench", "search": "bench.search_bench",
                   "cold_start": "bench.cold_start_bench"}
ENGINE_SECTIONS = ("overhead", "batch", "streaming", "concurrency")
SECTIONS = (*ENGINE_SECTIONS, *MODULE_SECTIONS, *JOBS_SECTIONS)  # the Chromium ones last: one browser for them
BROWSER_SECTIONS = ("browser", "load", "cold_start", *JOBS_SECTIONS)
SECTION_MODULES = {**dict.fromkeys(ENGINE_SECTIONS, "bench.engine_bench"), **MODULE_SECTIONS,
                   **dict.fromkeys(JOBS_SECTIONS, "bench.jobs_bench")}
# bench modules the smoke run (tests/test_bench_smoke.py) drives on their own, with checks of their own
SMOKED_APART = ("bench.thread_bench", "bench.registry_bench")


def _engine(section: str, quick: bool) -> Callable[[Report], None]:
    if section == "overhead":
        return lambda report: engine_bench.overhead(report, repeats=2 if quick else 7, latency_s=0.2 if quick else 0.5)
    if section == "batch":
        return lambda report: engine_bench.batch(report, latency_s=0.2 if quick else 2.0)
    if section == "streaming":
        return lambda report: engine_bench.streaming(report, base_latency_s=0.1 if quick else 1.0)
    return lambda report: engine_bench.concurrency(report, (1, 5) if quick else (1, 5, 20),
                                                   latency_s=0.3 if quick else 1.0, images=2 if quick else 5)


def _section(section: str, quick: bool, browser: Callable[[], Browser],
             rig: Callable[[], object | None]) -> Callable[[Report], None] | None:
    """The call that makes a section's figures (None: its module cannot be imported here, said so).

    ``browser`` gives the run's shared Chromium and ``rig`` the quick run's shared servers, started on first use.
    """
    if section in ENGINE_SECTIONS:
        return _engine(section, quick)
    if section in RIG_SECTIONS:
        jobs_bench = importlib.import_module("bench.jobs_bench")
        return lambda report: jobs_bench.SECTIONS[section](report, quick=quick, browser=browser(), rig=rig())
    if section in JOBS_SECTIONS:  # the job runner's figures (issue 10) with a studio and emulator of their own
        jobs_bench = importlib.import_module("bench.jobs_bench")
        return lambda report: jobs_bench.SECTIONS[section](report, quick=quick, browser=browser())
    try:
        module = importlib.import_module(MODULE_SECTIONS[section])
    except ImportError as exc:
        print(f"  {section}: skipped ({exc})")
        return None
    if section in BROWSER_SECTIONS:
        return lambda report: module.run(report, quick=quick, browser=browser())
    return lambda report: module.run(report, quick=quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: small counts, short latencies")
    parser.add_argument("--only", action="append", default=[], choices=SECTIONS, metavar="SECTION",
                        help=f"sections to run (repeatable): {' '.join(SECTIONS)}")
    parser.add_argument("--markdown", help="also write the table as markdown to this file")
    args = parser.parse_args(argv)
    quick = args.quick
    wanted = set(args.only) or set(SECTIONS)
    report = Report(judge_timings=not quick)
    print(f"Nano Banana Pro studio benchmarks ({'quick' if quick else 'full'}) on {platform.node()}, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    took: list[str] = []
    with contextlib.ExitStack() as stack, contextlib.ExitStack() as rig_stack:
        shared: list[Browser] = []
        rigs: list[object] = []

        def browser() -> Browser:
            if not shared:
                shared.append(stack.enter_context(chromium()))
            return shared[0]

        def rig() -> object | None:
            if not quick:
                return None
            if not rigs:
                rigs.append(rig_stack.enter_context(importlib.import_module("bench.jobs_bench").shared_rig()))
            return rigs[0]

        for section in SECTIONS:
            if section not in wanted:
                continue
            if section not in RIG_SECTIONS:
                rig_stack.close()  # its work (8 images at 20 s after the sidebar) must not load later sections
                rigs.clear()
            started = time.perf_counter()
            make = _section(section, quick, browser, rig)
            if make is not None:
                make(report)
            took.append(f"{section} {time.perf_counter() - started:.1f} s")
            print(f"  [{section} took {time.perf_counter() - started:.1f} s]", flush=True)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(report.markdown() + "\n")
    missed = [r for r in report.rows if r.ok is False]
    print(f"{len(report.rows)} figures, {len(missed)} targets missed; time per section: {', '.join(took)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
