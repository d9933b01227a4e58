"""``python -m bench.batch_lane_bench``: the batch lane's own cost, apart from Google's (the emulator's) delay.

For N images (20 inline, 200 as a file) it measures, with the emulator in its own process:
- submit: ``runner.submit`` until Google has the batch (entries written, the request built and sent);
- collect: from the moment the emulator reports the batch succeeded (its answers made, polled here with our
  own client, so its image making is not counted) until every image is recorded in History;
- the process's resident memory during collecting, sampled every 20 ms: its rise must not grow with N;
- the cost recorded against the interactive estimate (must be half).
Target (issue "Half-price batch lane"): submit + collect < 5 s for 200 images, memory flat.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from google import genai
from google.genai import types

from bench.common import Report
from studio.catalogue import DEFAULT_CATALOGUE
from studio.credentials import Connection
from studio.history import HistoryStore
from studio.jobs import CredentialSource, JobRunner, RunnerLimits
from studio.request import GenerationRequest

KEY = "bench-key"
PRO = DEFAULT_CATALOGUE.by_key("pro").model_id


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_emulator(batch_delay_s: float) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "studio.emulator", "--port", str(port), "--api-key", KEY,
                                "--batch-delay", str(batch_delay_s)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process, url
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the emulator did not start")


class _Sampler(threading.Thread):
    """Peak RSS while running."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss_mb()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak


def measure(count: int, url: str, folder: Path, output_format: str = "JPEG") -> dict[str, float]:
    store = HistoryStore.open(data_dir=folder / f"data-{count}-{output_format}")
    runner = JobRunner(limits=RunnerLimits(batch_poll_s=0.05, batch_poll_max_s=0.05))
    watcher = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=url, api_version="v1beta"))
    try:
        source = CredentialSource(Connection(mode="api_key", api_key=KEY, base_url=url))
        request = GenerationRequest(prompt=f"product shot {count}", model_id=PRO, count=count, lane="batch",
                                    output_format=output_format)
        started = time.perf_counter()
        job = runner.submit("bench", request, store, source)
        while (record := store.batches.get(job.id)) is None or record.name is None:
            time.sleep(0.002)
        submit_s = time.perf_counter() - started
        while watcher.batches.get(name=record.name).state.name != "JOB_STATE_SUCCEEDED":  # type: ignore[union-attr]
            time.sleep(0.05)
        base = _rss_mb()
        sampler = _Sampler()
        sampler.start()
        succeeded_at = time.perf_counter()
        while runner.view(job.id).active:  # type: ignore[union-attr]
            time.sleep(0.005)
        collect_s = time.perf_counter() - succeeded_at
        peak = sampler.stop()
        entries = store.list_entries("bench", limit=count + 1)
        spec = DEFAULT_CATALOGUE.resolve(PRO)
        interactive = sum(spec.cost_from_usage("1K", e.prompt_tokens, e.output_tokens, e.thoughts_tokens, 1)
                          for e in entries)
        recorded = sum(e.cost_usd for e in entries)
        return {"submit_s": submit_s, "collect_s": collect_s, "overhead_s": submit_s + collect_s,
                "rss_rise_mb": peak - base, "ok": float(sum(e.status == "ok" for e in entries)),
                "cost_ratio": recorded / interactive if interactive else 0.0,
                "estimate_ratio": sum(e.estimated_cost_usd for e in entries) / spec.estimate_cost("1K", count)}
    finally:
        runner.close()
        store.close()
        watcher.close()


def run(report: Report, quick: bool) -> None:
    """The section of ``python -m bench``; ``--quick`` (the smoke run) sends one inline batch of 4 JPEG images."""
    counts, formats = ((4,), ("JPEG",)) if quick else ((20, 200), ("JPEG", "PNG"))
    process, url = _start_emulator(batch_delay_s=0.2 if quick else 1.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for output_format in formats:
                for count in counts:
                    m = measure(count, url, Path(tmp), output_format)
                    label = f"{count} images, {output_format}"
                    judged = count == 200
                    report.add("batch lane", f"submit + collect, {label}", m["overhead_s"], "s",
                               "< 5" if judged else "", m["overhead_s"] < 5 if judged else None,
                               f"submit {m['submit_s']:.3f} s, collect {m['collect_s']:.3f} s, "
                               f"RSS rise {m['rss_rise_mb']:.1f} MB")
                    report.add("batch lane", f"images recorded ok, {label}", m["ok"], "img", f"= {count}",
                               m["ok"] == count)
                    report.add("batch lane", f"recorded cost / interactive, {label}", m["cost_ratio"], "x",
                               "= 0.5", abs(m["cost_ratio"] - 0.5) < 1e-6)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch_lane_bench", description=__doc__)
    parser.add_argument("--counts", default="20,200", help="batch sizes (default 20,200)")
    parser.add_argument("--formats", default="JPEG,PNG",
                        help="output formats (default JPEG,PNG; Pro answers JPEG, so PNG adds a re-encode per image)")
    args = parser.parse_args(argv)
    process, url = _start_emulator(batch_delay_s=1.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{'format':>6} {'images':>6} {'submit s':>9} {'collect s':>10} {'overhead s':>11} {'RSS rise MB':>12} "
                  f"{'ok':>5} {'cost/interactive':>17} {'estimate/interactive':>21}")
            for output_format in args.formats.split(","):
                for count in (int(c) for c in args.counts.split(",")):
                    m = measure(count, url, Path(tmp), output_format)
                    print(f"{output_format:>6} {count:>6} {m['submit_s']:>9.3f} {m['collect_s']:>10.3f} {m['overhead_s']:>11.3f} "
                          f"{m['rss_rise_mb']:>12.1f} {int(m['ok']):>5} {m['cost_ratio']:>17.3f} "
                          f"{m['estimate_ratio']:>21.3f}", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
