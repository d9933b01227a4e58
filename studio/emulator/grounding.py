"""Google Search grounding: the ``groundingMetadata`` a grounded answer carries.

With ``tools: [{"googleSearch": {}}]`` Nano Banana Pro and Nano Banana 2 search before drawing; the answer's
candidate then holds ``groundingMetadata`` with ``searchEntryPoint.renderedContent`` (HTML that
Google requires apps to show), ``groundingChunks`` (the web sources) and ``webSearchQueries``.
With ``searchTypes.imageSearch`` (models whose registry ``grounding`` has image_search) the answer also
carries ``imageSearchQueries`` and image chunks (``groundingChunks[].image``: sourceUri, imageUri, title,
domain), shown like the web sources. The sources here are made up but stable per prompt, and clearly
marked as the emulator's.
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


_IMAGE_SOURCES = ("commons.wikimedia.org", "unsplash.com", "flickr.com")


def image_chunks(prompt: str) -> list[dict]:
    """The images an image search found (made up, stable per prompt)."""
    digest = hashlib.sha256(f"image-grounding|{prompt}".encode()).digest()
    out = []
    for i in range(1 + digest[0] % 2):
        domain = _IMAGE_SOURCES[(digest[1] + i) % len(_IMAGE_SOURCES)]
        token = hashlib.sha256(f"{prompt}|{domain}|{i}".encode()).hexdigest()[:24]
        out.append({"image": {"sourceUri": f"https://{domain}/emulated/{token}",
                              "imageUri": f"https://{domain}/emulated/{token}.jpg",
                              "title": f"{' '.join(prompt.split()[:4]) or 'image'} ({domain})", "domain": domain}})
    return out


def metadata(prompt: str, web: bool = True, images: bool = False) -> dict:
    """``groundingMetadata`` for a grounded answer to this prompt (web search, image search or both)."""
    digest = hashlib.sha256(f"grounding|{prompt}".encode()).digest()
    searches = queries(prompt)
    chunks: list[dict] = []
    out: dict = {"searchEntryPoint": {"renderedContent": rendered_content(searches)}}
    if web:
        chosen = [_SOURCES[(digest[0] + i) % len(_SOURCES)] for i in range(2 + digest[1] % 2)]
        chunks += [{"web": {"uri": _REDIRECT + hashlib.sha256(f"{prompt}|{domain}".encode()).hexdigest()[:40],
                            "title": domain}} for domain in chosen]
    if images:
        chunks += image_chunks(prompt)
    out["groundingChunks"] = chunks
    if web:
        out["webSearchQueries"] = searches
    if images:
        out["imageSearchQueries"] = searches[:1]
    return out
