"""Text that is not ours is shown literally: a prompt, a model answer, a file's name or Google's search HTML (as an
imported ZIP can carry it) cannot place images, links or HTML, and makes the browser ask no other address.

Each test records every request the page makes (``page.on("request")``, frames included) and finds none to
an origin other than the studio's own.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from bench.studio_page import generate_button, wait_for_app_run
from bench.studio_process import StudioProcess
from components.uploader import short_name
from studio.catalogue import PRO
from studio.emulator.server import EmulatorServer
from studio.history.archive import FORMAT, MANIFEST

from .test_jobs import connect, go, open_buttons
from .test_replicas import open_export_import, refresh_history, select_first_row

pytestmark = pytest.mark.browser
TRAP = "![x](http://127.0.0.1:9/t.png) [a](javascript:alert(1)) <img src=x onerror=alert(1)>"
HOSTILE = "127.0.0.1:9"  # nothing listens there; a request to it is all a test needs to see


def foreign(requested: list[str], studio_url: str) -> list[str]:
    """The requests to any origin but the studio's (data:, blob: and about: are no requests to anyone)."""
    own = urlparse(studio_url).netloc
    return [url for url in requested if urlparse(url).scheme in ("http", "https", "ws", "wss")
            and urlparse(url).netloc != own]


@pytest.mark.parametrize("fault", ["image_safety", "text_only"])
def test_markdown_and_html_in_a_prompt_or_answer_do_nothing(start_studio: Callable[..., StudioProcess],
                                                            fresh_emulator: Callable[..., EmulatorServer],
                                                            page: Page, fault: str) -> None:
    api = fresh_emulator()
    studio = start_studio(env={"STUDIO_GEMINI_BASE_URL": api.base_url})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    connect(page, studio.url)
    box = page.get_by_label("Prompt", exact=True)
    box.fill(f"{TRAP} [[fault:{fault}]]")
    box.blur()  # commits the text (Ctrl+Enter would also press Generate)
    generate_button(page).click()
    expect(page.get_by_role("button", name="Retry")).to_be_visible(timeout=60_000)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("![x](http://127.0.0.1:9/t.png)").first).to_be_visible()  # shown as typed
    assert main.locator('img[src*="127.0.0.1:9"], img[src="x"], a[href^="javascript:"]').count() == 0
    # markdown's autolinks read escaped text too: the address in the prompt and in the model's words stays text
    assert main.locator(f'a[href*="{HOSTILE}"]').count() == 0
    assert not [url for url in requested if "127.0.0.1:9/" in url or url.endswith("/x")]
    assert not foreign(requested, studio.url)
    assert not dialogs
    assert open_buttons(page).count() == 0


TREE_PROMPT = "![x](http://127.0.0.1:9/v) harbour"  # a version's button label is markdown too
REFERENCE_NAMES = ("![x](https:127.0.0.1:9).png", ":red[red] $$x^2$$ www.evil.example.png")
SUGGESTIONS = (
    "<meta http-equiv=\"refresh\" content=\"0;url=http://127.0.0.1:9/refresh\">"
    "<link rel=\"stylesheet\" href=\"http://127.0.0.1:9/link.css\">"
    "<style>@import url(http://127.0.0.1:9/import.css); .chip{background:url(http://127.0.0.1:9/bg.png)}</style>"
    "<img src=\"http://127.0.0.1:9/pixel.png\"><script>fetch('http://127.0.0.1:9/script')</script>"
    "<iframe src=\"http://127.0.0.1:9/frame\"></iframe>"
    "<svg><style><meta http-equiv=\"refresh\" content=\"0;url=http://127.0.0.1:9/svg\"></style></svg>"
    "<div class=\"carousel\"><a class=\"chip\" href=\"https://www.google.com/search?q=harbour\">harbour at dusk</a>"
    "<a class=\"chip\" href=\"javascript:fetch('http://127.0.0.1:9/js')\">a trap</a></div>")


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def hostile_export() -> bytes:
    """A studio export whose one grounded entry carries hostile suggestions, sources and model text."""
    grounding = {"searchEntryPoint": {"renderedContent": SUGGESTIONS},
                 "webSearchQueries": ["harbour at dusk"],
                 "groundingChunks": [{"web": {"uri": "https://example.com/a\nhttps://127.0.0.1:9/split",
                                              "title": "Two\nlines"}}]}
    record = {"id": "hostile-1", "created_at": time.time() - 60, "prompt": TREE_PROMPT,
              "model_id": PRO.model_id, "aspect_ratio": "1:1", "image_size": "1K", "output_format": "png",
              "status": "ok", "image": "images/hostile.png", "mime_type": "image/png", "width": 64, "height": 48,
              "settings": {"grounding": True}, "text": "More at https://127.0.0.1:9/text and www.evil.example",
              "response_json": {"candidates": [{"groundingMetadata": grounding}],
                                "modelVersion": "see https://127.0.0.1:9/json"}}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("images/hostile.png", _png("navy"))
        archive.writestr(MANIFEST, json.dumps({"format": FORMAT, "exported_at": time.time(), "entries": [record]}))
    return out.getvalue()


