"""The benchmark suite still runs end to end (a smoke run: figures are printed, no timing is judged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.browser
@pytest.mark.timeout(900)
def test_quick_benchmark_suite_runs(tmp_path: Path) -> None:
    table = tmp_path / "figures.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--markdown", str(table)], cwd=ROOT,
                          capture_output=True, text=True, timeout=840, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line for line in table.read_text().splitlines() if line.startswith("| ") and "figure" not in line]
    sections = {row.split("|")[1].strip() for row in rows}
    assert {"overhead", "batch", "streaming", "concurrency", "session", "memory", "load", "floor", "drafts",
            "sidebar", "jobs"} <= sections
    assert "images in the right history" in table.read_text()  # load: 20 tabs' first batch
    assert "images in the right History" in table.read_text()  # jobs: with navigation and reloads mixed in


@pytest.mark.timeout(300)
def test_thread_bench_runs_and_its_trims_hold(tmp_path: Path) -> None:
    """The edit-thread figure (docs/PERFORMANCE.md, "Edit threads") on a short thread: each turn grows, and what
    the studio sends is smaller than the untrimmed thread (drafts left out, reference downscaled)."""
    import json

    out = tmp_path / "thread.json"
    done = subprocess.run([sys.executable, "-m", "bench.thread_bench", "--turns", "3", "--sizes", "1K",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads(out.read_text())["1K"]
    assert [r[0] for r in rows] == [1, 2, 3]
    sent = [r[1] for r in rows]
    assert sent[0] < sent[1] < sent[2], "every turn resends the ones before it"
    assert all(untrimmed > s for _, s, untrimmed, _photo in rows)
