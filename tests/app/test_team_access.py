"""Who may use a shared link: the [team] gate, the Welcome page's offers, the server key and the spend cap.

The gate asks the provider's userinfo endpoint whether the email is verified; here that is a small
real HTTP server on loopback that answers for the test's bearer tokens.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from studio.credentials import Connection
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore, namespace_for
from studio.request import GenerationRequest

from .conftest import APP, drawn, settling

TEAM = {"allowed_domains": ["example.com"], "allowed_emails": ["guest@partner.org"]}
REFUSAL_TITLE = "🔒 This studio is for its team"
TOKEN = "test-token"  # the emulator accepts it as a bearer token (tests/conftest.py)


class Userinfo:
    """A userinfo endpoint: bearer token → claims; counts the questions it was asked."""

    def __init__(self) -> None:
        self.claims: dict[str, dict[str, Any]] = {}
        self.asked = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.asked += 1
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                claims = owner.claims.get(token)
                body = json.dumps(claims or {"error": "invalid_token"}).encode()
                self.send_response(200 if claims else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/userinfo"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def person(self, email: str, *, subject: str | None = None, verified: Any = True,
               emulator: EmulatorServer | None = None) -> Connection:
        """A Google connection for ``email`` whose token the endpoint knows."""
        subject = subject or f"sub-{email}"
        self.claims[TOKEN] = {"sub": subject, "email": email, "email_verified": verified}
        return Connection(mode="oauth", access_token=TOKEN, subject=subject, email=email,
                          base_url=emulator.base_url if emulator else None)

    def oauth_section(self) -> dict[str, str]:
        return {"client_id": "studio-test-client", "client_secret": "studio-test-secret",
                "userinfo_url": self.url, "revoke_url": ""}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def userinfo() -> Iterator[Userinfo]:
    server = Userinfo()
    yield server
    server.close()


@pytest.fixture
def team_app(userinfo: Userinfo) -> Callable[..., AppTest]:
    """The whole app with ``[team]`` (and ``[oauth]`` pointing at the userinfo server) in its secrets."""

    def make(team: dict[str, Any] | None = None, connection: Connection | None = None,
             secrets: dict[str, Any] | None = None, script: Callable[[], None] | None = None,
             oauth: bool = True) -> AppTest:
        at = AppTest.from_function(script, default_timeout=60) if script else AppTest.from_file(APP, default_timeout=60)
        settling(at)
        if oauth:
            at.secrets["oauth"] = userinfo.oauth_section()
        if team is not None:
            at.secrets["team"] = team
        for name, value in (secrets or {}).items():
            at.secrets[name] = value
        if connection is not None:
            at.session_state["connection"] = connection
        if connection is not None and connection.mode == "oauth":  # a fresh token, as after a sign-in
            at.session_state["oauth_token"] = {"access_token": connection.access_token, "token_type": "Bearer",
                                               "expires_at": int(time.time()) + 3600}
        return at.run()

    return make


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [w.value for w in at.warning] + [i.value for i in at.info]
    parts += [e.value for e in at.error] + [c.value for c in at.caption] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)


def _is_refused(at: AppTest) -> bool:
    return bool(at.title) and at.title[0].value == REFUSAL_TITLE


# ---- the gate -----------------------------------------------------------------------------------


def test_allowed_domain_gets_in_and_generates(team_app, userinfo: Userinfo, emulator: EmulatorServer) -> None:
    at = team_app(TEAM, userinfo.person("Ann@Example.com", emulator=emulator))
    assert not at.exception, at.exception
    assert at.title[0].value == "Generate" and not _is_refused(at)
    at.text_area(key="prompt").input("a lighthouse at dawn")
    at.button(key="generate").click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["session_entry_ids"]) == 1
    assert "Open" in [b.label for b in at.button], "the image was made for the allowed person"
    assert userinfo.asked == 1, "the provider is asked once per person, not on every run"


def test_allowed_email_gets_in(team_app, userinfo: Userinfo) -> None:
    at = team_app(TEAM, userinfo.person("guest@partner.org"))
    assert not at.exception, at.exception
    assert at.title[0].value == "Generate"
    at.switch_page("app_pages/history.py").run()
    assert not at.exception and at.title[0].value != REFUSAL_TITLE


def test_someone_else_gets_the_refusal_page(team_app, userinfo: Userinfo) -> None:
    at = team_app({**TEAM, "contact": "studio-admins@example.com"}, userinfo.person("eve@elsewhere.net"))
    assert not at.exception, at.exception
    assert _is_refused(at)
    text = _texts(at)
    assert "eve@elsewhere.net" in text
    assert "**example.com**" in text and "guest@partner.org" not in text, "domains are named, emails are not"
    assert "studio-admins@example.com" in text, "how to ask for access"
    assert "generate" not in [b.key for b in at.button] and "Prompt" not in [t.label for t in at.text_area]
    at.button(key="team_sign_out").click().run()
    assert "connection" not in at.session_state
    assert at.title[0].value.startswith("🍌 Nano Banana Pro studio")


def test_a_list_added_while_someone_is_on_a_page_refuses_them_there(team_app, userinfo: Userinfo) -> None:
    at = team_app(None, userinfo.person("eve@elsewhere.net"))
    at.switch_page("app_pages/history.py").run()
    assert at.title[0].value == "History"
    at.secrets["team"] = TEAM  # the owner edits the secrets; the next run of every session obeys
    at.run()
    assert _is_refused(at) and not at.text_area and not at.text_input, "no way round the gate by page"


def test_an_unverified_email_on_the_list_is_refused(team_app, userinfo: Userinfo) -> None:
    at = team_app(TEAM, userinfo.person("ann@example.com", verified=False))
    assert _is_refused(at)
    assert "has not verified this email" in _texts(at)


def test_a_userinfo_answer_for_another_subject_is_refused(team_app, userinfo: Userinfo) -> None:
    connection = userinfo.person("ann@example.com")
    userinfo.claims[TOKEN]["sub"] = "someone-else"
    at = team_app(TEAM, connection)
    assert _is_refused(at) and "did not match this sign-in" in _texts(at)


@pytest.mark.parametrize(("connection", "named"), [
    (Connection(mode="api_key", api_key="AIza-team-test-key"), "a Gemini API key"),
    (Connection(mode="offline", api_key="offline", base_url="http://127.0.0.1:9"), "the offline emulator"),
])
def test_keys_and_the_emulator_are_refused_with_a_list(team_app, connection: Connection, named: str) -> None:
    at = team_app(TEAM, connection)
    assert not at.exception, at.exception
    assert _is_refused(at)
    text = _texts(at)
    assert named in text and "AIza-team-test-key" not in text
    assert "allowed_emails" in text, "without a contact: ask the person who shared the link"


def test_without_a_list_nothing_changes(team_app) -> None:
    at = team_app(None, Connection(mode="api_key", api_key="AIza-team-test-key"))
    assert at.title[0].value == "Generate"


def test_welcome_offers_only_google_sign_in_with_a_list(team_app) -> None:
    at = team_app(TEAM)
    assert not at.exception, at.exception
    assert "limited to its team" in _texts(at) and "**example.com**" in _texts(at)
    assert "api_key_input" not in [t.key for t in at.text_input]
    assert "Try offline" not in [b.label for b in at.button]
    assert len(at.get("component_instance")) == 1, "the Sign in with Google button"


def test_a_list_without_google_sign_in_says_nobody_can_get_in(team_app) -> None:
    at = team_app(TEAM, oauth=False)
    assert not at.exception, at.exception
    assert any("nobody can get in" in e.value for e in at.error)
    assert "Meanwhile you can connect with a Gemini API key" not in _texts(at), "no offer that does not exist"
    assert "api_key_input" not in [t.key for t in at.text_input] and "Try offline" not in [b.label for b in at.button]


def test_a_malformed_team_section_stops_the_studio(team_app) -> None:
    at = team_app({"allowed_domains": ["me@example.com"]})
    assert not at.exception
    assert any("team settings cannot be read" in e.value for e in at.error)
    assert not at.text_input and not at.button, "nothing else is offered"


# ---- the server key -----------------------------------------------------------------------------


def _server_key_button(at: AppTest) -> bool:
    return "use_configured_key" in [b.key for b in at.button]


def test_server_key_is_hidden_on_a_shared_link(team_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.delenv("STUDIO_SERVER_KEY_FOR", raising=False)
    at = team_app(None)
    assert "api_key_input" in [t.key for t in at.text_input], "the key form is there"
    assert not _server_key_button(at), "a browser not on localhost is not offered the owner's key"


@pytest.mark.parametrize("how", ["secrets", "env"])
def test_server_key_for_everyone(team_app, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer,
                                 how: str) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.setenv("STUDIO_GEMINI_BASE_URL", emulator.base_url)
    if how == "env":
        monkeypatch.setenv("STUDIO_SERVER_KEY_FOR", "everyone")
    at = team_app({"server_key_for": "everyone"} if how == "secrets" else None)
    assert _server_key_button(at)
    at.button(key="use_configured_key").click().run()
    assert not at.exception, at.exception
    assert at.session_state["connection"].mode == "api_key" and at.title[0].value == "Generate"


def test_no_server_key_no_button(team_app, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    at = team_app({"server_key_for": "everyone"})
    assert not _server_key_button(at)


def test_server_key_with_a_list_is_hidden_on_welcome(team_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    at = team_app({**TEAM, "server_key_for": "everyone"})
    assert not _server_key_button(at), "not signed in: no key, even with everyone"


def _key_form_script() -> None:
    from components import connect

    connect.render_api_key_form()


@pytest.mark.parametrize(("email", "offered"), [("ann@example.com", True), ("eve@elsewhere.net", False)])
def test_server_key_with_a_list_is_for_allowed_signed_in_people(team_app, userinfo: Userinfo,
                                                                monkeypatch: pytest.MonkeyPatch, email: str,
                                                                offered: bool) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    at = team_app(TEAM, userinfo.person(email), script=_key_form_script)
    assert not at.exception, at.exception
    assert _server_key_button(at) is offered


# ---- the server key, keeping a Google identity (Account page) ----------------------------------------


OWNER_KEY = "AIzaSyOWNERSERVERKEY0123456789abcdefgh"  # looks like a real key, so a leak of it would be found


def _owner_key_studio(monkeypatch: pytest.MonkeyPatch, fresh_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    emulator = fresh_emulator(api_keys=frozenset({OWNER_KEY}), bearer_tokens=frozenset({TOKEN}))
    monkeypatch.setenv("GEMINI_API_KEY", OWNER_KEY)
    monkeypatch.setenv("STUDIO_GEMINI_BASE_URL", emulator.base_url)
    return emulator


def test_a_team_member_uses_the_server_key_and_stays_themselves(
        team_app, userinfo: Userinfo, fresh_emulator, monkeypatch: pytest.MonkeyPatch, isolated_studio: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """Signed in with Google and on the list: the Account page switches to the owner's key; History, the team
    check and the name on the page stay the Google account's, and the key is never drawn or logged."""
    caplog.set_level(logging.DEBUG)
    emulator = _owner_key_studio(monkeypatch, fresh_emulator)
    at = team_app(TEAM, userinfo.person("ann@example.com", subject="ann-subject", emulator=emulator))
    at.switch_page("app_pages/account.py").run()
    assert not at.exception, at.exception
    assert "account_back_to_google" not in [b.key for b in at.button]
    asked = userinfo.asked
    at.button(key="account_use_server_key").click().run()
    assert not at.exception, at.exception

    connection = at.session_state["connection"]
    assert connection.mode == "api_key" and connection.server_key and connection.api_key == OWNER_KEY
    assert (connection.subject, connection.email, connection.email_verified) == ("ann-subject", "ann@example.com",
                                                                                 True)
    assert at.session_state["oauth_token"]["access_token"] == TOKEN, "the Google sign-in is kept for the way back"
    text = _texts(at)
    assert "The key configured on this server, with your Google sign-in" in text and "ann@example.com" in text
    assert "account_back_to_google" in [b.key for b in at.button]
    assert "account_sign_out" in [b.key for b in at.button] and any(
        b.label == "Sign out of Google" for b in at.button)
    views = drawn(at)
    assert any("ann@example.com" in view for view in views), "the scan reads what was drawn"

    at.switch_page("app_pages/generate.py").run()  # the gate lets the same person in, without asking Google again
    assert not at.exception and not _is_refused(at) and at.title[0].value == "Generate"
    at.text_area(key="prompt").input("a lighthouse on the owner's key")
    at.button(key="generate").click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["session_entry_ids"]) == 1
    assert "Open" in [b.label for b in at.button], "the image was made with the server's key"
    assert userinfo.asked == asked, "the carried email check is used, not the provider"
    views += drawn(at)

    store = HistoryStore.open(data_dir=isolated_studio)
    try:
        assert namespace_for(connection, isolated_studio) == "google:ann-subject"
        assert store.count_entries("google:ann-subject") == 1, "History is the Google identity's"
        key_namespace = namespace_for(Connection(mode="api_key", api_key=OWNER_KEY), isolated_studio)
        assert store.count_entries(key_namespace) == 0, "nothing is filed under the owner's key"
    finally:
        store.close()

    at.switch_page("app_pages/account.py").run()
    views += drawn(at)
    at.button(key="account_back_to_google").click().run()
    back = at.session_state["connection"]
    assert back.mode == "oauth" and back.access_token == TOKEN and back.api_key is None and not back.server_key
    assert back.subject == "ann-subject"
    views += drawn(at)
    for view in [*views, repr(connection), str(connection), caplog.text]:
        assert OWNER_KEY not in view


