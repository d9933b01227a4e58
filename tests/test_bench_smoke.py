"""The benchmark suite still runs end to end (a smoke run: figures are printed, no timing is judged).

Every bench module runs here with tiny counts, so a bench that breaks (a schema change, a renamed label)
fails the suite rather than the next person who wants a figure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import SECTION_MODULES, SMOKED_APART

ROOT = Path(__file__).resolve().parents[1]
# rows that check what happened rather than how fast: they must hold in the smoke run too
CORRECTNESS = ("images in the right", "entries crossing sessions", "History pages showing every entry",
               "images recorded ok", "recorded cost / interactive", "visible entries of")


def _rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines()
            if line.startswith("| ") and "figure" not in line]


def test_every_bench_module_is_in_the_smoke_run() -> None:
    """A new bench/*_bench.py must join `python -m bench` (or be driven below): else nothing notices it break."""
    modules = {f"bench.{path.stem}" for path in (ROOT / "bench").glob("*_bench.py")}
    assert modules - {*SECTION_MODULES.values(), *SMOKED_APART} == set(), "bench modules no smoke run drives"


def test_postgres_bench_rows_fit_the_current_schema(tmp_path: Path) -> None:
    """The bench's rows follow studio.history.schema (a copied column list broke at migration 6): they go into a
    fully migrated store and read back through HistoryStore."""
    import random

    from bench import postgres_bench
    from studio.history import HistoryStore
    from studio.history.database import Database
    from studio.history.schema import COLUMNS, migrate

    url = f"sqlite:///{tmp_path}/history.sqlite3"
    db = Database.connect(url)
    migrate(db)
    rows = postgres_bench.make_rows(postgres_bench.NS, 50, random.Random(15), 1.7e9)
    assert {len(row) for row in rows} == {len(COLUMNS)}
    postgres_bench.fill(db, rows)
    db.close()
    store = HistoryStore.open(url=url, data_dir=tmp_path / "data")
    try:
        entries = store.list_entries(postgres_bench.NS, limit=100)
    finally:
        store.close()
    assert 45 <= len(entries) <= 50  # about 2 % are soft-deleted
    assert {e.model_id for e in entries} <= set(postgres_bench.MODELS)


@pytest.mark.browser
@pytest.mark.timeout(900)
def test_quick_benchmark_suite_runs(tmp_path: Path) -> None:
    table = tmp_path / "figures.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--markdown", str(table)], cwd=ROOT,
                          capture_output=True, text=True, timeout=840, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = table.read_text()
    rows = _rows(text)
    sections = {row[0] for row in rows}
    assert {"overhead", "batch", "streaming", "concurrency", "session", "memory", "load", "floor", "drafts",
            "sidebar", "jobs", "postgres", "blobs", "batch lane", "mask", "search"} <= sections
    assert "images in the right history" in text  # load: the tabs' first batch
    assert "images in the right History" in text  # jobs: with navigation and reloads mixed in
    checks = [row for row in rows if any(name in row[1] for name in CORRECTNESS)]
    assert len(checks) >= 7
    assert [row[1] for row in checks if row[5] != "yes"] == [], "a bench's own check failed"


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


@pytest.mark.timeout(120)
def test_registry_bench_runs_and_the_cached_catalogue_is_reused() -> None:
    """The registry figures (docs/GEMINI-API.md): every line printed, and a rerun's catalogue is the cached one."""
    done = subprocess.run([sys.executable, "-m", "bench.registry_bench"], cwd=ROOT, capture_output=True, text=True,
                          timeout=110, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "import studio.catalogue (parse + check + build, new interpreter)",
        "registry.load (file cached, overrides merged and checked)",
        "Catalogue.from_config, first build", "Catalogue.from_config, cached (each rerun)"]
    from studio.catalogue import Catalogue

    assert Catalogue.from_config({"pro": "bench-id"}) is Catalogue.from_config({"pro": "bench-id"})


@pytest.mark.timeout(120)
def test_mask_bench_runs_and_prints_its_three_figures() -> None:
    """The region-edit composite figures (docs/PERFORMANCE.md, "Paint to edit") on a 1K image."""
    done = subprocess.run([sys.executable, "-m", "bench.mask_bench", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=110, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [row for row in _rows(done.stdout) if row[0] == "mask"]
    assert [row[1].split(",")[0] for row in rows] == ["blend of a 1K region edit", "whole composite step",
                                                      "peak extra memory of the whole step"]
    assert all(float(row[2]) >= 0 for row in rows)


def test_search_bench_reads_postgresql_too(postgres_server) -> None:
    """`python -m bench.search_bench --postgres URL`: the first-load and search figures on PostgreSQL (the team
    store), every vector read back."""
    from bench.common import Report
    from bench.search_bench import search_figures

    report = Report(judge_timings=False)
    search_figures(report, 2_000, 20, url=postgres_server.create_database())
    rows = {row.name: row for row in report.rows}
    assert "PostgreSQL" in rows["first load of one identity's vectors"].note
    assert rows["vectors loaded = entries stored"].ok is True
