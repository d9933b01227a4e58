"""The chip that says, on every page, when images are emulated (compact: it used to push the results down)."""

from __future__ import annotations

import streamlit as st

from components import services

OFFLINE_CHIP = "Offline mode · emulated images"


def render_offline_banner() -> None:
    conn = services.connection()
    if conn is not None and conn.is_offline:
        st.badge(OFFLINE_CHIP, icon="🧪", color="orange",
                 help="Images are drawn by the bundled Gemini API emulator, not by Google. Connect with an API key "
                      "or Google sign-in for real images.")
