"""Anonymous visitors in two sessions of one server: the server's key, History, jobs and cancel stay apart.

Each AppTest is one browser session in one process (the store and the job runner are shared, as on a
server). A browser's cookie cannot be seeded here (``AppTest.context`` has no cookies): the reload of the
same browser is tests/browser/test_isolation.py's.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components import services
from components.browser_id import cookie_name
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore
from studio.history.namespaces import is_browser_id
from tests.conftest import TEST_KEY

from .conftest import APP, drawn, settling

PER_BROWSER = "This History belongs to this browser."


def _visitor(team: dict | None = None, settled: bool = True) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if settled:
        settling(at)
    if team is not None:
        at.secrets["team"] = team
    return at.run()


def _with_server_key(at: AppTest) -> AppTest:
    at.button(key="use_configured_key").click().run()
    assert not at.exception, at.exception
    return at


def _history(at: AppTest) -> str:
    return " ".join(drawn(at.switch_page("app_pages/history.py").run()))


def _namespace(at: AppTest) -> str:
    return at.session_state["history_namespace"][1]


@pytest.fixture
def server_key(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", TEST_KEY)
    monkeypatch.setenv("STUDIO_GEMINI_BASE_URL", emulator.base_url)
    monkeypatch.setenv("STUDIO_SERVER_KEY_FOR", "everyone")
    monkeypatch.delenv("STUDIO_SHARED_HISTORY", raising=False)


def test_two_visitors_with_the_servers_key_have_two_histories(server_key: None, isolated_studio) -> None:
    a = _with_server_key(_visitor())
    connection = a.session_state["connection"]
    assert connection.shared_key and connection.api_key == TEST_KEY and not connection.google_subject
    a.text_area(key="prompt").input("visitor A's lighthouse")
    a.button(key="generate").click().run()
    assert "1 entry" in _history(a) and PER_BROWSER in _history(a)
    assert is_browser_id(a.session_state["browser_id"]) and _namespace(a).startswith("browser:")

    b = _with_server_key(_visitor())
    seen_by_b = _history(b)
    assert "Nothing here yet." in seen_by_b and "lighthouse" not in seen_by_b and PER_BROWSER in seen_by_b
    assert _namespace(b) != _namespace(a)
    store = HistoryStore.open(data_dir=isolated_studio)
    try:
        assert store.count_entries(_namespace(a)) == 1 and store.count_entries(_namespace(b)) == 0
    finally:
        store.close()


def test_jobs_and_cancel_follow_the_browser(server_key: None) -> None:
    a = _with_server_key(_visitor(settled=False))
    a.text_area(key="prompt").input("a slow harbour [[fault:slow=30]]")
    a.button(key="generate").click().run()
    b = _with_server_key(_visitor(settled=False))
    runner = services.get_runner()
    (job,) = runner.jobs_for(_namespace(a))
    try:
        assert runner.jobs_for(_namespace(b)) == [], "B's live panel never shows A's job"
        assert runner.cancel(job.id, namespace=_namespace(b)) == 0, "nor can B cancel it"
        assert "Cancel job" not in " ".join(drawn(b.run()))
    finally:
        assert runner.cancel(job.id, namespace=_namespace(a)) == 1


def test_offline_visitors_too_unless_the_operator_shares_one_history(isolated_studio,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_EMULATOR_LATENCY", "0")
    monkeypatch.delenv("STUDIO_SHARED_HISTORY", raising=False)
    first, second = _visitor(), _visitor()
    for at in (first, second):
        at.button(key="try_offline").click().run()
    assert _namespace(first) != _namespace(second)
    assert PER_BROWSER in _history(first)

    shared = [_visitor({"shared_history": True}) for _ in range(2)]
    for at in shared:
        at.button(key="try_offline").click().run()
    assert _namespace(shared[0]) == _namespace(shared[1]) == "local"
    seen = _history(shared[0])
    assert "This History is shared." in seen and PER_BROWSER not in seen


def test_people_with_their_own_key_see_no_browser_note(studio_app, emulator: EmulatorServer) -> None:
    at = studio_app(emulator)
    assert PER_BROWSER not in _history(at)


def test_a_shared_history_setting_that_is_neither_true_nor_false_stops_the_studio() -> None:
    at = _visitor({"shared_history": "sometimes"})
    assert any("shared_history must be true or false" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "try_offline"], "nobody gets in on a guess"


def test_over_https_only_a_cookie_this_host_set_is_read() -> None:
    """A sibling site under the same parent domain can set ``studio_browser_id`` for it, never ``__Host-…``."""
    assert cookie_name("https://studio.example.com/history") == "__Host-studio_browser_id"
    assert cookie_name("HTTPS://studio.example.com") == "__Host-studio_browser_id"
    assert cookie_name("http://127.0.0.1:8501/") == cookie_name(None) == "studio_browser_id"
