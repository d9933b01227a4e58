"""History on PostgreSQL (issue 15): the History page's queries and filtered search at 100,000 entries.

One identity with N entries (default 100,000) plus a second identity with N/10, written in bulk (COPY on
PostgreSQL, executemany on SQLite) with realistic spreads: prompts from a small vocabulary, four statuses,
three models, a year of creation times, some favorites and soft deletes. Then, through ``HistoryStore`` exactly
as the History page calls it, each figure is the median of R runs after a warm-up:

- page run: ``models_used`` + ``count_entries`` + ``status_counts`` + ``list_entries(limit=50)`` (the page's
  four queries, no filter), the same on page 1,000 (OFFSET 49,950), and with filters (status, model, since);
- filtered search: ``count_entries`` + ``list_entries`` with a two-word prefix query, a status filter and a
  model filter, newest first; also a rare word and a one-letter prefix (many matches).

    python -m bench.postgres_bench [--entries 100000] [--runs 15] [--url postgresql://...] [--no-sqlite]

Without ``--url`` a throwaway PostgreSQL is started from Debian's binaries (tests/history/postgres.py).
Targets: page run < 1 s, filtered search < 200 ms on PostgreSQL. SQLite runs the same queries beside it.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import Report
from studio.catalogue import DEFAULT_CATALOGUE
from studio.history import HistoryStore
from studio.history.database import Database
from studio.history.schema import ENTRY_COLUMNS, Column, migrate

COLUMNS = tuple(c.name for c in ENTRY_COLUMNS)

NS, OTHER = "google:bench", "google:other"
PRO = DEFAULT_CATALOGUE.by_key("pro").model_id  # the filtered model; the rows spread over the whole catalogue
MODELS = (PRO, *(m.model_id for m in DEFAULT_CATALOGUE if m.model_id != PRO))
STATUSES = (("ok", 0.8), ("blocked", 0.08), ("failed", 0.07), ("cancelled", 0.05))
WORDS = ["lighthouse", "dawn", "harbour", "fox", "snow", "forest", "city", "night", "neon", "rain", "portrait",
         "studio", "cat", "dog", "mountain", "lake", "sunset", "castle", "robot", "garden", "market", "bicycle",
         "ocean", "desert", "train", "bridge", "library", "window", "kitchen", "violin", "dragon", "astronaut",
         "teapot", "umbrella", "lantern", "meadow", "glacier", "canyon", "festival", "carnival", "tower", "village"]
RARE = "xylophone"
YEAR_S = 365 * 24 * 3600


MISSING = object()  # a required column without a default: make_rows must set it


def column_default(column: Column) -> object:
    """The value the database itself would store for a column the bench does not set (its SQL default, else NULL).

    The rows are built from ``ENTRY_COLUMNS``, so a migration that adds a column never breaks the bench; a new
    required column without a default has no value a bench could guess, and says so.
    """
    if column.default is None:
        return MISSING if column.not_null else None
    literal = column.default.strip("'")
    return {"integer": int, "real": float}.get(column.kind, str)(literal)


def make_rows(namespace: str, count: int, rng: random.Random, now: float) -> list[tuple]:
    """Rows in ``ENTRY_COLUMNS`` order: the realistic values below, every other column at its default."""
    defaults = {c.name: column_default(c) for c in ENTRY_COLUMNS}
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    rows = []
    for i in range(count):
        status = rng.choices(statuses, weights)[0]
        words = rng.sample(WORDS, rng.randint(4, 12))
        if i % 5000 == 0:
            words.append(RARE)
        entry_id = uuid.UUID(int=rng.getrandbits(128)).hex
        ok = status == "ok"
        values: dict[str, object] = {
            **defaults, "id": entry_id, "namespace": namespace, "batch_id": entry_id[:8],
            "created_at": now - rng.random() * YEAR_S, "prompt": "a " + " ".join(words),
            "model_id": rng.choice(MODELS), "aspect_ratio": "1:1", "image_size": "1K", "output_format": "PNG",
            "settings_json": json.dumps({"index": 0, "seed": i}), "status": status,
            "failure_kind": None if ok else "output_blocked", "failure_message": None if ok else "plainly",
            "finish_reason": "STOP", "latency_s": rng.random() * 30, "prompt_tokens": 10, "output_tokens": 1120,
            "total_tokens": 1130, "cost_usd": 0.1344 if ok else 0.0, "model_version": "v", "response_id": f"r{i}",
            "request_json": "{}", "response_json": "{}", "image_file": f"{entry_id}.png" if ok else None,
            "thumb_file": f"{entry_id}.thumb.jpg" if ok else None, "width": 1024 if ok else None,
            "height": 1024 if ok else None, "mime_type": "image/png" if ok else None,
            "favorite": int(rng.random() < 0.05), "deleted_at": now if rng.random() < 0.02 else None,
            "estimated_cost_usd": 0.1344,
        }
        if len(values) != len(defaults) or MISSING in values.values():
            raise ValueError("postgres_bench's rows no longer fit the schema: it sets "
                             f"{sorted(set(values) - set(defaults))} that the schema lacks and leaves "
                             f"{sorted(c for c, v in values.items() if v is MISSING)} that need a value")
        rows.append(tuple(values[c] for c in COLUMNS))
    return rows


def fill(db: Database, rows: list[tuple]) -> float:
    """Write the rows in bulk; returns the seconds it took."""
    started = time.perf_counter()
    if db.is_postgres:
        with db._connection() as conn:  # COPY is psycopg's own API: the layer does not wrap it
            with conn.transaction(), conn.cursor() as cursor, \
                    cursor.copy(f"COPY entries ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute("ANALYZE entries")
    else:
        with db.transaction():
            db.run_many(f"INSERT INTO entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                        rows)
        db.run("ANALYZE")
    return time.perf_counter() - started


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up: caches, plans
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def figures(store: HistoryStore, runs: int, now: float) -> dict[str, float]:
    def page(offset: int = 0, filters: dict[str, object] | None = None) -> Callable[[], object]:
        filters = filters or {}

        def run() -> object:
            store.models_used(NS)
            store.count_entries(NS, **filters)  # type: ignore[arg-type]
            store.status_counts(NS)
            return store.list_entries(NS, limit=50, offset=offset, **filters)  # type: ignore[arg-type]
        return run

    def search(query: str, **filters: object) -> Callable[[], object]:
        def run() -> object:
            store.count_entries(NS, query=query, **filters)  # type: ignore[arg-type]
            return store.list_entries(NS, query=query, limit=50, **filters)  # type: ignore[arg-type]
        return run

    filters = {"statuses": ["ok"], "models": [MODELS[0]], "since": now - YEAR_S / 2}
    return {
        "page run, no filter (4 queries)": median_ms(page(), runs),
        "page run, page 1,000 (OFFSET 49,950)": median_ms(page(offset=49_950), runs),
        "page run, status + model + since": median_ms(page(filters=filters), runs),
        "search 'lighthouse daw' + ok + model": median_ms(search("lighthouse daw", statuses=["ok"],
                                                                 models=[MODELS[0]]), runs),
        f"search rare word '{RARE[:5]}' (20 hits)": median_ms(search(RARE[:5]), runs),
        "search one letter 'c' + ok (many hits)": median_ms(search("c", statuses=["ok"]), runs),
    }


@dataclass
class Comparison:
    """One run's figures (median ms per figure name) on both stores, and how long their bulk fills took."""

    entries: int
    runs: int
    visible: int
    postgres: dict[str, float]
    postgres_fill_s: float
    sqlite: dict[str, float]
    sqlite_fill_s: float

    def table(self) -> str:
        """The markdown table docs/PERFORMANCE.md shows."""
        out = io.StringIO()
        out.write(f"{self.visible:,} visible entries of {self.entries:,} in one identity "
                  f"(+{self.entries // 10:,} in another); bulk fill: PostgreSQL {self.postgres_fill_s:.1f} s (COPY), "
                  f"SQLite {self.sqlite_fill_s:.1f} s; median of {self.runs}\n\n")
        out.write("| figure | PostgreSQL | SQLite | target |\n|---|---:|---:|---|\n")
        for name, ms in self.postgres.items():
            target = "< 1 s" if name.startswith("page") else "< 200 ms"
            limit = 1000 if name.startswith("page") else 200
            verdict = "met" if ms < limit else "MISSED"
            shown_lite = f"{self.sqlite[name]:.1f} ms" if name in self.sqlite else "-"
            out.write(f"| {name} | {ms:.1f} ms | {shown_lite} | {target}: {verdict} |\n")
        return out.getvalue()


