"""Text that is not ours (prompts, imported entries, the model's words) shown literally, never as markdown.

Streamlit's messages and captions render markdown: a prompt holding ``![x](http://host/t.png)`` would
place a remote image (a tracking pixel) in the page, and ``[a](javascript:…)`` a link. Escaping every
markdown, directive (``:red[…]``, ``:material/…:``) and math character makes them plain characters.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=^&])")


def md_escape(text: str | None, limit: int | None = None) -> str:
    """``text`` safe to pass to st.error / st.caption / st.markdown: shown as typed, links and images inert."""
    value = "" if text is None else str(text)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return _SPECIAL.sub(r"\\\1", value).replace("\n", "  \n")


_HEADLINE = re.compile(r"\*\*(.+?)\*\*")


def thought_headline(thinking: str, limit: int = 120) -> str:
    """What the model is doing now: its latest bold thought heading, else its latest line (plain text)."""
    headings = _HEADLINE.findall(thinking or "")
    if headings:
        return headings[-1].strip()[:limit]
    lines = [line.strip() for line in (thinking or "").splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""
