"""The chip that says, on every page, when images are emulated (compact: it used to push the results down)."""

from __future__ import annotations

import streamlit as st

from components import services

OFFLINE_CHIP = "Offline mode · emulated images"


def render_offline_banner() -> None:
    conn = services.connection()
    if conn is not None and conn.is_offline:
        # no help tooltip: Streamlit draws a hidden second copy of a badge that has one (two "Offline mode" texts)
        st.badge(OFFLINE_CHIP, icon="🧪", color="orange")
