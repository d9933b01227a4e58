"""Text that is not ours, without a browser: Google's suggestions HTML rebuilt, source links kept whole, and
markdown that shows an address as text (studio/safe_html.py, studio/grounding.py, components/plain.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from components.plain import md_escape
from studio.emulator.grounding import rendered_content
from studio.grounding import sources_from_response
from studio.safe_html import clean_css, clean_suggestions

HOSTILE = [
    '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/refresh">',
    '<img src="http://127.0.0.1:9/pixel.png"><img srcset="http://127.0.0.1:9/set.png 2x">',
    "<script>fetch('http://127.0.0.1:9/script')</script><noscript><meta http-equiv=refresh content=0></noscript>",
    '<iframe src="http://127.0.0.1:9/frame"><b>inside</b></iframe><object data="http://127.0.0.1:9/o"></object>',
    '<link rel="stylesheet" href="http://127.0.0.1:9/link.css"><base href="http://127.0.0.1:9/">',
    '<svg><style><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/svg"></style></svg>',
    '<form action="http://127.0.0.1:9/form"><button>go</button></form><a href="javascript:alert(1)">js</a>',
    '<div style="background:url(http://127.0.0.1:9/bg.png)" onclick="x()" onmouseover="y()">hover</div>',
    '<style>@import "http://127.0.0.1:9/a.css"; .c{background:u\\72 l(http://127.0.0.1:9/esc)}</style>',
    '<a href="https://www.google.com/search?q=ok" target="_top" ping="http://127.0.0.1:9/ping">chip</a>',
    "<!-- <meta http-equiv=refresh content=0> --><![CDATA[<img src=x>]]><?php echo 1 ?>",
]


class _Tags(HTMLParser):
    """How a second HTML parser reads the rebuilt HTML: every tag and attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_suggestions_lose_whatever_fetches_or_navigates(hostile: str) -> None:
    cleaned = clean_suggestions(hostile)
    for tag, attrs in _tags(cleaned):
        # an address may stay only as inert text in CSS (url( is gone: checked below)
        assert not any("127.0.0.1:9" in str(value) for name, value in attrs.items() if name != "style"), attrs
        assert tag not in {"meta", "script", "iframe", "object", "link", "base", "form", "button", "noscript"}
        assert not any(name.startswith("on") or name in ("srcset", "ping", "action") for name in attrs)
        if tag == "img":
            assert str(attrs.get("src", "")).startswith("data:image/")
        if tag == "a":
            assert str(attrs.get("href", "https:")).startswith("https:") and attrs["target"] == "_blank"
    assert "url(" not in cleaned.lower() and "@import" not in cleaned.lower()


def test_what_draws_googles_chips_is_kept() -> None:
    original = rendered_content(["a calm harbour", "harbour <b>&</b> boats"])
    cleaned = clean_suggestions(original)
    assert [tag for tag, _ in _tags(cleaned)] == [tag for tag, _ in _tags(original)]
    assert ".chip{border:1px solid #ddd" in cleaned and "harbour &lt;b&gt;&amp;&lt;/b&gt; boats" in cleaned
    assert 'href="https://www.google.com/search?q=a+calm+harbour" target="_blank" rel="noopener noreferrer"' in cleaned
    logo = '<svg viewBox="0 0 9 9"><defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs>' \
           '<path d="M0 0h9" fill="url(#g)"/></svg><img src="data:image/png;base64,iVBORw0KGgo=">'
    assert clean_suggestions(logo) == logo.replace("viewBox", "viewbox").replace("linearGradient", "lineargradient")


def test_css_asks_for_nothing_however_it_is_spelled() -> None:
    for css in ("a{background:url(http://x/a)}", "a{background:URL( 'http://x/a')}", "a{b:ur/**/l(http://x)}",
                "a{b:u\\72 l(http://x)}", "a{b:image-set('x.png' 1x)}", "a{b:-webkit-image-set(url(x) 1x)}",
                "@import 'x.css';", "@font-face{src:url(x.woff)}"):
        cleaned = clean_css(css).lower()
        assert "url(" not in cleaned and "image-set(" not in cleaned and "@import" not in cleaned, css
    assert clean_css("a{fill:url(#grad)}") == "a{fill:url(#grad)}", "a reference inside the picture stays"


def _grounded(uri: str, title: str = "Example") -> dict:
    return {"candidates": [{"groundingMetadata": {"groundingChunks": [{"web": {"uri": uri, "title": title}}]}}]}


def test_a_source_is_one_link_whatever_its_address_holds() -> None:
    sources = sources_from_response(_grounded("https://example.com/a\nhttps://127.0.0.1:9/b c)<d>\t\\e%41",
                                              "Two\nlines\t here"))
    assert sources is not None
    (link,) = sources.links
    assert link.uri == "https://example.com/a%0Ahttps://127.0.0.1:9/b%20c)%3Cd%3E%09%5Ce%41"
    assert not any(c.isspace() or ord(c) < 32 for c in link.uri) and link.title == "Two lines here"
    for refused in ("javascript:alert(1)", "data:text/html,x", "//127.0.0.1:9/x", "ftp://x/y"):
        assert sources_from_response(_grounded(refused)) is None


@pytest.mark.parametrize("text", [
    "see https://127.0.0.1:9/x.", "www.evil.example is here", "mail me: eve@evil.example", "HTTP://A.B/c",
    "![x](https://127.0.0.1:9/t.png)", "xmpp:eve@evil.example", "`https://a.b/c`", "a``b://c",
])
def test_an_address_is_shown_in_a_code_span_where_no_autolink_reaches(text: str) -> None:
    escaped = md_escape(text)
    linkish = next(word for word in text.split() if re.search(r"://|www\.|@|xmpp:", word, re.IGNORECASE))
    spans = re.findall(r"(`+)( ?)(.*?)\2\1(?!`)", escaped)
    assert linkish in [body for _, _, body in spans], escaped


def test_plain_words_are_escaped_as_before() -> None:
    assert md_escape(":red[red] $$x^2$$ *b*") == "\\:red\\[red\\] \\$\\$x\\^2\\$\\$ \\*b\\*"
    assert md_escape("one\ntwo") == "one  \ntwo"
    assert md_escape("a" * 10, limit=5) == "aaaa…"
