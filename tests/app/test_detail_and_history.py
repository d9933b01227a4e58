"""The detail dialog and the History page's actions in AppTest, so ``pytest -m "not browser"`` covers them.

AppTest runs the whole script on every interaction (no fragment or dialog reruns), so a button inside the
detail dialog is clicked together with the card's "Open" button: the run that draws the dialog is the
run that sees the click, as in a browser where the dialog is open when the person clicks. A History row
is selected the way Streamlit allows programmatically: ``{"selection": {"rows": [i]}}`` in the table's
session state key.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from studio.history import Entry, HistoryStore, namespace_for

BLOCKED = "[[fault:image_safety]]"  # the emulator blocks any prompt that holds this marker


def _png(colour: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _generate(at: AppTest, prompt: str) -> AppTest:
    at.text_area(key="prompt").input(prompt)
    return at.button(key="generate").click().run()


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


@pytest.fixture
def entries(isolated_studio: Path) -> Iterator:
    """``entries(at)`` reads this identity's History as stored (deleted rows too, with ``deleted=True``)."""
    stores: list[HistoryStore] = []

    def read(at: AppTest, entry_id: str | None = None, deleted: bool = False) -> list[Entry] | Entry | None:
        if not stores:
            stores.append(HistoryStore.open(data_dir=isolated_studio))
        store = stores[0]
        namespace = namespace_for(at.session_state["connection"], isolated_studio)
        if entry_id is not None:
            return store.get(namespace, entry_id, include_deleted=deleted)
        return store.list_entries(namespace, sort="newest", limit=1000)

    yield read
    for store in stores:
        store.close()


def _by_index(found: list[Entry], index: int) -> Entry:
    return next(e for e in found if e.settings.get("index") == index)


# ---- the detail dialog -----------------------------------------------------------------------------------


def _open(at: AppTest, entry_id: str) -> AppTest:
    at.button(key=f"open_{entry_id}").click()
    return at.run()


def _click_in_dialog(at: AppTest, entry_id: str, action: str) -> AppTest:
    """Click ``detail_<action>_<id>`` while the dialog is open (it was drawn by the previous run)."""
    assert at.get("dialog"), "the dialog must be open before clicking inside it"
    at.button(key=f"open_{entry_id}").click()
    at.button(key=f"detail_{action}_{entry_id}").click()
    return at.run()


def test_the_detail_dialog_shows_the_image_its_facts_and_a_download(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator, model_key="pro", count=2, seed=7, aspect_ratio="16:9"),
                   "a lighthouse at dawn")
    second = _by_index(entries(at), 1)
    at = _open(at, second.id)
    assert not at.exception
    dialogs = at.get("dialog")
    assert len(dialogs) == 1 and dialogs[0].proto.dialog.title == "Generation"
    dialog = dialogs[0]
    assert len(dialog.get("image")) == 1, "the full image"
    assert "a lighthouse at dawn" in [t.value for t in dialog.text], "the prompt, as plain text"
    table = dialog.dataframe[0].value
    facts = dict(zip(table["Detail"], table["Value"], strict=True))
    assert facts["Aspect ratio"] == "16:9" and facts["Resolution"] == "1K" and facts["Format"] == "PNG"
    assert facts["Pixels"] == "1376 × 768"
    assert facts["Seed"] == "8", "image 2 of a batch seeded 7 used seed 8"
    assert facts["Status"] == "ok" and facts["References"] == "0"
    assert facts["Model"] == "Nano Banana Pro (gemini-3-pro-image)"
    assert facts["Cost"] == f"${second.cost_usd:.4f} from recorded usage"
    assert facts["Estimated"] == f"${second.estimated_cost_usd:.4f} before sending"
    assert facts["Response id"] == second.response_id
    downloads = dialog.get("download_button")
    assert [d.label for d in downloads] == ["Download"] and downloads[0].key == f"detail_download_{second.id}"
    assert [b.label for b in dialog.button] == ["Edit", "Edit region", "Use as reference", "Reuse settings", "Re-run",
                                               "More like this", "Delete"]
    drawn = [e.type for e in _in_order(dialog)]
    assert drawn.index("image") < drawn.index("download_button") < drawn.index("button") < drawn.index("dataframe"), \
        "the actions right under the image, the facts after them (issue 22 item 7)"
    at.run()
    assert not at.get("dialog"), "the dialog closes on the next run"


