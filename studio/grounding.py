"""Grounding with Google Search: the sources a grounded answer names, read from the answer's JSON.

Google requires an app that shows a grounded answer to show its Search Suggestions
(``groundingMetadata.searchEntryPoint.renderedContent``, HTML) with it, and the web sources
(``groundingChunks[].web``) it used. History keeps the answer's JSON, so the live result and a
History entry read the same way: ``sources_from_response(response_json)``. Both are text that is not ours
(an imported ZIP can carry anything there): the suggestions' HTML is rebuilt by ``safe_html`` and each
source's address is percent-encoded, so a line break or a bracket in it cannot split one link into several.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlparse

from studio.safe_html import clean_suggestions, web_address

# what an address may hold as it is; everything else (control characters, spaces, quotes, <>, \, non-ASCII) is
# percent-encoded, and an existing %XX stays as it was
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"


@dataclass(frozen=True)
class SourceLink:
    uri: str
    title: str


@dataclass(frozen=True)
class Sources:
    """What a grounded image must be shown with."""

    entry_point_html: str  # Google's Search Suggestions, rebuilt from an allow-list (studio/safe_html.py)
    links: tuple[SourceLink, ...] = ()
    queries: tuple[str, ...] = ()


def _metadata(response_json: object) -> dict:
    if not isinstance(response_json, dict):
        return {}
    candidates = response_json.get("candidates") or []
    first = candidates[0] if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict) else {}
    meta = first.get("groundingMetadata") or first.get("grounding_metadata") or {}
    return _with_image_queries(meta) if isinstance(meta, dict) else {}


def _with_image_queries(meta: dict) -> dict:
    """What Google searched, shown together: the web queries, then the image search queries."""
    found: list = []
    for key in ("webSearchQueries", "web_search_queries", "imageSearchQueries", "image_search_queries"):
        value = meta.get(key)
        found += value if isinstance(value, list) else []
    return {**meta, "webSearchQueries": found} if found else meta


def _web_link(chunk: object) -> SourceLink | None:
    web = chunk.get("web") if isinstance(chunk, dict) else None
    if not isinstance(web, dict):
        return None
    uri = str(web.get("uri") or "").strip()
    if not web_address(uri):
        return None  # only web links are offered as links: never javascript: or data: from an answer
    uri = quote(uri, safe=_URI_SAFE)
    title = " ".join(str(web.get("title") or "").split()) or urlparse(uri).netloc
    return SourceLink(uri=uri, title=title)


def _as_web(chunk: object) -> object:
    """An image search result (``image.sourceUri``, its page) read as a web source, so it is shown and checked
    exactly like one."""
    image = chunk.get("image") if isinstance(chunk, dict) and "web" not in chunk else None
    if not isinstance(image, dict):
        return chunk
    title = str(image.get("title") or "").strip() or str(image.get("domain") or "").strip()
    return {"web": {"uri": image.get("sourceUri") or image.get("source_uri") or "", "title": title}}


def sources_from_response(response_json: object) -> Sources | None:
    """The answer's sources, or None when the answer was not grounded."""
    meta = _metadata(response_json)
    if not meta:
        return None
    entry = meta.get("searchEntryPoint") or meta.get("search_entry_point") or {}
    html = str(entry.get("renderedContent") or entry.get("rendered_content") or "") if isinstance(entry, dict) else ""
    chunks = meta.get("groundingChunks") or meta.get("grounding_chunks") or []
    links = tuple(link for c in (chunks if isinstance(chunks, list) else []) if (link := _web_link(_as_web(c))))
    queries = meta.get("webSearchQueries") or meta.get("web_search_queries") or []
    queries = tuple(str(q) for q in queries if isinstance(q, str)) if isinstance(queries, list) else ()
    if not html and not links and not queries:
        return None
    return Sources(entry_point_html=clean_suggestions(html) if html else "", links=links, queries=queries)
