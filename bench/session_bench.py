"""Scale of a session: server run time of the Generate and History pages as the history grows.

Entries are recorded straight into a real store (the same rows a generation writes); the pages
then run through Streamlit's AppTest, which executes the real scripts on the server side.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from bench.common import Report
from studio.catalogue import DEFAULT_CATALOGUE
from studio.credentials import Connection
from studio.history import HistoryStore, namespace_for
from studio.images import encode_output
from studio.request import GenerationRequest
from studio.results import ImageResult, Usage

APP = str(Path(__file__).resolve().parents[1] / "app.py")
WORDS = ["banana", "fox", "lighthouse", "neon", "harbour", "scooter", "forest", "desert", "glacier", "temple"]


def _seed(store: HistoryStore, namespace: str, count: int) -> list[str]:
    out = io.BytesIO()
    Image.new("RGB", (1024, 1024), "goldenrod").save(out, "PNG")
    ids = []
    for i in range(count):
        request = GenerationRequest(prompt=f"{WORDS[i % 10]} {WORDS[(i * 7) % 10]} number {i}",
                                    model_id=DEFAULT_CATALOGUE.by_key("pro").model_id)
        image = encode_output(out.getvalue(), "PNG", 90, request.recipe())
        result = ImageResult(index=0, image=image, usage=Usage(10, 1120, 0, 1130), latency_s=1.0)
        ids.append(store.record_attempt(namespace, request, result, batch_id=f"b{i // 4}").id)
    return ids


def _median_run(at: AppTest, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    assert not at.exception, at.exception
    return statistics.median(times)


def run(report: Report, quick: bool) -> None:
    sizes = (10, 50) if quick else (10, 100, 1000, 10_000)  # quick: each seeded entry encodes a 1K PNG
    connection = Connection(mode="api_key", api_key="bench-session-key", base_url="http://127.0.0.1:9")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        os.environ["STUDIO_DATA_DIR"] = str(data_dir)
        st.cache_resource.clear()
        store = HistoryStore.open(data_dir=data_dir)
        namespace = namespace_for(connection, data_dir)
        ids: list[str] = []
        for size in sizes:
            ids = _seed(store, namespace, size - len(ids)) + ids
            session_ids = ids[:200]  # the target speaks of a session holding 200 generations
            at = AppTest.from_file(APP, default_timeout=120)
            at.session_state["connection"] = connection
            at.session_state["session_entry_ids"] = session_ids
            at.run()
            generate_s = _median_run(at, 3 if quick else 5)
            report.add("session", f"Generate page rerun, {len(session_ids)} generations in session "
                                  f"({size} in history)", generate_s * 1000, "ms",
                       "< 150" if len(session_ids) == 200 else "",
                       generate_s < 0.150 if len(session_ids) == 200 else None)
            at.switch_page("app_pages/history.py").run()
            history_s = _median_run(at, 3 if quick else 5)
            report.add("session", f"History page run, {size} entries", history_s * 1000, "ms", "< 1000",
                       history_s < 1.0)
            started = time.perf_counter()
            total = store.count_entries(namespace, query="lighthouse harbour", statuses=["ok"])
            store.list_entries(namespace, query="lighthouse harbour", statuses=["ok"], limit=50)
            search_ms = (time.perf_counter() - started) * 1000
            report.add("session", f"filtered search, {size} entries ({total} match)", search_ms, "ms", "< 200",
                       search_ms < 200)
        store.close()
        st.cache_resource.clear()