def _in_order(node) -> list:
    children = getattr(node, "children", None)
    if not children:
        return [node]
    return [leaf for _, child in sorted(children.items()) for leaf in _in_order(child)]


def test_the_detail_says_random_for_a_seed_left_to_the_model(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator, seed=None), "a lighthouse, any seed")
    at = _open(at, entries(at)[0].id)
    table = at.get("dialog")[0].dataframe[0].value
    facts = dict(zip(table["Detail"], table["Value"], strict=True))
    assert facts["Seed"] == "random", "never 'None'"
    assert list(table.columns) == ["Detail", "Value"], "readable headers"


def test_use_as_reference_adds_the_image_to_the_references(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator), "a reference to be")
    entry = entries(at)[0]
    assert at.session_state["references"] == []
    at = _click_in_dialog(_open(at, entry.id), entry.id, "ref")
    assert not at.exception
    refs = at.session_state["references"]
    assert len(refs) == 1
    assert refs[0].name.endswith(f"-{entry.id[:8]}.png")
    assert Image.open(io.BytesIO(refs[0].data)).size == (refs[0].width, refs[0].height) == (1024, 1024)
    assert any(c.startswith("1 of 14 reference images") for c in _captions(at))
    assert not at.get("dialog"), "the page reruns with the dialog closed"


def test_reuse_settings_restores_the_prompt_and_the_sidebar(studio_app, emulator, entries) -> None:
    at = studio_app(emulator, model_key="pro", count=2, seed=41, aspect_ratio="21:9", image_size="2K",
                    output_format="JPEG", jpeg_quality=70, temperature=0.5, system_instruction="soft studio light")
    at = _generate(at, "a scooter in the rain")
    second = _by_index(entries(at), 1)
    at.text_area(key="prompt").input("something else entirely").run()
    at.selectbox(key="aspect_ratio").set_value("1:1").run()
    at.radio(key="image_size").set_value("1K").run()
    at.radio(key="output_format").set_value("PNG").run()
    at.number_input(key="seed").set_value(3).run()
    at.slider(key="temperature").set_value(1.5).run()
    at.text_area(key="system_instruction").input("").run()
    assert at.selectbox(key="aspect_ratio").value == "1:1"

    at = _click_in_dialog(_open(at, second.id), second.id, "reuse")
    assert not at.exception
    assert at.text_area(key="prompt").value == "a scooter in the rain"
    assert at.selectbox(key="aspect_ratio").value == "21:9"
    assert at.radio(key="image_size").value == "2K"
    assert at.radio(key="output_format").value == "JPEG"
    assert at.slider(key="jpeg_quality").value == 70
    assert at.number_input(key="seed").value == 42 == second.settings["seed"], "the image's own seed"
    assert at.slider(key="temperature").value == 0.5
    assert at.text_area(key="system_instruction").value == "soft studio light"
    assert at.selectbox(key="model_key").value == "pro"
    assert len(at.session_state["session_entry_ids"]) == 2, "restoring settings generates nothing"


def test_rerun_from_the_dialog_makes_one_image_with_the_images_own_seed(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator, count=3, seed=7), "three seeded boats")
    third = _by_index(entries(at), 2)
    assert third.settings["seed"] == 9
    at = _click_in_dialog(_open(at, third.id), third.id, "rerun")
    assert not at.exception
    ids = at.session_state["session_entry_ids"]
    assert len(ids) == 4, "one new image, not a batch of three"
    made = entries(at, ids[0])
    assert made is not None and made.id != third.id and made.status == "ok"
    assert made.settings["seed"] == third.settings["seed"] == 9, "re-run uses the image's own seed, not the base"
    assert made.settings["count"] == 1
    assert made.prompt == third.prompt and made.aspect_ratio == third.aspect_ratio
    assert made.parent_id == third.parent_id is None, "a re-run is the same prompt again, not a new version"
    assert _labels(at).count("Open") == 4


