"""This session's generations as a paged grid of thumbnails, newest first."""

from __future__ import annotations

import streamlit as st

from components import detail, services
from components.generation import session_entry_ids
from studio.history import Entry

PAGE_SIZE = 24
COLUMNS = 4
RETRY_ENTRY = "retry_entry_id"


def _card(entry: Entry) -> None:
    store, namespace = services.get_store(), services.current_namespace()
    with st.container(border=True):
        if entry.has_image:
            st.image(store.read_thumbnail(namespace, entry.id), width="stretch")
            st.caption(f"{entry.aspect_ratio} · {entry.image_size} · {entry.output_format} · "
                       f"{entry.latency_s:.1f} s")
            if st.button("Open", key=f"open_{entry.id}", width="stretch"):
                detail.show_detail(entry.id)
        else:
            st.error(entry.failure_message or "No image.", icon="⚠️")
            st.caption(entry.prompt[:80])
            if st.button("Retry", key=f"retry_{entry.id}", width="stretch"):
                st.session_state[RETRY_ENTRY] = entry.id
                st.rerun()


@st.fragment
def render_gallery() -> None:
    """A fragment: paging and opening cards rerun only the grid, not the whole page."""
    ids = session_entry_ids()
    store, namespace = services.get_store(), services.current_namespace()
    if not ids:
        st.info("Your generations will appear here. Write a prompt and press **Generate**.")
        return
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    head, page_col, zip_col = st.columns([3, 1, 1], vertical_alignment="bottom")
    head.subheader(f"This session · {len(ids)} generation{'s' if len(ids) != 1 else ''}")
    page = page_col.number_input("Page", 1, pages, 1, key="gallery_page") if pages > 1 else 1
    zip_col.download_button("Download all", data=lambda: store.export_zip(namespace, list(ids)),
                            file_name="nano-banana-session.zip", mime="application/zip", on_click="ignore",
                            icon=":material/folder_zip:", key="download_all", width="stretch")
    window = ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    entries = store.get_many(namespace, window)
    columns = st.columns(COLUMNS)
    for i, entry in enumerate(entries):
        with columns[i % COLUMNS]:
            _card(entry)
