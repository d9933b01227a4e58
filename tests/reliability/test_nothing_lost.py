"""In the running page, every kind of bad input and fault leaves the prompt, references, results and history intact."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import httpx
import pytest
from PIL import Image

from components.plain import md_escape

ROOT = Path(__file__).resolve().parents[2]


def _png(size: tuple[int, int] = (48, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def working_session(studio_app, fresh_emulator):
    """A connected session with a prompt, one reference and one good result."""
    emulator = fresh_emulator()
    at = studio_app(emulator)
    at.file_uploader(key="reference_uploader_0").set_value([("keep.png", _png(), "image/png")]).run()
    at.text_area(key="prompt").input("the first good picture").run()
    at.button(key="generate").click().run()
    assert len(at.session_state["session_entry_ids"]) == 1
    return at, emulator


def _assert_intact(at, prompt: str, results: int) -> None:
    assert not at.exception
    assert at.text_area(key="prompt").value == prompt
    assert [r.name for r in at.session_state["references"]] == ["keep.png"]
    assert len(at.session_state["session_entry_ids"]) == results
    assert f"This session · {results} generation{'s' if results != 1 else ''}" in [h.value for h in at.subheader]


BAD_FILES = [
    ("notes.png", b"plain text pretending to be a picture", "is not an image"),
    ("cut.png", _png((400, 300))[:300], "truncated or damaged"),
    ("page.jpg", b"<html><body>nope</body></html>", "HTML"),
    ("empty.png", b"", "empty"),
]


@pytest.mark.parametrize(("name", "data", "needle"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_lose_nothing(working_session, name: str, data: bytes, needle: str) -> None:
    at, _ = working_session
    at.file_uploader(key="reference_uploader_1").set_value([(name, data, "image/png")]).run()
    shown = md_escape(name)  # file names are shown as plain text: markdown-escaped (issue 20, item 14)
    assert any(shown in e.value and needle in e.value for e in at.error)
    _assert_intact(at, "the first good picture", 1)


@pytest.mark.parametrize(("prompt", "needle"), [
    ("   ", "Write a prompt first"),
    ("x" * 100_000, "keep it under 30,000"),
], ids=["blank", "100k"])
def test_bad_prompts_lose_nothing(working_session, prompt: str, needle: str) -> None:
    at, _ = working_session
    at.text_area(key="prompt").input(prompt).run()
    at.button(key="generate").click().run()
    assert any(needle in e.value for e in at.error)
    _assert_intact(at, prompt, 1)


@pytest.mark.parametrize("fault", ["image_safety", "text_only", "no_image", "prompt_blocked", "malformed",
                                   "quota_zero"])
def test_failed_answers_lose_nothing(working_session, fault: str) -> None:
    at, _ = working_session
    prompt = f"this one fails [[fault:{fault}]]"
    at.text_area(key="prompt").input(prompt).run()
    at.button(key="generate").click().run()
    assert at.error, "the failure is shown in place"
    _assert_intact(at, prompt, 2)


def test_batch_of_four_where_two_fail_keeps_two_in_grid_and_history(working_session) -> None:
    at, emulator = working_session
    httpx.post(f"{emulator.base_url}/_emulator/faults", json={"fault": "image_safety", "count": 2})
    at.slider(key="count").set_value(4).run()
    at.text_area(key="prompt").input("four at once").run()
    at.button(key="generate").click().run()
    _assert_intact(at, "four at once", 5)
    cards = [b.label for b in at.button if b.label in ("Open", "Retry")]
    assert cards.count("Open") == 3 and cards.count("Retry") == 2  # 2 new + the first good one; 2 blocked


def test_prompt_with_html_and_links_is_shown_as_text(working_session) -> None:
    at, _ = working_session
    prompt = '<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1))'
    at.text_area(key="prompt").input(prompt).run()
    at.button(key="generate").click().run()
    _assert_intact(at, prompt, 2)
    assert all("onerror" not in m.value for m in at.markdown), "never rendered as markdown/HTML"


def test_secrets_file_is_ignored_by_git() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=ROOT, check=False)
    assert ignored.returncode == 0