def measure(url: str, entries: int, runs: int) -> tuple[dict[str, float], float, int]:
    rng = random.Random(15)
    now = time.time()
    db = Database.connect(url)
    migrate(db)
    seconds = fill(db, make_rows(NS, entries, rng, now) + make_rows(OTHER, entries // 10, rng, now))
    db.close()
    with tempfile.TemporaryDirectory() as data:
        store = HistoryStore.open(url=url, data_dir=Path(data))
        total = store.count_entries(NS)
        result = figures(store, runs, now)
        store.close()
    return result, seconds, total


def compare(entries: int, runs: int, url: str | None = None, sqlite: bool = True) -> Comparison:
    """Both stores at ``entries``: a throwaway PostgreSQL unless ``url`` names one, SQLite beside it."""
    server = None
    if not url:
        from tests.history.postgres import PostgresServer

        server = PostgresServer().start()
        url = server.create_database()
    try:
        pg, pg_fill, total = measure(url, entries, runs)
    finally:
        if server is not None:
            server.stop()
    lite: dict[str, float] = {}
    lite_fill = 0.0
    if sqlite:
        with tempfile.TemporaryDirectory() as folder:
            lite, lite_fill, _ = measure(f"sqlite:///{folder}/history.sqlite3", entries, runs)
    return Comparison(entries, runs, total, pg, pg_fill, lite, lite_fill)


def run(report: Report, quick: bool) -> None:
    """The section of ``python -m bench``; ``--quick`` (the smoke run) uses 2,000 entries, so only that it runs counts."""
    result = compare(2_000 if quick else 100_000, 2 if quick else 15)
    expected = result.entries - round(result.entries * 0.02)  # soft-deleted rows are hidden
    for name, ms in result.postgres.items():
        limit = 1000 if name.startswith("page") else 200
        report.add("postgres", f"{name}, {result.entries:,} entries", ms, "ms", f"< {limit}",
                   None if quick else ms < limit, f"SQLite {result.sqlite.get(name, 0):.1f} ms")
    report.add("postgres", f"visible entries of {result.entries:,}", result.visible, "", f"~ {expected:,}",
               abs(result.visible - expected) < result.entries * 0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.postgres_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: start a throwaway server)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite side")
    args = parser.parse_args(argv)
    print(compare(args.entries, args.runs, args.url, not args.no_sqlite).table(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
