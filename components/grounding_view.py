"""A grounded image's sources, shown with it as Google requires: its Search Suggestions and the web sources.

Google's ``renderedContent`` is HTML and CSS from the answer, rebuilt from an allow-list
(``studio/safe_html.py``: no script, refresh, frame, form or remote picture), inside a frame loaded from a
``data:`` URL: such a frame has an opaque origin, so its styles cannot restyle the studio and nothing in it
can reach the page, its cookies or the session; its Content-Security-Policy refuses every request (what CSS
asks for too). Its links open in a new tab. The source links are drawn by Streamlit from their URI
(percent-encoded) and title, web links only.
"""

from __future__ import annotations

import base64

import streamlit as st

from components.plain import md_escape
from studio.grounding import Sources, sources_from_response
from studio.history import Entry
from studio.safe_html import FRAME_POLICY

ENTRY_POINT_HEIGHT = 72  # Google's chips are one carousel row under a headline
COMPACT_HEIGHT = 120  # a grid card is narrow: the headline and the chips wrap
SOURCES_LABEL = "Sources from Google Search"
_FRAME_HEAD = ('<!doctype html><html><head><meta charset="utf-8">'
               f'<meta http-equiv="Content-Security-Policy" content="{FRAME_POLICY}">'
               '<base target="_blank"></head><body style="margin:0">')


def entry_point_url(html: str) -> str:
    """Google's Search Suggestions (already rebuilt) as a self-contained ``data:`` URL (opaque origin, no requests)."""
    page = _FRAME_HEAD + html + "</body></html>"
    return "data:text/html;base64," + base64.b64encode(page.encode("utf-8")).decode("ascii")


def entry_sources(entry: Entry) -> Sources | None:
    """Read from what History kept of the answer, so the sources outlive the live result."""
    return sources_from_response(entry.response_json) if entry.has_image else None


def render_sources(sources: Sources, key: str, compact: bool = False) -> None:
    """Search Suggestions first (as Google shows them), then the sources as links."""
    if sources.entry_point_html:
        st.iframe(entry_point_url(sources.entry_point_html), height=COMPACT_HEIGHT if compact else ENTRY_POINT_HEIGHT,
                  alt="Google Search suggestions for this image")
    if not sources.links:
        return
    lines = "\n".join(f"{i}. [{md_escape(link.title, limit=80)}]({_link_target(link.uri)})"
                      for i, link in enumerate(sources.links, start=1))
    if compact:
        with st.expander(f"{SOURCES_LABEL} · {len(sources.links)}", key=f"sources_{key}"):
            st.markdown(lines)
    else:
        st.caption(SOURCES_LABEL)
        st.markdown(lines)


def render_entry_sources(entry: Entry, compact: bool = False) -> None:
    """The sources of a grounded History entry (nothing for an ungrounded one)."""
    sources = entry_sources(entry)
    if sources is not None:
        render_sources(sources, key=entry.id, compact=compact)


def _link_target(uri: str) -> str:
    """A URI that cannot end the markdown link early."""
    return uri.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
