"""Running a batch: per-image progress, results drawn as each lands, every attempt recorded."""

from __future__ import annotations

import time
import uuid

import streamlit as st

from components import auth, services
from studio.request import GenerationRequest
from studio.results import Failure, ImageResult

SESSION_ENTRIES = "session_entry_ids"


def session_entry_ids() -> list[str]:
    return st.session_state.setdefault(SESSION_ENTRIES, [])


def run_batch(request: GenerationRequest, parent_id: str | None = None) -> list[ImageResult]:
    """Generate, showing each image the moment it is ready; returns the results in index order."""
    engine = services.get_engine()
    store = services.get_store()
    namespace = services.current_namespace()
    batch_id = uuid.uuid4().hex
    count = request.count
    started = time.perf_counter()
    status = st.status(f"Generating {count} image{'s' if count > 1 else ''} with "
                       f"{services.get_catalogue().resolve(request.model_id).label}…", expanded=True)
    lines = {i: status.empty() for i in range(count)}
    for i, line in lines.items():
        line.markdown(f"⏳ Image {i + 1}: waiting for the model…")
    live = st.empty()  # the images of this batch as they land; cleared once the grid below has them
    columns = live.container().columns(4)
    slots = [columns[i % 4].empty() for i in range(count)]
    done: list[ImageResult] = []

    def on_result(result: ImageResult) -> None:
        entry = store.record_attempt(namespace, request, result, batch_id=batch_id, parent_id=parent_id)
        session_entry_ids().insert(0, entry.id)
        done.append(result)
        slot = slots[result.index]
        if result.ok:
            slot.image(store.read_thumbnail(namespace, entry.id), caption=f"Image {result.index + 1}",
                       width="stretch")
            lines[result.index].markdown(f"✅ Image {result.index + 1}: ready in {result.latency_s:.1f} s")
        else:
            slot.error(f"Image {result.index + 1}: {result.failure.message}")
            lines[result.index].markdown(f"⚠️ Image {result.index + 1}: {result.failure.message}")
        status.update(label=f"{len(done)} of {count} done…")

    def on_retry(index: int, failure: Failure, delay_s: float) -> None:
        lines[index].markdown(f"🔁 Image {index + 1}: {failure.message} Retrying in {delay_s:.0f} s…")

    results = engine.run(request, on_result=on_result, on_retry=on_retry)
    ok = sum(r.ok for r in results)
    state = "error" if ok == 0 else "complete"
    status.update(label=f"{ok} of {count} images ready in {time.perf_counter() - started:.1f} s", state=state,
                  expanded=ok < count)
    live.empty()
    for result in results:
        extra = auth.explain_failure(result.failure) if result.failure else None
        if extra:
            st.warning(extra)
    return results
