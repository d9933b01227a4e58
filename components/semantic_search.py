"""History's search by meaning, "More like this" and "Index my History": the page's side of it.

The work is in ``studio/embeddings.py`` (index, ranking) and the job runner's indexer (paid calls). This module
asks for a query's vector on the runner (the page waits a moment for it), ranks the identity's entries, and
says plainly what it could not do: entries not indexed yet, a query trimmed, an emulated meaning.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from components import jobs, services
from components.state import MEANING, MORE_LIKE
from studio.embedding_spec import EmbeddingSpec, default_spec
from studio.embeddings import IndexCache, QueryCache, hybrid, trim_query
from studio.failures import classify_exception
from studio.history import Entry, HistoryStore
from studio.jobs.indexing import backfill_estimate

RESULTS = 50  # entries a search by meaning shows
QUERY_WAIT_S = 8.0  # how long the page waits for a query's vector before showing word matches alone
HISTORY_PAGE = "app_pages/history.py"


@st.cache_resource(show_spinner=False)
def index_cache() -> IndexCache:
    """Every identity's vectors in memory, per process (refreshed when their vectors change)."""
    return IndexCache()


@st.cache_resource(show_spinner=False)
def query_cache() -> QueryCache:
    return QueryCache()


@st.cache_resource(show_spinner=False)
def spec() -> EmbeddingSpec:
    return default_spec()


@dataclass
class Ranked:
    """What History shows instead of its pages: ranked entries, why each matched, and notes for the person."""

    title: str
    entries: list[Entry]
    match: list[str]
    notes: list[str] = field(default_factory=list)


def _ask_more_like(entry_id: str) -> None:
    st.session_state[MORE_LIKE] = entry_id


def more_like_button(entry: Entry, key: str, leave_page: bool = False) -> None:
    """ "More like this": History then lists the entries nearest this one in meaning and picture."""
    if st.button("More like this", key=key, width="stretch", on_click=_ask_more_like, args=(entry.id,),
                 help="Entries like this one in meaning and picture") and leave_page:
        st.switch_page(HISTORY_PAGE)


def _clear() -> None:
    st.session_state.pop(MORE_LIKE, None)


def results(store: HistoryStore, namespace: str, query: str | None, keep: dict) -> Ranked | None:
    """Ranked entries when History searches by meaning or shows "More like this"; None for the usual pages.

    ``keep``: the page's other filters (statuses, models, since, until, favorites_only), applied to the ranks."""
    more = st.session_state.get(MORE_LIKE)
    if more:
        return _more_like(store, namespace, str(more), keep)
    if st.session_state.get(MEANING) and query:
        return _by_meaning(store, namespace, query, keep)
    return None


def _kept(entries: list[Entry], keep: dict) -> list[Entry]:
    def ok(e: Entry) -> bool:
        return ((not keep.get("statuses") or e.status in keep["statuses"])
                and (not keep.get("models") or e.model_id in keep["models"])
                and (keep.get("since") is None or e.created_at >= keep["since"])
                and (keep.get("until") is None or e.created_at <= keep["until"])
                and (not keep.get("favorites_only") or bool(e.favorite)))
    return [e for e in entries if ok(e)]


def _coverage(store: HistoryStore, namespace: str) -> str | None:
    indexed, missing = store.vectors.counts(namespace, spec().model_id)
    if not missing:
        return None
    return (f"{missing:,} of {indexed + missing:,} entries are not indexed yet, so search by meaning does not see "
            "them. \"Index my History\" below adds them.")


def _emulated_note() -> str | None:
    connection = services.connection()
    if connection is not None and connection.is_offline:
        return "Offline: meanings come from the studio's emulator (emulated), not from Google's embedding model."
    return None


def _query_vector(namespace: str, text: str) -> tuple[np.ndarray | None, str | None]:
    """The query's vector (from the cache, else embedded on the runner), or why there is none."""
    model = spec()
    cached = query_cache().get(namespace, model.model_id, text)
    if cached is not None:
        return cached, None
    credentials = jobs.credentials()
    if credentials is None:
        return None, "Connect to search by meaning; word matches are shown."
    future = services.get_runner().indexer.query(namespace, credentials, text)
    try:
        embedded = future.result(timeout=QUERY_WAIT_S)
    except concurrent.futures.TimeoutError:
        future.cancel()
        return None, "Google's embedding model did not answer in time; word matches are shown."
    except Exception as exc:
        reason = classify_exception(exc, credentials.connection.secrets()).message
        return None, f"Search by meaning is not available right now: {reason} Word matches are shown."
    vector = embedded.vectors[0]
    query_cache().put(namespace, model.model_id, text, vector)
    return vector, None


