"""The History page: table, filters, search, and isolation by identity."""

from __future__ import annotations

from pathlib import Path

from studio.history import HistoryStore
from tests.history.conftest import failed_result, make_request, ok_result


def _seed(data_dir: Path, namespace: str = "key:irrelevant") -> None:
    store = HistoryStore.open(data_dir=data_dir)
    for i in range(6):
        request = make_request(prompt=f"banana {i}" if i % 2 else f"<script>alert({i})</script> kiwi")
        result = ok_result(request) if i != 5 else failed_result()
        store.record_attempt(namespace, request, result, batch_id="b")
    store.close()


def _history(studio_app, emulator):
    at = studio_app(emulator)
    at.session_state["history_view"] = "List"  # these tests work the table; the Gallery has its own tests
    return at.switch_page("app_pages/history.py").run()


def test_history_lists_this_identitys_entries(studio_app, emulator, isolated_studio) -> None:
    at = _history(studio_app, emulator)
    namespace = at.session_state["connection"]  # resolve the namespace the app uses for this key
    from studio.history import namespace_for

    _seed(isolated_studio, namespace_for(namespace, isolated_studio))
    _seed(isolated_studio, "google:someone-else")
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 6
    assert "<script>alert(0)</script> kiwi" in list(table["prompt"]), "prompts are data, shown as text"
    assert any("6 entries" in c.value for c in at.caption)


def test_search_and_status_filters(studio_app, emulator, isolated_studio) -> None:
    at = _history(studio_app, emulator)
    from studio.history import namespace_for

    _seed(isolated_studio, namespace_for(at.session_state["connection"], isolated_studio))
    at.text_input(key="history_query").input("banana").run()
    assert len(at.dataframe[0].value) == 3
    at.text_input(key="history_query").input("").run()
    at.multiselect(key="history_status").set_value(["blocked"]).run()
    assert list(at.dataframe[0].value["status"]) == ["blocked"]


def test_empty_history_says_so(studio_app, emulator) -> None:
    at = _history(studio_app, emulator)
    assert any("Nothing here yet" in i.value for i in at.info)


def test_history_says_when_this_host_wipes_it(studio_app, emulator, monkeypatch) -> None:
    monkeypatch.setenv("STUDIO_EPHEMERAL_DISK", "1")
    at = studio_app(emulator)
    at.switch_page("app_pages/history.py").run()
    assert any("wipes on a reboot" in w.value for w in at.warning)
    monkeypatch.setenv("STUDIO_EPHEMERAL_DISK", "0")
    at.run()
    assert not any("wipes on a reboot" in w.value for w in at.warning)


def test_an_empty_history_imports_a_studio_zip(studio_app, emulator, tmp_path: Path) -> None:
    """A person arriving with an export from another studio starts with an empty History: import is there."""
    elsewhere = HistoryStore.open(data_dir=tmp_path / "another-studio")
    request = make_request(prompt="a lighthouse from another studio")
    elsewhere.record_attempt("local", request, ok_result(request), batch_id="b")
    archive = elsewhere.export_zip("local")
    elsewhere.close()
    at = _history(studio_app, emulator)
    assert any("Nothing here yet" in i.value for i in at.info)
    at.file_uploader(key="import_zip").set_value([("history.zip", archive, "application/zip")]).run()
    at.button(key="import_go").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Imported 1 entries."]
    # the same run already lists it: no second click (issue 22 item 4)
    assert any(c.value == "1 entry" for c in at.caption), [c.value for c in at.caption]
    assert not any("Nothing here yet" in i.value for i in at.info)
    assert list(at.dataframe[0].value["prompt"]) == ["a lighthouse from another studio"]
    assert list(at.dataframe[0].value["status"]) == ["🆕 ok"], "the new row is marked"
    uploaders = at.get("file_uploader")
    assert len(uploaders) == 1 and not uploaders[0].value, "the uploader is cleared"  # type: ignore[attr-defined]
    at.run()
    assert not at.success, "the notice shows once"


def _gallery(studio_app, emulator, isolated_studio: Path):
    at = studio_app(emulator)
    at.switch_page("app_pages/history.py").run()
    from studio.history import namespace_for

    _seed(isolated_studio, namespace_for(at.session_state["connection"], isolated_studio))
    return at.run()


def test_history_opens_as_a_gallery_of_tiles(studio_app, emulator, isolated_studio) -> None:
    """Issue 22 item 4: tiles with the thumbnail, a click opens the entry; favorite, download and edit on each."""
    at = _gallery(studio_app, emulator, isolated_studio)
    assert not at.exception and not at.dataframe, "the first view is the gallery, not the table"
    assert at.session_state["history_view"] == "Gallery"
    opens = [b for b in at.button if (b.key or "").startswith("h_open_")]
    assert len(opens) == 6 and any(c.value == "6 entries" for c in at.caption)
    assert len(at.get("image")) == 5, "a thumbnail on each tile with an image (the failed one has none)"
    assert len([b for b in at.button if (b.key or "").startswith("h_tile_edit_")]) == 5
    assert len([d for d in at.get("download_button") if (d.key or "").startswith("h_tile_dl_")]) == 5
    assert sum("kiwi" in b.label for b in opens) == 3, "the prompt on each tile"
    entry_id = opens[1].key.removeprefix("h_open_")
    at.button(key=f"h_tile_fav_{entry_id}").click().run()
    assert at.button(key=f"h_tile_fav_{entry_id}").label == "★", "favorite straight from the tile"
    at.button(key=f"h_open_{entry_id}").click().run()
    assert not at.exception
    labels = [b.label for b in at.button]
    for label in ("Close", "Restore prompt", "Re-run", "★ Unfavorite", "Delete", "Edit"):
        assert label in labels
    assert len(at.json) == 3, "request, response and usage JSON of the opened entry"
    keys = [b.key for b in at.button]
    assert keys.index("history_close") < keys.index(opens[0].key), "the opened entry is above the tiles"
    at.button(key="history_close").click().run()
    assert "Restore prompt" not in [b.label for b in at.button]


def test_the_list_view_says_running_and_shows_cost_and_lane(studio_app, emulator, isolated_studio) -> None:
    """The List: readable headers in one case, cost and lane early, ⏳ (never None) while an image is made."""
    from studio.history import namespace_for

    at = _gallery(studio_app, emulator, isolated_studio)
    store = HistoryStore.open(data_dir=isolated_studio)
    try:
        namespace = namespace_for(at.session_state["connection"], isolated_studio)
        store.start_entry(namespace, make_request(prompt="still baking"), 0, batch_id="r")
    finally:
        store.close()
    at.segmented_control(key="history_view").set_value("List").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns)[:5] == ["thumbnail", "time", "status", "cost ($)", "lane"]
    assert set(table["lane"]) == {"now"}
    running = list(table["prompt"]).index("still baking")
    assert table["cost ($)"][running] == "⏳" and table["duration (s)"][running] == "⏳"
    assert all(str(c).startswith("$") for i, c in enumerate(table["cost ($)"]) if i != running)
    assert "None" not in {str(v) for column in ("cost ($)", "duration (s)") for v in table[column]}
    config = at.dataframe[0].proto.columns  # type: ignore[attr-defined]
    assert "Status" in config and "Lane" in config and "Cost" in config and "Duration (s)" in config
