"""Pieces of the History page: filters, the table, the entry view with JSON, lineage and diff."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import date, datetime, time

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import compare, detail, grounding_view, region_editor, semantic_search, thread_view, uploader
from components.plain import md_escape
from components.state import (
    DELETED_ENTRIES,
    GOTO_GENERATE,
    HISTORY_OPEN,
    IMPORT_NOTICE,
    IMPORT_ROUND,
    IMPORTED_ENTRIES,
    MEANING,
    PARENT_ENTRY,
    RERUN_ENTRY,
    RETRY_ENTRY,
)
from studio.history import Entry, HistoryStore
from studio.history.diff import word_diff

PAGE_SIZE = 50
STATUSES = ("ok", "running", "blocked", "failed", "cancelled", "interrupted")
STATUS_WORDS = {"running": "⏳ running", "cancelled": "🛑 cancelled", "interrupted": "⚡ interrupted"}


@dataclass(frozen=True)
class Filters:
    query: str | None
    statuses: list[str] | None
    models: list[str] | None
    since: float | None
    until: float | None
    favorites_only: bool
    sort: str

    def as_kwargs(self) -> dict:
        return {"query": self.query, "statuses": self.statuses, "models": self.models, "since": self.since,
                "until": self.until, "favorites_only": self.favorites_only}


def render_search(column: DeltaGenerator) -> str:
    """The search box (a function of its own, so other searches can sit beside it)."""
    return column.text_input("Search prompts", key="history_query", placeholder="words in the prompt…")


def render_filters(store: HistoryStore, namespace: str) -> Filters:
    """Search, with every other filter folded into one "Filters" control beside it (one line on a phone)."""
    search, more = st.columns([5, 1], vertical_alignment="bottom")
    query = render_search(search)
    search.toggle("Search by meaning", key=MEANING, help="Rank entries by what the prompt and picture mean, "
                  "exact words first (Gemini embeddings, on your credentials)")
    with more.popover("Filters", width="stretch", icon=":material/tune:"):
        statuses = st.multiselect("Status", STATUSES, key="history_status")
        models = st.multiselect("Model", store.models_used(namespace), key="history_models")
        chosen = st.date_input("Dates", value=[], key="history_dates", format="YYYY-MM-DD")
        sort_by = st.selectbox("Sort", ["newest", "oldest", "cost", "duration"], key="history_sort")
        favorites = st.toggle("★ only", key="history_favorites")
    since = until = None
    if isinstance(chosen, tuple | list) and chosen:
        since = datetime.combine(chosen[0], time.min).timestamp()
        last: date = chosen[1] if len(chosen) > 1 else chosen[0]
        until = datetime.combine(last, time.max).timestamp()
    return Filters(query or None, statuses or None, models or None, since, until, favorites, sort_by)


def thumbnail_url(store: HistoryStore, namespace: str, entry: Entry) -> str | None:
    """A small data: URL for the table (ImageColumn takes URLs, not paths)."""
    data = store.read_thumbnail(namespace, entry.id) if entry.has_image else None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode() if data else None


RUNNING_MARK = "⏳"
RUNNING_THUMB = ("data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 40 40'>"
                 "<text x='8' y='28' font-size='22'>⏳</text></svg>")


def _lane(entry: Entry) -> str:
    return str(entry.settings.get("lane") or "now")


def _cost(entry: Entry) -> str:
    return RUNNING_MARK if entry.is_running else f"${entry.cost_usd:.4f}"


def _status(entry: Entry, imported: set[str]) -> str:
    mark = "🆕 " if entry.id in imported else ""
    return mark + ("★ " if entry.favorite else "") + STATUS_WORDS.get(entry.status, entry.status)


def table_rows(store: HistoryStore, namespace: str, entries: list[Entry],
               match: list[str] | None = None) -> dict[str, list]:
    """The List view's columns: cost and lane early (never cut off at the right), ⏳ where work still runs;
    ``match``: why each ranked entry is there (search by meaning, More like this)."""
    imported = set(st.session_state.get(IMPORTED_ENTRIES) or [])
    return ({"match": match} if match is not None else {}) | {
        "thumbnail": [RUNNING_THUMB if e.is_running else thumbnail_url(store, namespace, e) for e in entries],
        "time": [e.created for e in entries],
        "status": [_status(e, imported) for e in entries],
        "cost ($)": [_cost(e) for e in entries],
        "lane": [_lane(e) for e in entries],
        "prompt": [e.prompt for e in entries],
        "model": [e.model_id for e in entries],
        "ratio": [e.aspect_ratio for e in entries],
        "size": [e.image_size for e in entries],
        "format": [e.output_format for e in entries],
        "references": [e.references_count for e in entries],
        "duration (s)": [RUNNING_MARK if e.is_running else f"{e.latency_s:.2f}" for e in entries],
    }


COLUMN_CONFIG = {
    "match": st.column_config.TextColumn("Match"),
    "thumbnail": st.column_config.ImageColumn("Image", width="small"),
    "time": st.column_config.DatetimeColumn("Time", format="YYYY-MM-DD HH:mm:ss"),
    "status": st.column_config.TextColumn("Status"),
    "cost ($)": st.column_config.TextColumn("Cost", help="Computed from the usage Google recorded"),
    "lane": st.column_config.TextColumn("Lane", help="Now, or the half-price batch lane"),
    "prompt": st.column_config.TextColumn("Prompt", width="large"),
    "model": st.column_config.TextColumn("Model"),
    "ratio": st.column_config.TextColumn("Ratio"),
    "size": st.column_config.TextColumn("Size"),
    "format": st.column_config.TextColumn("Format"),
    "references": st.column_config.NumberColumn("References"),
    "duration (s)": st.column_config.TextColumn("Duration (s)"),
}


def _open(entry_id: str) -> None:
    st.session_state[HISTORY_OPEN] = entry_id


def _toggle_favorite(store: HistoryStore, namespace: str, entry: Entry) -> None:
    store.set_favorite(namespace, entry.id, not entry.favorite)


def render_tile(store: HistoryStore, namespace: str, entry: Entry, imported: set[str]) -> None:
    """One gallery tile: the thumbnail, a click on its line opens the entry; favorite, download and edit."""
    data = store.read_thumbnail(namespace, entry.id) if entry.has_image else None
    if data:
        st.image(data, width="stretch")
    else:
        icon = RUNNING_MARK if entry.is_running else "⚠️"
        st.markdown(f"<div class='nb-tile-empty'>{icon}<br>{html.escape(entry.status)}</div>", unsafe_allow_html=True)
    words = ("🆕 " if entry.id in imported else "") + md_escape(entry.prompt, limit=40)
    st.button(words, key=f"h_open_{entry.id}", type="tertiary", width="stretch", on_click=_open, args=(entry.id,),
              help="Open this entry: its image, recipe, JSON and actions")
    with st.container(horizontal=True, gap="small", key=f"h_tile_actions_{entry.id}"):
        st.button("★" if entry.favorite else "☆", key=f"h_tile_fav_{entry.id}", width="content",
                  help="Unfavorite" if entry.favorite else "Favorite", on_click=_toggle_favorite,
                  args=(store, namespace, entry))
        if entry.has_image:
            detail.download_button(entry, key=f"h_tile_dl_{entry.id}", label="", width="content")
            thread_view.edit_button(entry, key=f"h_tile_edit_{entry.id}")


def render_gallery(store: HistoryStore, namespace: str, entries: list[Entry]) -> None:
    """History's first view: the entries as image tiles, reflowing with the screen's width."""
    imported = set(st.session_state.get(IMPORTED_ENTRIES) or [])
    with st.grid(min_column_width=200, border=True, gap="small", key="history_gallery") as grid:
        for entry in entries:
            with grid.cell():
                render_tile(store, namespace, entry, imported)


def render_diff(old: str, new: str) -> None:
    """Word-level diff; every piece of text is escaped, so a prompt's HTML is shown, never run."""
    pieces = []
    for op, text in word_diff(old, new):
        safe = html.escape(text)
        if op == "insert":
            pieces.append(f"<ins style='background:#d9f7be;text-decoration:none'>{safe}</ins>")
        elif op == "delete":
            pieces.append(f"<del style='background:#ffd6d6'>{safe}</del>")
        else:
            pieces.append(safe)
    st.html(f"<div style='white-space:pre-wrap;font-family:monospace'>{''.join(pieces)}</div>")


