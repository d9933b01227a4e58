"""The banner that says, on every page, when images are emulated."""

from __future__ import annotations

import streamlit as st

from components import services


def render_offline_banner() -> None:
    conn = services.connection()
    if conn is not None and conn.is_offline:
        st.warning("**Offline mode** — images are drawn by the bundled Gemini API emulator, not by Google. "
                   "Connect with an API key or Google sign-in for real images.", icon="🧪")
