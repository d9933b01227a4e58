"""Every day in the studio, the History and Edit side (issue 22, items 4, 5 and 8), in Chromium at 1440×900
and 390×844: History's first screen shows the entries as image tiles, an Import shows in the count at once,
nothing is wider than a phone's screen and every tap target is at least 44 px, and the Edit page's
before/after slider moves in the browser without a single message to the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bench.studio_page import generate_button
from bench.studio_process import StudioProcess
from studio.credentials import Connection
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore, namespace_for
from tests.conftest import TEST_KEY
from tests.history.conftest import make_request, ok_result

from .conftest import ARTIFACTS, wait_for_app_run
from .test_jobs import LANDED_S, connect, go
from .test_phone import PHONE, PHONE_AGENT
from .test_replicas import open_export_import

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1440, "height": 900}
TILE = '[class*="st-key-h_open_"]'


@pytest.fixture
def studio(start_studio: Callable[..., StudioProcess], fresh_emulator: Callable[..., EmulatorServer]) -> StudioProcess:
    return start_studio(env={"STUDIO_GEMINI_BASE_URL": fresh_emulator(latency_s=0.2).base_url})


@pytest.fixture(params=["desktop", "phone"])
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    if request.param == "phone":
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3,
                                      user_agent=PHONE_AGENT)
    else:
        context = browser.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


def _seed(data_dir: Path, namespace: str, prompts: list[str]) -> None:
    store = HistoryStore.open(data_dir=data_dir)
    try:
        for prompt in prompts:
            request = make_request(prompt=prompt)
            store.record_attempt(namespace, request, ok_result(request), batch_id="seeded")
    finally:
        store.close()


def _archive(folder: Path, prompts: list[str]) -> Path:
    """A studio export made elsewhere, as a person brings it."""
    elsewhere = HistoryStore.open(data_dir=folder / "another-studio")
    try:
        for prompt in prompts:
            request = make_request(prompt=prompt)
            elsewhere.record_attempt("local", request, ok_result(request), batch_id="elsewhere")
        path = folder / "history.zip"
        path.write_bytes(elsewhere.export_zip("local"))
        return path
    finally:
        elsewhere.close()


def _wider_than_the_screen(page: Page) -> list[str]:
    """Every visible element of the page whose box passes the screen's right edge (a sideways scroll)."""
    return page.evaluate("""() => {
        const width = window.innerWidth, found = [];
        for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
            const box = el.getBoundingClientRect();
            if (box.width === 0 || box.height === 0) continue;
            if (box.right > width + 1 || box.left < -1) found.push(`${el.tagName}.${el.className} ${box.left}-${box.right}`);
        }
        if (document.documentElement.scrollWidth > width) found.push(`page ${document.documentElement.scrollWidth}`);
        return found.slice(0, 10);
    }""")