def render_lineage(store: HistoryStore, namespace: str, entry: Entry) -> None:
    chain = store.lineage(namespace, entry.id)
    children = store.children(namespace, entry.id)
    if len(chain) <= 1 and not children:
        return
    st.markdown(f"**Prompt versions** · version {len(chain)} of this line"
                + (f" · {len(children)} newer version(s)" if children else ""))
    for number, version in enumerate(chain, start=1):
        st.caption(f"v{number} · {version.created:%Y-%m-%d %H:%M} · {version.status}")
    if entry.parent_id:
        parent = store.get(namespace, entry.parent_id, include_deleted=True)
        if parent is not None:
            st.caption("Changes from the previous version")
            render_diff(parent.prompt, entry.prompt)


def render_json(entry: Entry) -> None:
    with st.expander("Request JSON"):
        st.json(entry.request_json, expanded=2)
    with st.expander("Response JSON"):
        st.json(entry.response_json, expanded=2)
    with st.expander("Usage"):
        st.json({"promptTokenCount": entry.prompt_tokens, "candidatesTokenCount": entry.output_tokens,
                 "thoughtsTokenCount": entry.thoughts_tokens, "totalTokenCount": entry.total_tokens,
                 "costUsdFromUsage": entry.cost_usd, "estimatedCostUsd": entry.estimated_cost_usd,
                 "latencySeconds": round(entry.latency_s, 3), "attempts": entry.attempts})


