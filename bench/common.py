"""Shared pieces of the benchmark suite: an emulator, clients, timers and the printed table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from google import genai
from google.genai import types

from studio.credentials import Connection, make_client
from studio.emulator.server import EmulatorConfig, EmulatorServer

BENCH_KEY = "bench-key"


@dataclass
class Row:
    """One figure: what was measured, the value, its target and whether it met it."""

    section: str
    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None
    note: str = ""


@dataclass
class Report:
    """The figures of a run. A quick run (tiny counts, short latencies) does not judge speed targets ("< …"),
    only the checks of what happened ("= …")."""

    rows: list[Row] = field(default_factory=list)
    judge_timings: bool = True

    def add(self, *args: object, **kwargs: object) -> Row:
        row = Row(*args, **kwargs)  # type: ignore[arg-type]
        if not self.judge_timings and row.target.startswith("<"):
            row.ok = None
        self.rows.append(row)
        print(f"  {row.section:<12} {row.name:<52} {row.value:>10.3f} {row.unit:<6} {row.target:<10} "
              f"{'' if row.ok is None else ('ok' if row.ok else 'MISSED')} {row.note}", flush=True)
        return row

    def markdown(self) -> str:
        lines = ["| section | figure | value | unit | target | met | note |", "|---|---|---:|---|---|---|---|"]
        for r in self.rows:
            met = "" if r.ok is None else ("yes" if r.ok else "**no**")
            lines.append(f"| {r.section} | {r.name} | {r.value:.3f} | {r.unit} | {r.target} | {met} | {r.note} |")
        return "\n".join(lines)


def start_emulator(latency_s: float = 0.0, latency_by_size: dict[str, float] | None = None) -> EmulatorServer:
    return EmulatorServer(EmulatorConfig(api_keys=frozenset({BENCH_KEY}), latency_s=latency_s,
                                         latency_by_size=latency_by_size)).start()


def connection_for(emulator: EmulatorServer) -> Connection:
    return Connection(mode="api_key", api_key=BENCH_KEY, base_url=emulator.base_url)


def raw_client(emulator: EmulatorServer) -> genai.Client:
    return make_client(connection_for(emulator))


def raw_config(ratio: str, size: str) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                       image_config=types.ImageConfig(aspect_ratio=ratio, image_size=size))


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
