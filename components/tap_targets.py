"""Page CSS for the History and Edit pages: 44 px tap targets on a phone, tiles that never push sideways.

Plain CSS in an st.html block (a style-only block takes no space); nothing here runs script.
"""

from __future__ import annotations

import streamlit as st

_CSS = """<style>
.nb-tile-empty {aspect-ratio: 1 / 1; display: flex; flex-direction: column; align-items: center;
  justify-content: center; font-size: 1.6rem; background: rgba(128,128,128,.08); border-radius: .5rem;}
.nb-tile-empty br + * {font-size: .8rem;}
[data-testid="stMain"] [data-testid="stImage"] img {max-width: 100%; height: auto;}
.st-key-edit_current [data-testid="stImage"] img {max-height: 38vh; width: auto; object-fit: contain; margin: 0 auto;}
.nb-tree-empty {width: 40px; height: 40px; display: flex; align-items: center; justify-content: center;}
[class*="st-key-nbtree_d1_"] {padding-left: 1.1rem;}
[class*="st-key-nbtree_d2_"] {padding-left: 2.2rem;}
[class*="st-key-nbtree_d3_"] {padding-left: 3.3rem;}
[class*="st-key-nbtree_d4_"] {padding-left: 4.4rem;}
[class*="st-key-nbtree_d5_"] {padding-left: 5.5rem;}
[class*="st-key-nbtree_d6_"] {padding-left: 6.6rem;}
@media (max-width: 640px) {
  [data-testid="stMain"] button, [data-testid="stMain"] [data-testid="stPopover"] button,
  [data-testid="stMain"] [data-baseweb="select"] > div, [data-testid="stMain"] input,
  [data-testid="stMain"] [data-testid="stDownloadButton"] button {min-height: 44px; min-width: 44px;}
  [data-testid="stMain"] .block-container, [data-testid="stMainBlockContainer"] {max-width: 100vw;}
}
</style>"""


def render_phone_css() -> None:
    st.html(_CSS)
