"""Reference roles and Grounding with Google Search on the Generate page, against the emulator over HTTP."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from components.uploader import role_key
from studio.history import HistoryStore, namespace_for
from tests.lineup_catalogue import november_2026, use_lineup

FLASH_LIMIT = "Nano Banana keeps at most 3 images tagged character or object; you tagged 4."


@pytest.fixture(autouse=True)
def three_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-model limits and search, shown on the three models these tests were written for (all offered)."""
    use_lineup(monkeypatch, november_2026())


def _png(colour: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _upload(at: AppTest, count: int) -> AppTest:
    files = [(f"r{i}.png", _png(colour), "image/png")
             for i, colour in enumerate(("red", "green", "blue", "white", "black")[:count])]
    return at.file_uploader(key="reference_uploader_0").set_value(files).run()


def _tag(at: AppTest, index: int, role: str) -> AppTest:
    ref = at.session_state["references"][index]
    return at.selectbox(key=role_key(index, ref)).set_value(role).run()


def _generate(at: AppTest, prompt: str) -> AppTest:
    at.text_area(key="prompt").input(prompt)
    return at.button(key="generate").click().run()


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _facts(at: AppTest) -> dict[str, str]:
    table = at.get("dialog")[0].dataframe[0].value
    return dict(zip(table["Detail"], table["Value"], strict=True))


def _entries(at: AppTest, data_dir):
    store = HistoryStore.open(data_dir=data_dir)
    namespace = namespace_for(at.session_state["connection"], data_dir)
    return store, namespace, store.list_entries(namespace)


def test_roles_are_tagged_limited_per_model_and_kept_in_history(studio_app, emulator, isolated_studio) -> None:
    at = _upload(studio_app(emulator, model_key="flash"), 4)
    assert [r.role for r in at.session_state["references"]] == ["other"] * 4, "untagged by default"
    assert any("Nano Banana keeps up to 3 images tagged character or object" in c.value for c in at.caption)
    for index in range(4):
        at = _tag(at, index, "character" if index < 2 else "object")
    assert not at.exception
    assert [r.role for r in at.session_state["references"]] == ["character", "character", "object", "object"]
    assert FLASH_LIMIT in " ".join(_errors(at)), "the picker says so at once"
    at = _generate(at, "a family picnic")
    assert any(e.startswith(FLASH_LIMIT) for e in _errors(at)), "Generate refuses in the same words"
    assert at.session_state["session_entry_ids"] == [], "nothing was sent"
    at.selectbox(key="model_key").set_value("pro").run()
    assert not any(FLASH_LIMIT in e for e in _errors(at))
    assert any("Nano Banana Pro keeps up to 5 characters and 6 objects" in c.value for c in at.caption)
    at = at.button(key="generate").click().run()
    assert len(at.session_state["session_entry_ids"]) == 1
    store, namespace, found = _entries(at, isolated_studio)
    try:
        assert found[0].status == "ok"
        assert [r.role for r in store.read_references(namespace, found[0].id)] == [
            "character", "character", "object", "object"]
        parts = found[0].request_json["contents"][0]["parts"]
        assert parts[1]["text"].startswith("Image 1 is a character")
    finally:
        store.close()
    facts = _facts(at.button(key=f"open_{found[0].id}").click().run())
    assert facts["References"] == "4 (character, character, object, object)" and facts["Grounding"] == "off"


def test_pro_keeps_five_characters_and_says_so_at_six(studio_app, emulator) -> None:
    at = _upload(studio_app(emulator), 5)
    for index in range(5):
        at = _tag(at, index, "character")
    assert not any("characters consistent" in e for e in _errors(at))
    at.selectbox(key="model_key").set_value("flash2").run()
    assert "Nano Banana 2 keeps at most 4 characters consistent; you tagged 5. Tag the others as another role, " \
           "or remove them." in _errors(at)


def _frames(element) -> list[str]:
    return [frame.proto.src for frame in element.get("iframe")]


def _frame_html(src: str) -> str:
    assert src.startswith("data:text/html;base64,"), "an opaque-origin frame, never the page itself"
    return base64.b64decode(src.split(",", 1)[1]).decode()


def test_grounding_toggle_shows_only_for_models_that_search(studio_app, emulator) -> None:
    at = studio_app(emulator)
    assert at.toggle(key="grounding").label == "Grounding with Google Search"
    at.selectbox(key="model_key").set_value("flash").run()
    assert not [t for t in at.toggle if t.key == "grounding"]
    at.selectbox(key="model_key").set_value("flash2").run()
    assert at.toggle(key="grounding").value is False


def test_a_grounded_image_shows_its_search_suggestions_and_sources(studio_app, emulator, isolated_studio) -> None:
    at = studio_app(emulator)
    at.toggle(key="grounding").set_value(True).run()
    at = _generate(at, "the weather in Paris today as a poster")
    assert not at.exception
    store, _, found = _entries(at, isolated_studio)
    store.close()
    entry = found[0]
    assert entry.status == "ok" and entry.settings["grounding"] is True
    frames = _frames(at)
    assert len(frames) == 1, "the grid card shows Google's search suggestions"
    html = _frame_html(frames[0])
    assert "Google Search suggestions (emulated)" in html and "script-src 'none'" in html
    assert 'target="_blank"' in html
    links = [e for e in at.expander if e.label.startswith("Sources from Google Search · ")]
    assert links, "the card lists the sources"
    at.button(key=f"open_{entry.id}").click().run()
    dialog = at.get("dialog")[0]
    assert len(_frames(dialog)) == 1 and _facts(at)["Grounding"] == "Google Search"
    markdown = " ".join(m.value for m in dialog.markdown)
    chunks = entry.response_json["candidates"][0]["groundingMetadata"]["groundingChunks"]
    for chunk in chunks:
        assert f"]({chunk['web']['uri']})" in markdown, "each source is a link, read from History"


def test_an_ungrounded_image_shows_no_sources(studio_app, emulator) -> None:
    at = _generate(studio_app(emulator), "a calm sea")
    assert len(at.session_state["session_entry_ids"]) == 1
    assert not _frames(at) and not [e for e in at.expander if "Sources" in e.label]