def test_delete_from_the_dialog_and_undo_on_the_history_page(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator, count=2), "two to keep, one to delete")
    doomed = _by_index(entries(at), 0)
    at = _click_in_dialog(_open(at, doomed.id), doomed.id, "delete")
    assert not at.exception
    open_keys = [b.key for b in at.button if b.label == "Open"]
    assert len(open_keys) == 1 and f"open_{doomed.id}" not in open_keys, "the card is gone"
    assert entries(at, doomed.id) is None and entries(at, doomed.id, deleted=True) is not None

    at.switch_page("app_pages/history.py").run()
    assert "1 entry" in _captions(at)
    assert "Undo delete (1)" in _labels(at)
    at.button(key="history_undo").click().run()
    assert not at.exception
    assert "2 entries" in _captions(at)
    assert not any(label.startswith("Undo delete") for label in _labels(at))
    assert entries(at, doomed.id) is not None

    at.switch_page("app_pages/generate.py").run()
    assert f"open_{doomed.id}" in [b.key for b in at.button if b.label == "Open"], "the card is back"


# ---- the History page ------------------------------------------------------------------------------------


def _history(at: AppTest) -> AppTest:
    """Go to History as the navigation link does.

    ``AppTest.switch_page`` makes every later run ask for that page again; a browser asks for the page
    the app is on, so after History's actions switch to Generate the next run stays there. An empty
    ``_page_hash`` is AppTest's own "stay on the page the previous run finished on".
    """
    at.session_state["history_view"] = "List"  # these tests work the table; the Gallery has its own tests
    at.switch_page("app_pages/history.py").run()
    at._page_hash = ""
    return at


def _select(at: AppTest, row: int) -> AppTest:
    at.session_state["history_table"] = {"selection": {"rows": [row]}}
    at.run()
    assert not at.exception
    return at


def _row_of(at: AppTest, entry_id: str, found: list[Entry]) -> int:
    """The table's row for an entry (the table is newest first, as the store lists them)."""
    return [e.id for e in found].index(entry_id)


def _on_generate(at: AppTest) -> bool:
    return [t.value for t in at.title] == ["Generate"]


def test_selecting_a_row_shows_the_entry_and_its_actions(studio_app, emulator, entries) -> None:
    at = _history(_generate(studio_app(emulator), "a selectable lighthouse"))
    assert "Select a row to see the entry, its JSON and its prompt versions." in _captions(at)
    assert "Restore prompt" not in _labels(at)
    at = _select(at, 0)
    entry = entries(at)[0]
    assert "a selectable lighthouse" in [t.value for t in at.text]
    for label in ("Restore prompt", "Restore everything", "Re-run", "☆ Favorite", "Delete", "Generate new version"):
        assert label in _labels(at)
    assert f"h_dl_{entry.id}" in [d.key for d in at.get("download_button")]
    assert len(at.json) == 3, "request, response and usage"


def test_restore_prompt_goes_to_generate_with_the_prompt(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator), "the prompt to restore")
    at.text_area(key="prompt").input("a newer idea").run()
    at = _select(_history(at), 0)
    entry = entries(at)[0]
    at.button(key=f"h_prompt_{entry.id}").click().run()
    assert not at.exception
    assert _on_generate(at)
    assert at.text_area(key="prompt").value == "the prompt to restore"
    assert len(at.session_state["session_entry_ids"]) == 1, "nothing is generated"


