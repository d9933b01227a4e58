"""On a narrow screen: the page drawer shuts after a page is chosen, each page opens at its top, and
buttons, boxes and links are at least 44 px tall (a finger's tap).

Streamlit shuts the drawer after a page link only when the browser says it is a phone; a narrow window
without that word kept it open over the page. Drawn on every run by app.py.
"""

from __future__ import annotations

import streamlit as st

from components import page_js

NARROW_PX = 640
TAP_PX = 44

_STYLE = f"""<style>
@media (max-width: {NARROW_PX}px) {{
  [data-testid="stMain"] button, [data-testid="stSidebar"] button, [data-testid="stSidebarNavLink"],
  [data-testid="stMain"] input, [data-testid="stMain"] [data-baseweb="select"] > div,
  [data-testid="stMain"] [data-testid="stFileUploaderDropzone"] {{ min-height: {TAP_PX}px; }}
  [data-testid="stMain"] [role="radiogroup"] label {{ min-height: {TAP_PX}px; align-items: center; }}
  [data-testid="stMain"] img, [data-testid="stMain"] [data-testid="stElementContainer"] {{ max-width: 100%; }}
}}
</style>"""

_SCRIPT = """
if (window.__studioPhone) return;
window.__studioPhone = true;
const narrow = () => window.innerWidth <= ARGS.narrow;
const toTop = () => {
  window.scrollTo(0, 0);
  for (const id of ["stMain", "stAppViewContainer", "stAppScrollToBottomContainer"]) {
    const box = document.querySelector('[data-testid="' + id + '"]');
    if (box) box.scrollTop = 0;
  }
};
document.addEventListener("click", (event) => {
  const link = event.target && event.target.closest && event.target.closest('[data-testid="stSidebarNavLink"]');
  if (!link || !narrow()) return;
  setTimeout(() => {
    const shut = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    if (shut && sidebar && sidebar.getAttribute("data-collapsed") !== "true") shut.click();
  }, 0);
}, true);
let path = location.pathname;
setInterval(() => {
  if (location.pathname === path) return;
  path = location.pathname;
  toTop();  // once: a person (or a test) scrolling right after must not be pulled back
}, 50);
"""


def fit_the_phone() -> None:
    """The drawer and scroll behaviour, and the tap-size style (it applies only to narrow screens)."""
    st.html(_STYLE)
    page_js.run("phone", _SCRIPT, narrow=NARROW_PX)