def render_entry(store: HistoryStore, namespace: str, entry: Entry) -> None:
    image_col, info_col = st.columns([1, 1])
    with image_col:
        if entry.is_running:
            st.info("Being made right now: this entry updates when the image lands.", icon="⏳")
        elif entry.has_image:
            detail.render_image(entry)
            grounding_view.render_entry_sources(entry)
        else:
            st.error(md_escape(entry.failure_message or "No image."))
            if entry.failure_detail:
                st.caption(md_escape(f"Detail: {entry.failure_detail}"))
            st.button("Retry", key=f"h_retry_{entry.id}", width="stretch", on_click=_then_generate,
                      args=(_retry, entry), help="Make this image again with the same recipe and seed")
    with info_col:
        detail.render_entry_facts(entry)
        render_actions(store, namespace, entry)
    detail.render_thinking(entry)
    render_lineage(store, namespace, entry)
    render_json(entry)


def _then_generate(action, *args: object) -> None:
    """Callback: change settings before widgets are drawn, then ask the page to switch."""
    action(*args)
    st.session_state[GOTO_GENERATE] = True


def _restore_prompt(entry: Entry) -> None:
    uploader.set_prompt(entry.prompt)


def _rerun(entry: Entry) -> None:
    st.session_state[RERUN_ENTRY] = entry.id


def _retry(entry: Entry) -> None:
    st.session_state[RETRY_ENTRY] = entry.id


def _new_version(entry: Entry) -> None:
    detail.reuse_settings(entry, with_references=True)
    uploader.set_prompt(st.session_state.get(f"h_new_{entry.id}", entry.prompt))
    st.session_state[PARENT_ENTRY] = entry.id


def switch_if_asked() -> None:
    if st.session_state.pop(GOTO_GENERATE, False):
        st.switch_page("app_pages/generate.py")


