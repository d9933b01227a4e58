"""Compare two images: side by side, and as a slider overlay (a composite drawn on the server)."""

from __future__ import annotations

import streamlit as st

from components import services
from components.plain import md_escape
from studio import compare
from studio.history import Entry


def label(entry: Entry, number: int | None = None) -> str:
    head = f"v{number}" if number is not None else entry.created.strftime("%Y-%m-%d %H:%M")
    return f"{head} · {md_escape(entry.prompt, limit=41)}"  # a caption is markdown: the prompt is not ours


@st.cache_data(max_entries=16, show_spinner=False)
def _overlay(namespace: str, first_id: str, second_id: str, position: int) -> bytes | None:
    """The slider composite, kept for the last few positions: dragging back and forth decodes nothing again.

    Keyed by entry ids (an entry's image never changes), so 4K bytes are never hashed.
    """
    store = services.get_store()
    a, b = store.read_image(namespace, first_id), store.read_image(namespace, second_id)
    if a is None or b is None:
        return None
    try:
        return compare.overlay(a, b, position / 100)
    except OSError:
        return None


def render_compare(first: Entry, second: Entry, key: str, first_label: str = "", second_label: str = "") -> None:
    """Both images side by side, then one image split at a slider: left of it the first, right the second."""
    store, namespace = services.get_store(), services.current_namespace()
    a, b = store.read_image(namespace, first.id), store.read_image(namespace, second.id)
    if a is None or b is None:
        st.warning("One of these images is no longer in History, so they cannot be compared.", icon="🖼️")
        return
    first_label, second_label = first_label or label(first), second_label or label(second)
    left, right = st.columns(2)
    left.image(a, caption=f"Before · {first_label}", width="stretch")
    right.image(b, caption=f"After · {second_label}", width="stretch")
    position = st.slider("Slider position", 0, 100, 50, key=f"compare_slider_{key}", format="%d%%",
                         help="Left of the line: before. Right of it: after.")
    composite = _overlay(namespace, first.id, second.id, position)
    if composite is None:
        st.warning("These images could not be opened for the slider view.", icon="🖼️")
        return
    st.image(composite, caption=f"Slider · before ◀ {position}% ▶ after", width="stretch")