def test_file_names_and_imported_search_html_fetch_nothing_and_navigate_nowhere(
        start_studio: Callable[..., StudioProcess], page: Page, tmp_path: Path) -> None:
    studio = start_studio()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    navigated: list[str] = []
    page.on("framenavigated", lambda frame: navigated.append(frame.url))
    page.goto(studio.url)
    wait_for_app_run(page)
    page.get_by_role("button", name="Try offline").click()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=60_000)
    wait_for_app_run(page)

    # 14: a reference's file name is its uploader's text: shown as typed in the strip and its help
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [{"name": name, "mimeType": "image/png", "buffer": _png(colour)}
         for name, colour in zip(REFERENCE_NAMES, ("tomato", "gold"), strict=True)])
    expect(page.get_by_text("2 of 14 reference images")).to_be_visible(timeout=30_000)
    wait_for_app_run(page)
    main = page.locator('[data-testid="stMain"]')
    for name in REFERENCE_NAMES:  # the strip cuts a long name with an ellipsis (issue 22): still plain characters
        expect(main.get_by_text(short_name(name)).first).to_be_visible()
    assert main.locator(f'img[src*="{HOSTILE}"], a[href*="evil.example"], .katex').count() == 0

    # 15, 16: an imported entry's search suggestions, sources and model text
    go(page, "History")
    open_export_import(page)
    page.locator('[data-testid="stFileUploader"]').filter(has_text="Import a studio ZIP").locator(
        'input[type="file"]').set_input_files({"name": "hostile.zip", "mimeType": "application/zip",
                                               "buffer": hostile_export()})
    wait_for_app_run(page)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported 1 entries.")).to_be_visible(timeout=30_000)
    wait_for_app_run(page)
    refresh_history(page)
    select_first_row(page)
    frame = page.frame_locator('iframe[title="Google Search suggestions for this image"]').first
    expect(frame.get_by_role("link", name="harbour at dusk")).to_have_attribute(
        "href", "https://www.google.com/search?q=harbour")
    expect(frame.get_by_text("a trap")).to_be_visible()
    assert frame.locator('a[href^="javascript:"], img, iframe, script, link, meta[http-equiv="refresh"]').count() == 0
    expect(main.get_by_text("More at https://127.0.0.1:9/text and www.evil.example")).to_be_visible()
    sources = main.get_by_role("link", name="Two lines")
    expect(sources).to_have_count(1)  # one source, one link: its line break no longer splits it
    assert (sources.get_attribute("href") or "").startswith("https://example.com/a%0Ahttps")
    main.get_by_text("Response JSON", exact=True).click()  # the answer as kept: its addresses are text too
    expect(main.get_by_text("https://127.0.0.1:9/json").first).to_be_visible()
    assert main.locator(f'a[href^="http://{HOSTILE}"], a[href^="https://{HOSTILE}"]').count() == 0
    wait_for_app_run(page)

    # the prompt, in the Edit page's tree of versions (a button, whose label is markdown)
    main.get_by_role("button", name="Edit", exact=True).first.click()  # the opened entry's, above the tiles
    wait_for_app_run(page)
    expect(main.get_by_role("button", name=re.compile(r"^v1 .*127\.0\.0\.1:9"))).to_be_visible(timeout=30_000)
    expect(main.get_by_text(TREE_PROMPT).first).to_be_visible()
    assert main.locator(f'img[src*="{HOSTILE}"]').count() == 0
    assert not [url for url in navigated if HOSTILE in url], "no frame was sent anywhere"
    assert not foreign(requested, studio.url)
