"""Google Search grounding: the ``groundingMetadata`` a grounded answer carries.

With ``tools: [{"googleSearch": {}}]`` Nano Banana Pro and Nano Banana 2 search before drawing; the answer's
candidate then holds ``groundingMetadata`` with ``searchEntryPoint.renderedContent`` (HTML that
Google requires apps to show), ``groundingChunks`` (the web sources) and ``webSearchQueries``.
The sources here are made up but stable per prompt, and clearly marked as the emulator's.
"""

from __future__ import annotations

import hashlib
import html
from urllib.parse import quote_plus

_REDIRECT = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"
_SOURCES = ("en.wikipedia.org", "weather.gov", "reuters.com", "nationalgeographic.com")


def queries(prompt: str) -> list[str]:
    """What the model searched for: the prompt's first words, and once more with "latest"."""
    words = " ".join(prompt.split()[:8]) or "image"
    return [words, f"{words} latest"]


def rendered_content(searches: list[str]) -> str:
    """The search chips' HTML, shaped like Google's (a style block and a container of chips)."""
    chips = "".join(f'<a class="chip" href="https://www.google.com/search?q={quote_plus(q)}">{html.escape(q)}</a>'
                    for q in searches)
    return ("<style>.container{display:flex;flex-wrap:wrap;gap:8px}.chip{border:1px solid #ddd;"
            "border-radius:16px;padding:4px 12px;text-decoration:none}</style>"
            f'<div class="container"><div class="headline">Google Search suggestions (emulated)</div>'
            f'<div class="carousel">{chips}</div></div>')


def metadata(prompt: str) -> dict:
    """``groundingMetadata`` for a grounded answer to this prompt."""
    digest = hashlib.sha256(f"grounding|{prompt}".encode()).digest()
    searches = queries(prompt)
    chosen = [_SOURCES[(digest[0] + i) % len(_SOURCES)] for i in range(2 + digest[1] % 2)]
    chunks = [{"web": {"uri": _REDIRECT + hashlib.sha256(f"{prompt}|{domain}".encode()).hexdigest()[:40],
                       "title": domain}} for domain in chosen]
    return {"searchEntryPoint": {"renderedContent": rendered_content(searches)},
            "groundingChunks": chunks, "webSearchQueries": searches}
