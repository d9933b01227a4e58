"""``python -m bench``: the studio's figures, side by side with the raw API, printed as a table.

``--quick`` is the smoke run CI uses (small counts, no targets judged); the full run is by hand and
its output goes in docs/PERFORMANCE.md. Ratios are measured in the same run so they hold on a noisy
machine; absolute times are context only.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time

from bench import engine_bench
from bench.common import Report

JOBS_SECTIONS = ("floor", "drafts", "sidebar", "jobs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: small counts, short latencies")
    parser.add_argument("--only", action="append", default=[],
                        help="sections to run: overhead batch streaming concurrency session browser load "
                             "floor drafts sidebar jobs")
    parser.add_argument("--markdown", help="also write the table as markdown to this file")
    args = parser.parse_args(argv)
    quick = args.quick
    wanted = set(args.only) or {"overhead", "batch", "streaming", "concurrency", "session", "browser", "load",
                                *JOBS_SECTIONS}
    report = Report()
    print(f"Nano Banana Pro studio benchmarks ({'quick' if quick else 'full'}) on {platform.node()}, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    if "overhead" in wanted:
        engine_bench.overhead(report, repeats=2 if quick else 7)
    if "batch" in wanted:
        engine_bench.batch(report, latency_s=0.5 if quick else 2.0)
    if "streaming" in wanted:
        engine_bench.streaming(report, base_latency_s=0.3 if quick else 1.0)
    if "concurrency" in wanted:
        engine_bench.concurrency(report, (1, 5) if quick else (1, 5, 20), latency_s=0.3 if quick else 1.0,
                                 images=2 if quick else 5)
    for section, module in (("session", "bench.session_bench"), ("browser", "bench.browser_bench"),
                            ("load", "bench.load_bench")):
        if section in wanted:
            try:
                bench_module = importlib.import_module(module)
            except ImportError as exc:
                print(f"  {section}: skipped ({exc})")
                continue
            bench_module.run(report, quick=quick)
    for section in JOBS_SECTIONS:  # the job runner's figures (issue 10), each with its own studio and emulator
        if section in wanted:
            jobs_bench = importlib.import_module("bench.jobs_bench")
            jobs_bench.SECTIONS[section](report, quick=quick)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(report.markdown() + "\n")
    missed = [r for r in report.rows if r.ok is False]
    print(f"{len(report.rows)} figures, {len(missed)} targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