def test_restore_prompt_keeps_the_sidebar_settings_and_the_private_session(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.toggle(key="private_session").set_value(True).run()
    at.selectbox(key="aspect_ratio").set_value("16:9").run()
    at.slider(key="count").set_value(2).run()
    at = _generate(at, "the prompt to restore")
    at.text_area(key="prompt").input("a newer idea").run()
    at.selectbox(key="aspect_ratio").set_value("4:3").run()
    at = _select(_history(at), 0)
    entry_id = next(b.key for b in at.button if b.label == "Restore prompt").removeprefix("h_prompt_")
    at.button(key=f"h_prompt_{entry_id}").click().run()
    assert _on_generate(at) and at.text_area(key="prompt").value == "the prompt to restore"
    assert at.selectbox(key="aspect_ratio").value == "4:3", "only the prompt is restored"
    assert at.slider(key="count").value == 2
    assert _labels(at).count("Open") == 2, "the private session's two images are still in the grid"
    assert at.toggle(key="private_session").value is True, "the session stays private"


def test_restore_everything_brings_back_settings_and_references(studio_app, emulator, entries) -> None:
    at = studio_app(emulator, aspect_ratio="4:3", output_format="JPEG", seed=5, temperature=0.25)
    at.file_uploader(key="reference_uploader_0").set_value([("ref.png", _png("gold"), "image/png")]).run()
    at = _generate(at, "everything comes back")
    at.button(key="refs_clear_all").click().run()
    assert at.session_state["references"] == []
    at.text_area(key="prompt").input("other").run()
    at.selectbox(key="aspect_ratio").set_value("1:1").run()
    at.radio(key="output_format").set_value("PNG").run()
    at.number_input(key="seed").set_value(None).run()
    at.slider(key="temperature").set_value(1.0).run()
    at = _select(_history(at), 0)
    entry = entries(at)[0]
    at.button(key=f"h_all_{entry.id}").click().run()
    assert not at.exception
    assert _on_generate(at)
    assert at.text_area(key="prompt").value == "everything comes back"
    assert at.selectbox(key="aspect_ratio").value == "4:3"
    assert at.radio(key="output_format").value == "JPEG"
    assert at.number_input(key="seed").value == 5
    assert at.slider(key="temperature").value == 0.25
    refs = at.session_state["references"]
    assert len(refs) == 1 and refs[0].name == "ref.png"
    assert len(at.session_state["session_entry_ids"]) == 1, "nothing is generated"


def test_rerun_on_history_makes_one_image_with_the_images_own_seed(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator, count=2, seed=100), "two seeded kites")
    found = entries(at)
    second = _by_index(found, 1)
    at = _select(_history(at), _row_of(at, second.id, found))
    at.button(key=f"h_rerun_{second.id}").click().run()
    assert not at.exception
    assert _on_generate(at)
    ids = at.session_state["session_entry_ids"]
    assert len(ids) == 3
    made = entries(at, ids[0])
    assert made is not None and made.status == "ok" and made.prompt == "two seeded kites"
    assert made.settings["seed"] == second.settings["seed"] == 101
    assert made.settings["count"] == 1
    assert made.parent_id == second.parent_id is None


def test_retry_on_a_failed_entry_is_a_retry_not_a_new_version(studio_app, emulator, entries) -> None:
    prompt = f"a blocked fox {BLOCKED}"
    at = _generate(studio_app(emulator), prompt)
    failed = entries(at)[0]
    assert failed.status == "blocked" and failed.parent_id is None
    at = _select(_history(at), 0)
    assert "Restore prompt" in _labels(at), "a failed entry keeps its actions"
    at.button(key=f"h_retry_{failed.id}").click().run()
    assert not at.exception
    assert _on_generate(at)
    found = entries(at)
    assert len(found) == 2
    retried = found[0]
    assert retried.id != failed.id and retried.prompt == prompt and retried.status == "blocked"
    assert retried.parent_id is None, "a retry of a first version is still a first version"
    at = _select(_history(at), 0)
    assert not any(m.value.startswith("**Prompt versions**") for m in at.markdown), "no versions to show"


def test_retry_of_a_failed_new_version_keeps_its_parent(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator), "a calm fox")
    original = entries(at)[0]
    at = _select(_history(at), 0)
    at.text_area(key=f"h_new_{original.id}").input(f"a calm fox, blocked {BLOCKED}")
    next(b for b in at.button if b.label == "Generate new version").click().run()
    at.button(key="generate").click().run()
    version = entries(at)[0]
    assert version.status == "blocked" and version.parent_id == original.id
    at = _select(_history(at), 0)
    at.button(key=f"h_retry_{version.id}").click().run()
    assert not at.exception
    retried = entries(at)[0]
    assert retried.id not in (original.id, version.id)
    assert retried.parent_id == version.parent_id == original.id, "the retry is not a version of the failure"


def test_retry_from_a_failed_card_on_generate_keeps_the_parent(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator), f"a blocked owl {BLOCKED}")
    failed = entries(at)[0]
    at.button(key=f"retry_{failed.id}").click().run()
    assert not at.exception
    ids = at.session_state["session_entry_ids"]
    assert len(ids) == 2
    retried = entries(at, ids[0])
    assert retried is not None and retried.prompt == failed.prompt and retried.parent_id is None