def render_actions(store: HistoryStore, namespace: str, entry: Entry) -> None:
    a, b, c = st.columns(3)
    a.button("Restore prompt", key=f"h_prompt_{entry.id}", width="stretch", on_click=_then_generate,
             args=(_restore_prompt, entry))
    b.button("Restore everything", key=f"h_all_{entry.id}", width="stretch", help="Prompt, settings and reference images",
             on_click=_then_generate, args=(detail.reuse_settings, entry, True))
    c.button("Re-run", key=f"h_rerun_{entry.id}", width="stretch", on_click=_then_generate, args=(_rerun, entry))
    d, e, f, g = st.columns(4)
    if d.button("☆ Favorite" if not entry.favorite else "★ Unfavorite", key=f"h_fav_{entry.id}", width="stretch"):
        store.set_favorite(namespace, entry.id, not entry.favorite)
        st.rerun()
    if e.button("Delete", key=f"h_del_{entry.id}", width="stretch"):
        store.delete(namespace, entry.id)
        st.session_state.setdefault(DELETED_ENTRIES, []).append(entry.id)
        st.rerun()
    with f:
        if entry.has_image:
            detail.download_button(entry, key=f"h_dl_{entry.id}")
    with g:
        if entry.has_image or entry.thread_parent_id:  # a failed edit opens its thread too
            thread_view.edit_button(entry, key=f"h_edit_{entry.id}")
        if entry.has_image:
            region_editor.region_button(entry, key=f"h_region_{entry.id}")
    if entry.has_image:
        semantic_search.more_like_button(entry, key=f"h_more_{entry.id}")
    with st.form(f"h_version_{entry.id}", border=True):
        st.text_area("New version of this prompt", value=entry.prompt, key=f"h_new_{entry.id}")
        st.form_submit_button("Generate new version", type="primary", on_click=_then_generate,
                              args=(_new_version, entry))


def render_compare_pair(chosen: list[Entry]) -> None:
    """Two selected rows: their images side by side and as a slider overlay, the older one first."""
    first, second = sorted(chosen, key=lambda e: e.created_at)
    st.subheader("Compare")
    if not (first.has_image and second.has_image):
        st.info("Select two entries that both have an image to compare them.")
        return
    compare.render_compare(first, second, key="history")


def render_import_notice() -> None:
    """After an import: how many came in (the page has already rerun, so the count above is right)."""
    notice = st.session_state.pop(IMPORT_NOTICE, None)
    if notice:
        st.success(notice, icon="📥")


def render_undo(store: HistoryStore, namespace: str) -> None:
    deleted = st.session_state.get(DELETED_ENTRIES, [])
    if deleted and st.button(f"Undo delete ({len(deleted)})", key="history_undo"):
        store.undelete(namespace, deleted.pop())
        st.rerun()


def render_export_import(store: HistoryStore, namespace: str, selected_ids: list[str], export: bool = True) -> None:
    """Export (``export=False`` when there is nothing to export) and import of studio ZIPs."""
    import logging

    from studio.history import ArchiveError

    with st.expander("Export and import"):
        left, right = st.columns(2)
        if export:
            left.download_button("Export everything (ZIP)", data=lambda: store.export_zip(namespace),
                                 file_name="nano-banana-history.zip", mime="application/zip", on_click="ignore",
                                 key="export_all")
        if selected_ids:
            left.download_button("Export the selected entry", data=lambda: store.export_zip(namespace, selected_ids),
                                 file_name="nano-banana-entry.zip", mime="application/zip", on_click="ignore",
                                 key="export_selected")
        # The upload stays in its widget on failure, so the person can retry or pick another file; after a
        # good import the page reruns at once (the count above is right) with a fresh, empty uploader.
        round_ = st.session_state.get(IMPORT_ROUND, 0)
        upload = right.file_uploader("Import a studio ZIP", type=["zip"],
                                     key="import_zip" if not round_ else f"import_zip_{round_}")
        if upload is not None and right.button("Import", key="import_go"):
            upload.seek(0)
            try:
                imported = store.import_zip(namespace, upload)  # read as a file: never copied whole
            except ArchiveError as exc:
                # The message may quote names from the ZIP: shown literally, never as markdown.
                right.error(md_escape(str(exc)))
            except Exception:
                logging.getLogger(__name__).exception("history import failed")
                right.error("The import failed for a reason the studio did not expect; nothing was imported. "
                            "The file is still selected: try again, or export it again from the studio.")
            else:
                st.session_state[IMPORTED_ENTRIES] = [e.id for e in imported]
                st.session_state[IMPORT_NOTICE] = f"Imported {len(imported)} entries."
                st.session_state[IMPORT_ROUND] = round_ + 1
                st.rerun()
