"""Small scripts the studio runs in the page itself (keyboard, drafts, phone), drawn where they take no space.

``st.html`` runs a script in the page's own document, but its element takes a line; each script is drawn
in a container the studio's style hides. Scripts must be idempotent: Streamlit runs one again whenever its
element is mounted again (a page switch), so each keeps its listeners on ``window`` once.
"""

from __future__ import annotations

import json

import streamlit as st

HIDDEN_PREFIX = "page_js_"
_STYLE = f'<style>[class*="st-key-{HIDDEN_PREFIX}"] {{ display: none; }}</style>'


def run(name: str, script: str, **values: object) -> None:
    """Run ``script`` once per mount; ``values`` reach it as ``ARGS`` (JSON, so text is never code)."""
    st.html(_STYLE)  # style only: Streamlit sends it to the event container, where it takes no space
    with st.container(key=f"{HIDDEN_PREFIX}{name}"):
        args = json.dumps(values).replace("</", "<\\/")
        st.html(f"<script>(() => {{ const ARGS = {args};\n{script}\n}})();</script>",
                unsafe_allow_javascript=True)