def _use_server_key_script() -> None:
    """The click's own check, without the page around it (someone who forged the button's message)."""
    import streamlit as st

    from components import connect

    try:
        connect.use_server_key()
    except ValueError as exc:
        st.error(str(exc))


def test_someone_off_the_list_cannot_use_the_server_key(team_app, userinfo: Userinfo, fresh_emulator,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = _owner_key_studio(monkeypatch, fresh_emulator)
    eve = userinfo.person("eve@elsewhere.net", emulator=emulator)
    at = team_app(TEAM, eve)
    assert _is_refused(at) and "account_use_server_key" not in [b.key for b in at.button], \
        "the refusal page is the only page: no Account page, no key"
    at = team_app(TEAM, eve, script=_use_server_key_script)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["The key configured on this server is not offered to you."]
    assert at.session_state["connection"] == eve, "still connected as before, with no key"


def test_without_a_list_a_google_sign_in_gets_the_server_key_only_when_the_deployment_says_everyone(
        team_app, userinfo: Userinfo, fresh_emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = _owner_key_studio(monkeypatch, fresh_emulator)
    monkeypatch.delenv("STUDIO_SERVER_KEY_FOR", raising=False)
    ann = userinfo.person("ann@example.com", subject="ann-subject", emulator=emulator)
    at = team_app(None, ann)
    at.switch_page("app_pages/account.py").run()
    assert not at.exception and "account_use_server_key" not in [b.key for b in at.button], "not on localhost"
    at = team_app({"server_key_for": "everyone"}, ann)
    at.switch_page("app_pages/account.py").run()
    at.button(key="account_use_server_key").click().run()
    assert not at.exception, at.exception
    assert at.session_state["connection"].server_key
    assert namespace_for(at.session_state["connection"], Path("/nonexistent")) == "google:ann-subject"


# ---- the daily spend cap -------------------------------------------------------------------------


REQUEST = GenerationRequest(prompt="a lighthouse", model_id="gemini-3-pro-image", image_size="1K", count=1)


def _spend_script() -> None:
    import streamlit as st

    from components import team

    request = st.session_state["request"]
    st.write("SUBMITTED" if team.check_spend(request) else "REFUSED")


def _seed(data_dir: Path, connection: Connection, count: int) -> float:
    """``count`` images started today for this person; returns one image's estimate."""
    store = HistoryStore.open(data_dir=data_dir)
    try:
        namespace = namespace_for(connection, data_dir)
        for index in range(count):
            store.start_entry(namespace, REQUEST, index, batch_id="earlier")
        store.start_entry("google:someone-else", REQUEST, 0, batch_id="theirs")
        return store.catalogue.resolve(REQUEST.model_id).estimate_cost("1K", 1)
    finally:
        store.close()


def _spend_app(connection: Connection, cap: float, request: GenerationRequest = REQUEST) -> AppTest:
    at = AppTest.from_function(_spend_script, default_timeout=60)
    at.secrets["team"] = {"daily_spend_cap_usd": cap}
    at.session_state["connection"] = connection
    at.session_state["request"] = request
    return at.run()


def test_spend_cap_refuses_a_batch_that_would_pass_it(isolated_studio: Path) -> None:
    connection = Connection(mode="oauth", access_token=TOKEN, subject="ann", email="ann@example.com")
    per_image = _seed(isolated_studio, connection, 3)  # 3 × $0.134 today
    at = _spend_app(connection, cap=0.5)
    assert not at.exception, at.exception
    assert "REFUSED" in _texts(at)
    message = at.error[0].value
    assert "Daily spending limit" in message and f"${per_image:.2f}" in message
    assert f"${3 * per_image:.2f}" in message and "$0.50" in message and "Nothing was sent" in message


def test_spend_cap_is_shared_by_visitors_on_the_servers_key(isolated_studio: Path) -> None:
    """Visitors on the server's key have a History per browser, but a cleared cookie must not reset the cap:
    they share the studio's total (issue 20, items 11 and 12)."""
    from studio.history.namespaces import new_browser_id

    visitor = Connection(mode="api_key", api_key="server-key", shared_key=True)
    store = HistoryStore.open(data_dir=isolated_studio)
    try:
        earlier = namespace_for(visitor, isolated_studio, browser_id=new_browser_id())
        for index in range(3):
            store.start_entry(earlier, REQUEST, index, batch_id="earlier")
        per_image = store.catalogue.resolve(REQUEST.model_id).estimate_cost("1K", 1)
    finally:
        store.close()
    at = AppTest.from_function(_spend_script, default_timeout=60)
    at.secrets["team"] = {"daily_spend_cap_usd": round(3.5 * per_image, 2)}
    at.session_state["connection"] = visitor
    at.session_state["browser_id"] = new_browser_id()  # a cleared cookie: a fresh browser id
    at.session_state["request"] = REQUEST
    at.run()
    assert not at.exception, at.exception
    assert "REFUSED" in _texts(at), "a new browser id still counts the studio's spend on the key"
    assert "everyone using this studio's key" in at.error[0].value


def test_spend_cap_lets_a_batch_that_fits_through(isolated_studio: Path) -> None:
    connection = Connection(mode="oauth", access_token=TOKEN, subject="ann", email="ann@example.com")
    per_image = _seed(isolated_studio, connection, 3)
    at = _spend_app(connection, cap=round(4 * per_image + 0.01, 2))
    assert "SUBMITTED" in _texts(at) and not at.error
    bigger = GenerationRequest(prompt="more", model_id="gemini-3-pro-image", image_size="1K", count=2)
    at = _spend_app(connection, cap=round(4 * per_image + 0.01, 2), request=bigger)
    assert "REFUSED" in _texts(at), "two more images would pass it"
    assert "left today" in at.error[0].value


def test_spend_cap_still_counts_deleted_entries(isolated_studio: Path) -> None:
    """Deleting today's entries (and the purge) used to reset the day's spend to $0.00 (issue 20, item 12)."""
    connection = Connection(mode="oauth", access_token=TOKEN, subject="ann", email="ann@example.com")
    per_image = _seed(isolated_studio, connection, 3)
    store = HistoryStore.open(data_dir=isolated_studio)
    try:
        namespace = namespace_for(connection, isolated_studio)
        for entry in store.list_entries(namespace):
            assert store.delete(namespace, entry.id)
        store.purge(older_than_s=-1)
        assert store.count_entries(namespace) == 0
    finally:
        store.close()
    at = _spend_app(connection, cap=0.5)
    assert not at.exception, at.exception
    assert "REFUSED" in _texts(at), "the deleted entries were billed all the same"
    assert f"${3 * per_image:.2f}" in at.error[0].value


def _private_spend_script() -> None:
    import streamlit as st

    from components import services, team
    from components.state import PRIVATE

    st.session_state[PRIVATE] = True
    request = st.session_state["request"]
    store = services.get_store()
    assert store.is_private
    for index in range(st.session_state.get("images", 0)):
        store.start_entry(services.current_namespace(), request, index, batch_id="private")
    st.write("SUBMITTED" if team.check_spend(request) else "REFUSED")


def test_spend_cap_counts_a_private_sessions_spend(isolated_studio: Path) -> None:
    """A private session's attempts count for its person in every session, and after it is gone."""
    connection = Connection(mode="oauth", access_token=TOKEN, subject="ann", email="ann@example.com")
    private = AppTest.from_function(_private_spend_script, default_timeout=60)
    private.secrets["team"] = {"daily_spend_cap_usd": 0.5}
    private.session_state["connection"] = connection
    private.session_state["request"] = REQUEST
    private.session_state["images"] = 3
    private.run()
    assert not private.exception, private.exception
    assert "REFUSED" in _texts(private), "its own three images count"
    at = _spend_app(connection, cap=0.5)  # another session of the same person, not private
    assert "REFUSED" in _texts(at), "the private session's spend is seen by the person's other sessions"
    store = HistoryStore.open(data_dir=isolated_studio)
    try:
        assert store.count_entries(namespace_for(connection, isolated_studio)) == 0, "the entries stayed private"
    finally:
        store.close()


def test_spend_cap_does_not_apply_offline(isolated_studio: Path) -> None:
    at = _spend_app(Connection(mode="offline", api_key="offline", base_url="http://127.0.0.1:9"), cap=0.0)
    assert "SUBMITTED" in _texts(at) and not at.error


# ---- localhost, in a real browser ----------------------------------------------------------------


@pytest.mark.browser
def test_server_key_is_offered_on_localhost_and_not_through_a_proxy(tmp_path: Path) -> None:
    """How the browser reached the studio comes from the real request: AppTest has no headers to give."""
    import os

    from playwright.sync_api import expect, sync_playwright

    from bench.studio_page import launch_chromium, wait_for_app_run
    from bench.studio_process import StudioProcess, free_port

    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "data"), "GEMINI_API_KEY": "test-key"}
    env.pop("STUDIO_SERVER_KEY_FOR", None)
    studio = StudioProcess(free_port(), env, tmp_path / "streamlit.log", None).start()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            cases = [(f"http://localhost:{studio.port}", {}, 1), (studio.url, {}, 1),
                     (studio.url, {"X-Forwarded-For": "203.0.113.9"}, 0)]  # what a reverse proxy adds
            for url, headers, buttons in cases:
                context = browser.new_context(extra_http_headers=headers)
                page = context.new_page()
                page.goto(url)
                wait_for_app_run(page)
                # Try offline is the page's last element, drawn after the key form's buttons
                expect(page.get_by_role("button", name="Try offline")).to_be_visible()
                server_key = page.get_by_role("button", name="Use the key configured on this server")
                expect(server_key).to_have_count(buttons)
                context.close()
            browser.close()
    finally:
        studio.stop()


# ---- a shared History needs a configured salt ----------------------------------------------------


def test_studio_refuses_to_start_without_a_configured_salt(team_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_REQUIRE_CONFIGURED_SALT", "1")
    monkeypatch.delenv("STUDIO_NAMESPACE_SALT", raising=False)
    at = team_app(None)
    assert not at.exception, at.exception
    assert any("STUDIO_NAMESPACE_SALT" in e.value and "restart" in e.value for e in at.error)
    assert not at.text_input and not at.button, "nothing is offered"
    at = team_app(None, secrets={"studio": {"namespace_salt": "team-salt-from-secrets"}})
    assert not at.error and at.title[0].value.startswith("🍌 Nano Banana Pro studio")