def test_favorite_and_unfavorite(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator, count=2), "two pears")
    found = entries(at)
    target = found[1]
    at = _select(_history(at), 1)
    at.button(key=f"h_fav_{target.id}").click().run()
    assert not at.exception
    assert at.button(key=f"h_fav_{target.id}").label == "★ Unfavorite"
    assert entries(at, target.id).favorite is True
    assert sorted(at.dataframe[0].value["status"]) == ["ok", "★ ok"]
    at.toggle(key="history_favorites").set_value(True).run()
    assert "1 entry" in _captions(at)
    assert list(at.dataframe[0].value["prompt"]) == ["two pears"] and len(at.dataframe[0].value) == 1
    at.toggle(key="history_favorites").set_value(False).run()
    at = _select(at, 1)
    at.button(key=f"h_fav_{target.id}").click().run()
    assert at.button(key=f"h_fav_{target.id}").label == "☆ Favorite"
    assert entries(at, target.id).favorite is False
    assert list(at.dataframe[0].value["status"]) == ["ok", "ok"]


def test_delete_and_undo_on_the_history_page(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator, count=2), "two plums")
    doomed = entries(at)[0]
    at = _select(_history(at), 0)
    assert "2 entries" in _captions(at)
    at.button(key=f"h_del_{doomed.id}").click().run()
    assert not at.exception
    assert "1 entry" in _captions(at)
    assert len(at.dataframe[0].value) == 1
    assert entries(at, doomed.id) is None
    assert "Undo delete (1)" in _labels(at)
    at.button(key="history_undo").click().run()
    assert "2 entries" in _captions(at)
    assert len(at.dataframe[0].value) == 2
    assert entries(at, doomed.id) is not None
    assert not any(label.startswith("Undo delete") for label in _labels(at))


def test_generate_new_version_records_the_original_as_parent(studio_app, emulator, entries) -> None:
    at = _generate(studio_app(emulator, aspect_ratio="3:2"), "a red bicycle")
    original = entries(at)[0]
    at = _select(_history(at), 0)
    assert at.text_area(key=f"h_new_{original.id}").value == "a red bicycle"
    at.text_area(key=f"h_new_{original.id}").input("a blue bicycle")
    next(b for b in at.button if b.label == "Generate new version").click().run()
    assert not at.exception
    assert _on_generate(at)
    assert at.text_area(key="prompt").value == "a blue bicycle"
    assert at.selectbox(key="aspect_ratio").value == "3:2", "the original's settings come along"
    assert "This will be saved as a new version of an earlier prompt." in _captions(at)
    assert len(at.session_state["session_entry_ids"]) == 1, "nothing is sent before Generate"
    at.button(key="generate").click().run()
    version = entries(at)[0]
    assert version.prompt == "a blue bicycle" and version.parent_id == original.id
    at = _select(_history(at), 0)
    assert any(m.value.startswith("**Prompt versions** · version 2 of this line") for m in at.markdown)
    assert "Changes from the previous version" in _captions(at)


def test_status_filter_and_the_entries_caption(studio_app, emulator) -> None:
    at = _generate(studio_app(emulator, count=2), "two good apples")
    at.slider(key="count").set_value(1).run()
    at = _history(_generate(at, f"a bad apple {BLOCKED}"))
    assert "3 entries" in _captions(at)
    assert "1 blocked · 2 ok" in _captions(at)
    at.multiselect(key="history_status").set_value(["blocked"]).run()
    assert "1 entry" in _captions(at)
    assert list(at.dataframe[0].value["status"]) == ["blocked"]
    at.multiselect(key="history_status").set_value(["ok"]).run()
    assert "2 entries" in _captions(at)
    assert list(at.dataframe[0].value["status"]) == ["ok", "ok"]
    at.multiselect(key="history_status").set_value(["cancelled"]).run()
    assert "0 entries" in _captions(at)
    assert not at.dataframe
    at.multiselect(key="history_status").set_value([]).run()
    assert "3 entries" in _captions(at)
    assert len(at.dataframe[0].value) == 3


def test_a_filter_that_matches_nothing_says_so(studio_app, emulator) -> None:
    at = _history(_generate(studio_app(emulator), "one good apple"))
    at.multiselect(key="history_status").set_value(["cancelled"]).run()
    assert "0 entries" in _captions(at)
    infos = [i.value for i in at.info]
    assert "No entry matches these filters." in infos and "Nothing here yet." not in infos
