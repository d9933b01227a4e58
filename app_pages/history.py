"""History: every attempt of this identity as a gallery of tiles (or a List), searchable and filterable.

An opened entry shows above Export and import: a tile's above the tiles, a List row's under the table.
Work in progress shows at once as running; while some runs, the page watches the job runner and
redraws when an image lands, then stops watching.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components import banner, browser_id, history_views, jobs, semantic_search, services, tap_targets
from components.state import HISTORY_OPEN, HISTORY_VIEW
from studio.durability import disk_is_ephemeral, history_is_lost_on_restart
from studio.history import Entry, HistoryStore
from studio.history.blobs import LocalBlobs
from studio.history.database import SQLITE

GALLERY, LIST = "Gallery", "List"


def _close() -> None:
    st.session_state.pop(HISTORY_OPEN, None)
    st.session_state.pop("history_table", None)


def _render_opened(store: HistoryStore, namespace: str, chosen: list[Entry]) -> None:
    """The opened entry (or the two List rows to compare), with a way to close it."""
    if len(chosen) == 2:
        history_views.render_compare_pair(chosen)
    elif len(chosen) == 1:
        with st.container(border=True, key="history_opened"):
            head, close = st.columns([6, 1], vertical_alignment="center")
            head.subheader(f"{chosen[0].created:%Y-%m-%d %H:%M} · {chosen[0].status}")
            close.button("Close", key="history_close", on_click=_close, width="stretch")
            history_views.render_entry(store, namespace, chosen[0])


def render() -> None:
    history_views.switch_if_asked()
    banner.render_offline_banner()
    tap_targets.render_phone_css()
    st.title("History")
    store, namespace = services.get_store(), services.current_namespace()
    if not store.is_private:  # a private session's History is its memory's, not the browser's
        browser_id.render_history_note(services.connection(), services.shared_history())
    if store.is_private:
        st.caption("🔒 Private session: this history lives in memory only, never on disk, and is released when the "
                   "session ends or after an hour unused.")
    elif history_is_lost_on_restart(database_is_local=store.db.dialect.name == SQLITE,
                                    blobs_are_local=isinstance(store.blobs, LocalBlobs),
                                    ephemeral_disk=disk_is_ephemeral(Path(__file__))):
        st.warning("History on this deployment is kept on the app's own disk, which this host wipes on a reboot, "
                   "a redeploy or waking from sleep. To keep it, give the studio a PostgreSQL database and a bucket, "
                   "as the studio's guide docs/DEPLOY.md (\"Team deployment\") explains step by step.", icon="⚠️")
    jobs.redraw_while_work_runs(services.get_runner().has_active(namespace))

    filters = history_views.render_filters(store, namespace)
    others = {k: v for k, v in filters.as_kwargs().items() if k != "query"}
    ranked = semantic_search.results(store, namespace, filters.query, others)  # by meaning / More like this
    match: list[str] | None = None
    st.session_state.setdefault(HISTORY_VIEW, GALLERY)
    if ranked is not None:  # ranked entries show as the List, whose Match column says why each is there
        semantic_search.render_header(ranked)
        entries, match, view = ranked.entries, ranked.match, LIST
    else:
        total = store.count_entries(namespace, **filters.as_kwargs())
        pages = max(1, -(-total // history_views.PAGE_SIZE))
        info, view_col, page_col = st.columns([3, 2, 1], vertical_alignment="bottom")
        info.caption(f"{total:,} entr{'y' if total == 1 else 'ies'}")
        counts = store.status_counts(namespace)
        if set(counts) - {"ok"}:
            info.caption(" · ".join(f"{n:,} {status}" for status, n in counts.items()))
        view = view_col.segmented_control("View", [GALLERY, LIST], key=HISTORY_VIEW, label_visibility="collapsed",
                                          required=True) or GALLERY
        page = page_col.number_input("Page", 1, pages, 1, key="history_page") if pages > 1 else 1
        entries = store.list_entries(namespace, sort=filters.sort, limit=history_views.PAGE_SIZE,
                                     offset=(page - 1) * history_views.PAGE_SIZE, **filters.as_kwargs())
    history_views.render_import_notice()
    history_views.render_undo(store, namespace)
    if not entries:
        empty = store.count_entries(namespace) == 0
        st.info("Nothing here yet." if empty else "No entry matches these filters.")
        # an empty History is where a person arriving from another studio imports theirs
        history_views.render_export_import(store, namespace, [], export=not empty)
        if not empty:
            semantic_search.render_index_panel(store, namespace)
        return

    opened = st.container()  # the Gallery's opened entry: above the tiles, in view where the click was
    if view == LIST:
        event = st.dataframe(history_views.table_rows(store, namespace, entries, match), key="history_table",
                             column_config=history_views.COLUMN_CONFIG, hide_index=True, width="stretch",
                             on_select="rerun", selection_mode="multi-row", row_height=56)
        rows = event.selection.rows if event and event.selection else []
        chosen = [entries[r] for r in rows if r < len(entries)]
        if not chosen:
            st.caption("Select a row to see the entry, its JSON and its prompt versions.")
            st.caption("Select two rows to compare their images.")
        opened = st.container()  # the List's: right under the table, above Export and import
    else:
        history_views.render_gallery(store, namespace, entries)
        open_id = st.session_state.get(HISTORY_OPEN)
        found = store.get(namespace, open_id) if open_id else None
        chosen = [found] if found is not None else []
    with opened:
        _render_opened(store, namespace, chosen)
    selected = chosen[0] if len(chosen) == 1 else None
    history_views.render_export_import(store, namespace, [selected.id] if selected else [])
    semantic_search.render_index_panel(store, namespace)


render()
