"""Edit like a conversation, in Chromium: a 3-turn thread with one branch and the compare view, through the
studio's job runner and the real SDK against the emulator (which refuses a model image sent back without
its signature, or with an altered one)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from bench.studio_process import StudioProcess
from studio.emulator.server import EmulatorServer
from tests.conftest import TEST_KEY

from .conftest import wait_for_app_run
from .test_jobs import LANDED_S, connect, generate

pytestmark = pytest.mark.browser


@pytest.fixture
def api(fresh_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return fresh_emulator(latency_s=0.2)


@pytest.fixture
def studio(start_studio: Callable[..., StudioProcess], api: EmulatorServer) -> StudioProcess:
    return start_studio(env={"STUDIO_GEMINI_BASE_URL": api.base_url})


def version(page: Page, number: int):
    """The tree's button of version ``number`` once its image landed."""
    return page.get_by_role("button", name=re.compile(rf"^\W*(└ )?v{number} 🖼️"))


def apply_edit(page: Page, instruction: str, lands_as: int) -> None:
    box = page.get_by_label("Edit instruction", exact=True)
    expect(box).to_have_count(1)  # a version switch leaves the old box on screen until its run ends
    box.fill(instruction)
    box.press("Control+Enter")  # commits the text and presses Apply edit (issue 22: the keyboard shortcut)
    expect(version(page, lands_as)).to_be_visible(timeout=LANDED_S)
    wait_for_app_run(page)
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.includes('draft.edit_text_'))")
    assert kept == [], "a sent instruction is no draft: it must not come back on its version"


def test_three_turns_a_branch_and_a_compare(studio, page: Page, api: EmulatorServer) -> None:
    connect(page, studio.url)
    generate(page, "a paper boat")
    edit = page.locator('[data-testid="stMain"]').get_by_role("button", name="Edit", exact=True)
    expect(edit).to_have_count(1, timeout=LANDED_S)
    edit.click()
    expect(page.get_by_role("heading", name="Edit", exact=True)).to_be_visible(timeout=LANDED_S)
    expect(version(page, 1)).to_be_visible()
    wait_for_app_run(page)

    apply_edit(page, "put it on a puddle", lands_as=2)
    apply_edit(page, "add rain", lands_as=3)
    expect(page.get_by_text("v2 · put it on a puddle", exact=True)).to_be_visible()  # the conversation so far
    expect(page.get_by_text(re.compile(r"^Before · v2"))).to_be_visible()  # compared with its parent
    expect(page.get_by_text(re.compile(r"^After · v3"))).to_be_visible()
    expect(page.get_by_role("slider", name="Before and after: drag to compare")).to_be_visible()

    version(page, 1).click()  # back to the first version: the next edit is a branch
    expect(page.get_by_role("heading", name="Editing v1")).to_be_visible()  # v3's conversation names v1 too
    expect(page.get_by_text("v1 · a paper boat", exact=True)).to_be_visible()
    wait_for_app_run(page)
    apply_edit(page, "make it night", lands_as=4)
    expect(version(page, 4)).to_have_accessible_name(re.compile(r"^\W*└ v4"))
    expect(version(page, 2)).to_have_accessible_name(re.compile(r"^\W*└ v2"))
    expect(page.get_by_text(re.compile(r"^Before · v1"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^After · v4"))).to_be_visible()
    slider = page.get_by_role("slider", name="Before and after: drag to compare")
    slider.focus()
    slider.press("End")
    expect(page.get_by_text("Before ◀ 100% ▶ After")).to_be_visible()  # in the browser: no run to wait for
    assert api.stats()["requests"]["ok"] == 4, "one request per version: the thread sent nothing twice"

    page.reload()  # the thread outlives the session: the address names the version
    page.get_by_label("Gemini API key", exact=True).fill(TEST_KEY)
    page.get_by_role("button", name="Connect with API key").click()
    expect(version(page, 4)).to_be_visible(timeout=LANDED_S)
    expect(version(page, 3)).to_be_visible()
