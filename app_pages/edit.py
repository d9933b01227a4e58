"""Edit: an image edited like a conversation, its versions as a tree, any two versions compared.

The version shown comes from the URL (``?entry=<id>``) or this session's last one, so a thread can be
continued after a reload or from History days later.
"""

from __future__ import annotations

import streamlit as st

from components import banner, region_editor, services, tap_targets, thread_view


def render() -> None:
    banner.render_offline_banner()
    tap_targets.render_phone_css()
    st.title("Edit")
    entry_id = thread_view.selected_entry_id()
    if not entry_id:
        st.info("Press **Edit** on any image (a card on Generate, its detail view, or a History entry) to edit it "
                "like a conversation: each instruction makes a new version, and every version stays.")
        return
    store, namespace = services.get_store(), services.current_namespace()
    entry = store.get(namespace, entry_id)
    if entry is None:
        st.warning("This image is not in your History (it was deleted, or belongs to another identity).")
        return
    thread_view.render_thread(store, namespace, entry, edit_box=region_editor.render_edit_area)


render()