def _by_meaning(store: HistoryStore, namespace: str, query: str, keep: dict) -> Ranked:
    text, trimmed = trim_query(query, spec())
    notes = [n for n in (trimmed, _emulated_note()) if n]
    words = store.list_entries(namespace, query=query, limit=RESULTS, **keep)
    vector, problem = _query_vector(namespace, text)
    meaning: list[tuple[str, float]] = []
    if vector is None:
        notes.append(problem or "")
    else:
        meaning = index_cache().index(store.vectors, namespace, spec()).search(vector, k=RESULTS * 2)
    ranked = hybrid([e.id for e in words], meaning)
    by_id = {e.id: e for e in store.get_many(namespace, [i for i, _ in ranked])}
    word_ids = {e.id for e in words}
    entries = _kept([by_id[i] for i, _ in ranked if i in by_id], keep)[:RESULTS]
    scores = dict(ranked)
    match = [("words" + (f" · {scores[e.id]:.0%} alike" if scores.get(e.id) is not None else "")
              if e.id in word_ids else f"{scores[e.id] or 0:.0%} alike") for e in entries]
    coverage = _coverage(store, namespace)
    if coverage:
        notes.append(coverage)
    return Ranked(f"Search by meaning: “{query[:80]}”", entries, match, notes)


def _more_like(store: HistoryStore, namespace: str, entry_id: str, keep: dict) -> Ranked:
    entry = store.get(namespace, entry_id)
    if entry is None:
        _clear()
        return Ranked("More like this", [], [], ["That entry was deleted."])
    index = index_cache().index(store.vectors, namespace, spec())
    vector = index.vector(entry_id)
    title = f"More like “{entry.prompt[:80]}”"
    if vector is None:
        return Ranked(title, [entry], ["this one"], ["This entry is not indexed yet: \"Index my History\" below adds "
                                                     "it, then More like this can rank the others."])
    ranked = index.search(vector, k=RESULTS * 2, exclude=entry_id)
    by_id = {e.id: e for e in store.get_many(namespace, [i for i, _ in ranked])}
    scores = dict(ranked)
    entries = [entry, *_kept([by_id[i] for i, _ in ranked if i in by_id], keep)[:RESULTS - 1]]
    match = ["this one"] + [f"{scores[e.id]:.0%} alike" for e in entries[1:]]
    notes = [n for n in (_emulated_note(), _coverage(store, namespace)) if n]
    return Ranked(title, entries, match, notes)


def render_header(ranked: Ranked) -> None:
    """The ranked view's title, its notes, and the way back to every entry."""
    title, back = st.columns([4, 1], vertical_alignment="bottom")
    title.subheader(ranked.title)
    if st.session_state.get(MORE_LIKE):
        back.button("Show all entries", key="more_like_back", on_click=_clear, width="stretch")
    for note in ranked.notes:
        st.caption(note)


def render_index_panel(store: HistoryStore, namespace: str) -> None:
    """ "Index my History": how much is indexed, the cost estimate first, then the button and a progress bar."""
    model = spec()
    runner = services.get_runner()
    progress = runner.indexer.progress(namespace)
    indexed, missing = store.vectors.counts(namespace, model.model_id)
    running = progress is not None and progress.running
    with st.expander("Index for search by meaning", expanded=running or bool(progress and progress.failed)):
        st.caption(f"{indexed:,} of {indexed + missing:,} entries are indexed for search by meaning and More like "
                   f"this ({model.label}). New images are indexed as they land.")
        if running:
            _live_progress(namespace)
            return
        if progress is not None and progress.failed:
            st.warning(progress.failed)
        elif progress is not None and progress.total:
            st.success(f"Indexed {progress.done:,} entries for ${progress.cost_usd:.4f}.")
        if missing:
            count, usd = backfill_estimate(store, namespace, model)
            st.caption(f"Indexing the {count:,} older entries costs about ${usd:.4f} on your credentials"
                       + (" (emulated: nothing is billed)." if _emulated_note() else "."))
            if st.button("Index my History", key="index_history"):
                credentials = jobs.credentials()
                if credentials is None:
                    st.error("Connect first: indexing runs on your credentials.")
                elif runner.indexer.start_backfill(namespace, store, credentials):
                    st.rerun()


def _live_progress(namespace: str) -> None:
    @st.fragment(run_every=1.0)
    def draw() -> None:
        progress = services.get_runner().indexer.progress(namespace)
        if progress is None or not progress.running:
            st.rerun()  # done: the whole page, so counts and results include the new vectors
            return
        st.progress(progress.fraction, text=f"Indexed {progress.done:,} of {progress.total:,} entries · "
                                            f"${progress.cost_usd:.4f} so far")
        if progress.paused:
            st.info(progress.paused, icon="⏸️")
    draw()
