"""Text that is not ours is shown literally: a prompt or a model answer cannot place images, links or HTML."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from bench.studio_process import StudioProcess
from studio.emulator.server import EmulatorServer

from .test_jobs import connect, open_buttons

pytestmark = pytest.mark.browser
TRAP = "![x](http://127.0.0.1:9/t.png) [a](javascript:alert(1)) <img src=x onerror=alert(1)>"


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
    box.press("Control+Enter")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_role("button", name="Retry")).to_be_visible(timeout=60_000)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("![x](http://127.0.0.1:9/t.png)").first).to_be_visible()  # shown as typed
    assert main.locator('img[src*="127.0.0.1:9"], img[src="x"], a[href^="javascript:"]').count() == 0
    assert not [url for url in requested if "127.0.0.1:9/" in url or url.endswith("/x")]
    assert not dialogs
    assert open_buttons(page).count() == 0