def _small_tap_targets(page: Page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] button')]
        .map(b => [b, b.getBoundingClientRect()])
        .filter(([b, r]) => r.width > 0 && r.height > 0 && (r.height < 44 || r.width < 44))
        .map(([b, r]) => `${b.textContent.trim().slice(0, 30)} ${Math.round(r.width)}×${Math.round(r.height)}`)
        .slice(0, 10)""")


def test_history_opens_as_tiles_and_an_import_counts_at_once(studio: StudioProcess, screen: Page,
                                                             tmp_path: Path) -> None:
    page = screen
    prompts = [f"a lighthouse, take {i}" for i in range(6)]
    _seed(tmp_path / "data", namespace_for(Connection(mode="api_key", api_key=TEST_KEY), tmp_path / "data"), prompts)
    connect(page, studio.url)
    phone = page.viewport_size == PHONE
    if phone:
        page.get_by_role("button", name="Expand sidebar").click()
    go(page, "History")
    expect(page.get_by_text("6 entries", exact=True)).to_be_visible(timeout=LANDED_S)
    tiles = page.locator(TILE)
    expect(tiles).to_have_count(6)
    first_picture = page.locator('[data-testid="stMain"] [data-testid="stImage"] img').first
    expect(first_picture).to_be_in_viewport()  # History's first screen shows the entries as pictures
    assert page.locator('[data-testid="stDataFrame"]').count() == 0, "the gallery comes first, not the table"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"history-gallery-{page.viewport_size['width']}.png"))
    if phone:
        search = page.get_by_label("Search prompts")
        filters = page.get_by_role("button", name="Filters")
        expect(search).to_be_in_viewport()
        expect(filters).to_be_in_viewport()
        assert page.get_by_label("Status").count() == 0, "the filters fold into one control"
        assert _wider_than_the_screen(page) == []
        assert _small_tap_targets(page) == []

    page.get_by_role("button", name="a lighthouse, take 5", exact=True).click()  # a click opens the entry
    expect(page.get_by_role("button", name="Restore prompt")).to_be_visible(timeout=LANDED_S)
    expect(page.get_by_role("button", name="Close")).to_be_in_viewport()
    wait_for_app_run(page)
    page.get_by_role("button", name="Close").click()
    wait_for_app_run(page)

    open_export_import(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(_archive(tmp_path, ["an imported harbour", "an imported pier", "an imported boat"])))
    expect(page.get_by_role("button", name="Import", exact=True)).to_be_visible(timeout=LANDED_S)
    wait_for_app_run(page)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported 3 entries.", exact=True)).to_be_visible(timeout=LANDED_S)
    expect(page.get_by_text("9 entries", exact=True)).to_be_visible()  # no other click
    expect(tiles).to_have_count(9)
    expect(page.locator(TILE).filter(has_text="🆕")).to_have_count(3)  # the new ones are marked
    expect(page.locator('[data-testid="stFileUploaderFile"]')).to_have_count(0)  # the uploader is cleared
    if phone:
        assert _wider_than_the_screen(page) == []


def test_the_compare_slider_moves_in_the_browser(studio: StudioProcess, page: Page) -> None:
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append("frame")))
    page.set_viewport_size(DESKTOP)
    connect(page, studio.url)
    page.get_by_label("Prompt", exact=True).fill("a paper boat")
    generate_button(page).click()
    edit = page.locator('[data-testid="stMain"]').get_by_role("button", name="Edit", exact=True)
    expect(edit).to_have_count(1, timeout=LANDED_S)
    wait_for_app_run(page)

    # the detail view: its actions right under the image, "Download" whole, the facts after them
    page.locator('[data-testid="stMain"]').get_by_role("button", name="Open", exact=True).click()
    dialog = page.get_by_role("dialog")
    download = dialog.get_by_role("button", name="Download", exact=True)
    expect(download).to_be_in_viewport(timeout=LANDED_S)
    assert download.evaluate("b => [...b.querySelectorAll('*')].every(e => e.scrollWidth <= e.clientWidth + 1)"), \
        "the Download label is not cut"
    table, picture = dialog.locator('[data-testid="stDataFrame"]'), dialog.locator('[data-testid="stImage"]').first
    assert (picture.bounding_box() or {"y": 1e9})["y"] < (download.bounding_box() or {"y": 0})["y"] \
        < (table.bounding_box() or {"y": 0})["y"], "image, then actions, then the facts"
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    wait_for_app_run(page)

    edit.click()
    box = page.get_by_label("Edit instruction", exact=True)
    expect(box).to_be_visible(timeout=LANDED_S)
    expect(box).to_be_in_viewport()  # the instruction right under the image, not 2,000 px down
    wait_for_app_run(page)
    box.fill("put it on a puddle")
    box.blur()  # commits the text (Ctrl+Enter would also press Apply edit)
    wait_for_app_run(page)
    page.get_by_role("button", name="Apply edit", exact=True).click()
    slider = page.get_by_role("slider", name="Before and after: drag to compare")
    expect(slider).to_be_visible(timeout=LANDED_S)
    expect(slider.locator("img")).to_have_count(2)
    wait_for_app_run(page)
    expect(page.get_by_label("Edit instruction", exact=True)).to_be_in_viewport()  # still right under the image
    expect(page.get_by_role("button", name="Apply edit", exact=True)).to_be_in_viewport()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "edit-page.png"))
    slider.scroll_into_view_if_needed()
    wait_for_app_run(page)
    expect(slider).to_have_attribute("aria-valuenow", "50")
    before = len(sent)
    area = slider.bounding_box()
    assert area is not None
    y = area["y"] + area["height"] / 2
    page.mouse.move(area["x"] + area["width"] / 2, y)
    page.mouse.down()
    for step in range(1, 11):  # dragged on the image itself
        page.mouse.move(area["x"] + area["width"] * (0.5 + step * 0.05), y)
    page.mouse.up()
    expect(slider).to_have_attribute("aria-valuenow", "100")
    position = page.get_by_text("Before ◀ 100% ▶ After", exact=True)
    expect(position).to_be_visible()
    label = position.bounding_box()
    assert label is not None
    covering = page.evaluate("""([x, y]) => {  // the topmost element there, looking into shadow roots
        let el = document.elementFromPoint(x, y);
        while (el && el.shadowRoot) {
            const inner = el.shadowRoot.elementFromPoint(x, y);
            if (!inner || inner === el) break;
            el = inner;
        }
        return el ? el.textContent : '';
    }""", [label["x"] + label["width"] / 2, label["y"] + label["height"] / 2])
    assert "100%" in covering, f"the position label is not covered (found {covering!r})"
    page.wait_for_timeout(300)  # a message would be on its way by now: count what the page sent
    assert len(sent) == before, "a drag sends nothing to the server"
