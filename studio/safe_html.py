"""Google's Search Suggestions HTML, rebuilt from an allow-list so it can neither fetch nor navigate.

Google asks apps to show ``searchEntryPoint.renderedContent`` (a style block, a headline with an SVG logo
and chips linking to Google Search) with a grounded answer. History keeps answers, and an imported ZIP can
carry any HTML there: a ``<meta http-equiv="refresh">`` navigated the frame, an ``<img>`` fetched a remote
address. So nothing of it is passed through as written: it is parsed, and only allow-listed tags and
attributes are written out again, text escaped. Scripts, frames, forms, ``meta``, ``link`` and ``base`` are
dropped (with their content where a browser would not show it as markup), links keep only ``http(s)``
addresses and open in a new tab, images only inline ``data:`` pictures. CSS loses what fetches (``url(…)``
but a ``#fragment``, ``image-set``, ``@import``…), and whatever slipped past would still be refused by the
frame's Content-Security-Policy (``FRAME_POLICY``).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlparse

# no request of any kind leaves the frame: styles inline, pictures and fonts only from data: URLs
FRAME_POLICY = ("default-src 'none'; script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; "
                "img-src data:; font-src data:; form-action 'none'; base-uri 'none'")
_TAGS = frozenset({
    "div", "span", "a", "p", "br", "b", "i", "strong", "em", "small", "ul", "ol", "li", "img", "style",
    "svg", "g", "path", "circle", "rect", "ellipse", "line", "polyline", "polygon", "defs", "lineargradient",
    "radialgradient", "stop", "clippath",
})
_VOID = frozenset({"br", "img"})
# dropped with everything inside: run, framed, or shown by a browser as text that this parser reads as tags
_DROP_WHOLE = frozenset({
    "script", "template", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "noembed",
    "noframes", "xmp", "plaintext", "textarea", "title", "select", "option", "math", "head", "audio", "video",
    "form", "button", "canvas", "foreignobject",
})
_ATTRIBUTES = frozenset({
    "class", "id", "style", "width", "height", "viewbox", "fill", "fill-rule", "fill-opacity", "clip-rule",
    "clip-path", "d", "xmlns", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-opacity",
    "offset", "stop-color", "stop-opacity", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
    "points", "transform", "gradientunits", "gradienttransform", "opacity", "aria-label", "aria-hidden", "role",
    "alt", "dir", "lang",
})
_DATA_IMAGES = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")
_CSS_ATTRIBUTES = frozenset({"style", "fill", "stroke", "clip-path"})
_CSS_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.DOTALL)
# every CSS way to name another resource; url(#id) points inside the document (an SVG gradient) and stays
_CSS_FETCH = re.compile(r"url\(\s*(?!['\"]?#)|(?:-webkit-)?image-set\(|cross-fade\(|element\(|src\(|@import",
                        re.IGNORECASE)


def clean_css(text: str) -> str:
    """CSS that asks for nothing: escapes and comments go first (they could spell ``url(`` otherwise), then
    every function or rule that names another resource becomes an invalid one, which the browser ignores."""
    plain = _CSS_COMMENT.sub("", text.replace("\\", "").replace("<", ""))
    return _CSS_FETCH.sub(lambda match: "@invalid" if match.group(0).startswith("@") else "invalid(", plain)


def web_address(value: str) -> bool:
    """An ``http`` or ``https`` address: never ``javascript:``, ``data:`` or a relative path."""
    return urlparse(value.strip()).scheme.lower() in ("http", "https")


class _Rebuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []  # allow-listed tags written and not yet closed
        self.skipping: str | None = None  # a dropped element whose content is dropped too
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self.skipping is not None:
            self.skip_depth += tag == self.skipping and not closed
            return
        if tag in _DROP_WHOLE:
            if not closed:
                self.skipping, self.skip_depth = tag, 1
            return
        if tag not in _TAGS:
            return  # its tag goes, its text stays (escaped)
        kept = self._attributes(tag, attrs)
        if tag == "img" and " src=" not in kept:
            return  # a picture from anywhere but the answer itself is no picture at all
        if tag in _VOID:
            self.out.append(f"<{tag}{kept}>")
        elif closed:
            self.out.append(f"<{tag}{kept}/>")
        else:
            self.out.append(f"<{tag}{kept}>")
            self.open.append(tag)

    @staticmethod
    def _attributes(tag: str, attrs: list[tuple[str, str | None]]) -> str:
        kept: list[tuple[str, str]] = []
        for name, value in attrs:
            value = value or ""
            link = name == "href" and tag == "a" and web_address(value)
            picture = name == "src" and tag == "img" and value.strip().lower().startswith(_DATA_IMAGES)
            if name in _ATTRIBUTES:
                kept.append((name, clean_css(value) if name in _CSS_ATTRIBUTES else value))
            elif link or picture:
                kept.append((name, value.strip()))
        if tag == "a":
            kept += [("target", "_blank"), ("rel", "noopener noreferrer")]
        return "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in kept)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping is not None:
            if tag == self.skipping:
                self.skip_depth -= 1
                if self.skip_depth <= 0:
                    self.skipping = None
            return
        if tag in self.open:
            while self.open:  # close what was left open inside it, as a browser would
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == tag:
                    break

    def handle_data(self, data: str) -> None:
        if self.skipping is not None:
            return
        if self.open and self.open[-1] == "style":
            # CSS needs no "<": without it nothing in a style block can become markup in any parser's reading
            self.out.append(clean_css(data))
        else:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def clean_suggestions(raw: str) -> str:
    """``renderedContent`` with only what draws chips: no script, frame, form, refresh, remote picture or link
    other than ``http(s)``; comments and declarations go too."""
    rebuilder = _Rebuilder()
    rebuilder.feed(raw)
    return rebuilder.result()
