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
    at.run()
    assert list(at.dataframe[0].value["prompt"]) == ["a lighthouse from another studio"]
