"""Text that is not ours (prompts, imported entries, the model's words) shown literally, never as markdown.

Streamlit's messages and captions render markdown: a prompt holding ``![x](http://host/t.png)`` would
place a remote image (a tracking pixel) in the page, and ``[a](javascript:…)`` a link. Escaping every
markdown, directive (``:red[…]``, ``:material/…:``) and math character makes them plain characters.

Escaping cannot stop GitHub-flavoured markdown's autolinks: they are found in the text *after* escapes
are read, so ``https\\://example\\.com`` still became a link. A word an autolink would take (one with
``://``, ``www.``, ``mailto:``/``xmpp:`` or an ``@`` between word characters) is put in a code span
instead, where markdown finds nothing: shown as typed, in a typewriter face, never clickable.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=^&])")
_LINKISH = re.compile(r"://|www\.|mailto:|xmpp:|\w@\w", re.IGNORECASE)
_SPACES = re.compile(r"(\s+)")
_TICKS = re.compile(r"`+")


def md_escape(text: str | None, limit: int | None = None) -> str:
    """``text`` safe to pass to st.error / st.caption / st.markdown: shown as typed, links and images inert."""
    value = "" if text is None else str(text)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return "".join(_piece(part) for part in _SPACES.split(value))


def _piece(part: str) -> str:
    if not part or part.isspace():
        return part.replace("\n", "  \n")
    if _LINKISH.search(part):
        return code_span(part)
    return _SPECIAL.sub(r"\\\1", part)


def code_span(word: str) -> str:
    """``word`` (no line breaks) as a markdown code span: literal, whatever backticks it holds."""
    fence = "`" * (max((len(run) for run in _TICKS.findall(word)), default=0) + 1)
    padded = f" {word} " if word.startswith("`") or word.endswith("`") else word
    return f"{fence}{padded}{fence}"


_HEADLINE = re.compile(r"\*\*(.+?)\*\*")


def thought_headline(thinking: str, limit: int = 120) -> str:
    """What the model is doing now: its latest bold thought heading, else its latest line (plain text)."""
    headings = _HEADLINE.findall(thinking or "")
    if headings:
        return headings[-1].strip()[:limit]
    lines = [line.strip() for line in (thinking or "").splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""
