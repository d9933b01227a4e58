"""components/auth.py and the Account page under Streamlit's AppTest, with a real OIDC provider.

The streamlit-oauth popup is a custom component (an UnknownElement here), so its answer is
supplied at the component boundary (``streamlit_oauth._authorize_button``); the real popup runs in
test_oauth_browser.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import streamlit_oauth
from streamlit.testing.v1 import AppTest

from studio.credentials import Connection

TIMEOUT = 30
ACCOUNT_PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "account.py")


def _sign_in_script() -> None:
    from components import auth

    auth.render_google_sign_in()
    connection = auth.st.session_state.get("connection")
    if connection is not None:
        auth.st.write(f"CONNECTED {connection.mode} {connection.email}")


def _generate_script() -> None:
    import streamlit as st

    from components import auth

    auth.render_sign_in_again()
    st.text_area("Prompt", key="prompt")
    if st.button("Generate") and auth.ensure_fresh_token():
        st.write("GENERATED")


def _app(script: Any, provider: Any | None, **oauth_extra: Any) -> AppTest:
    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    if provider is not None:
        at.secrets["oauth"] = provider.oauth_section(**oauth_extra)
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [w.value for w in at.warning] + [i.value for i in at.info]
    parts += [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def _connection(token: dict[str, Any], **extra: Any) -> Connection:
    fields: dict[str, Any] = {
        "mode": "oauth", "access_token": token["access_token"], "quota_project": None,
        "subject": "alice-sub-0001", "email": "alice@example.com", "name": "Alice Example",
        "picture": None, "expires_at": token.get("expires_at"),
    }
    fields.update(extra)
    return Connection(**fields)


def test_not_configured_explains_how() -> None:
    at = _app(_sign_in_script, None).run()
    assert not at.exception
    assert "not set up on this deployment" in _texts(at)
    assert "streamlit_oauth.authorize_button" in _texts(at)


def test_wrong_state_is_refused(provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the first button answers: a fresh key after the failure has no popup result, as in a browser.
    def popup_answer(key: str, **_: Any) -> dict[str, str] | None:
        return {"code": "stolen", "state": "forged"} if key == "google_sign_in_0" else None

    monkeypatch.setattr(streamlit_oauth, "_authorize_button", popup_answer)
    at = _app(_sign_in_script, provider).run()
    assert not at.exception
    assert "state check failed" in _texts(at)
    assert "connection" not in at.session_state and "oauth_token" not in at.session_state
    assert provider.grants("authorization_code") == []  # the code was never exchanged


def test_callback_without_state_is_refused(provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """streamlit-oauth skips its state check when the callback has no state; the studio does not."""

    def popup_answer(authorization_url: str, key: str, **_: Any) -> dict[str, str] | None:
        return {"code": provider.obtain_code(authorization_url)} if key == "google_sign_in_0" else None

    monkeypatch.setattr(streamlit_oauth, "_authorize_button", popup_answer)
    at = _app(_sign_in_script, provider).run()
    assert not at.exception, at.exception
    assert "carried no state" in _texts(at)
    assert "connection" not in at.session_state and "oauth_token" not in at.session_state


def test_sign_in_at_component_boundary(provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The right state: the code is exchanged (with a PKCE verifier) and userinfo names the person."""
    import streamlit as st

    def popup_answer(authorization_url: str, key: str, **_: Any) -> dict[str, str] | None:
        if key != "google_sign_in_0":
            return None
        code = provider.obtain_code(authorization_url)
        return {"code": code, "state": st.session_state[f"state-{key}"]}

    monkeypatch.setattr(streamlit_oauth, "_authorize_button", popup_answer)
    at = _app(_sign_in_script, provider, redirect_uri="http://localhost:8501/component/streamlit_oauth.authorize_button")
    at.session_state["oauth_quota_project"] = "billing-proj"
    at.run()
    assert not at.exception, at.exception
    assert "CONNECTED oauth alice@example.com" in _texts(at)
    connection = at.session_state["connection"]
    assert connection.subject == "alice-sub-0001" and connection.name == "Alice Example"
    assert connection.quota_project == "billing-proj"
    token = at.session_state["oauth_token"]
    assert token["refresh_token"] and connection.access_token == token["access_token"]
    assert provider.pkce_verified()
    assert token["access_token"] not in _texts(at) and token["refresh_token"] not in _texts(at)


def test_expired_without_refresh_token_keeps_work(provider: Any) -> None:
    token = {"access_token": "dead-token-123456789", "expires_at": int(time.time()) - 60, "token_type": "Bearer"}
    at = _app(_generate_script, provider)
    at.session_state["connection"] = _connection(token)
    at.session_state["oauth_token"] = token
    at.session_state["prompt"] = "a banana in a spacesuit"
    at.session_state["references"] = ["ref-1", "ref-2"]
    at.session_state["session_entry_ids"] = ["e2", "e1"]
    at.run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "GENERATED" not in _texts(at)
    assert "Sign in again" in _texts(at)
    assert at.text_area(key="prompt").value == "a banana in a spacesuit"
    assert at.session_state["references"] == ["ref-1", "ref-2"]
    assert at.session_state["session_entry_ids"] == ["e2", "e1"]
    assert "oauth_token" not in at.session_state  # the dead token is dropped; sign-in is offered in place
    assert at.session_state["connection"].email == "alice@example.com"  # still connected, only re-sign-in
    assert len(at.get("component_instance")) == 1  # the sign-in button is on the page
    assert "dead-token-123456789" not in _texts(at)


def test_refresh_before_expiry_keeps_refresh_token(provider: Any) -> None:
    token = provider.obtain_token()
    token["expires_at"] = int(time.time()) + 120  # inside the 5-minute margin
    at = _app(_generate_script, provider)
    at.session_state["connection"] = _connection(token)
    at.session_state["oauth_token"] = token
    at.run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "GENERATED" in _texts(at)
    fresh = at.session_state["oauth_token"]
    assert fresh["access_token"] != token["access_token"]
    assert fresh["refresh_token"] == token["refresh_token"]
    assert at.session_state["connection"].access_token == fresh["access_token"]
    assert len(provider.grants("refresh_token")) == 1


def test_account_page_and_sign_out(provider: Any) -> None:
    token = provider.obtain_token()
    at = AppTest.from_file(ACCOUNT_PAGE, default_timeout=TIMEOUT)
    at.secrets["oauth"] = provider.oauth_section()
    at.session_state["connection"] = _connection(token, quota_project="team-proj")
    at.session_state["oauth_token"] = token
    at.session_state["session_entry_ids"] = ["e1"]
    at.run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Sign in with Google" in text and "Alice Example" in text and "alice@example.com" in text
    assert "team-proj" in text and "min (at" in text
    assert token["access_token"] not in text
    at.button(key="account_sign_out").click().run()
    assert "connection" not in at.session_state and "oauth_token" not in at.session_state
    assert at.session_state["session_entry_ids"] == ["e1"]
    assert provider.revocations()


def test_account_page_api_key_disconnect() -> None:
    at = AppTest.from_file(ACCOUNT_PAGE, default_timeout=TIMEOUT)
    at.session_state["connection"] = Connection(mode="api_key", api_key="secret-key-value")
    at.run()
    assert "Gemini API key" in _texts(at) and "secret-key-value" not in _texts(at)
    at.button(key="account_sign_out").click().run()
    assert "connection" not in at.session_state


def _vertex_script() -> None:
    from components import auth

    auth.render_vertex_fields()


def test_vertex_after_google_sign_in(provider: Any) -> None:
    token = provider.obtain_token()
    at = _app(_vertex_script, provider)
    at.session_state["connection"] = _connection(token)
    at.session_state["oauth_token"] = token
    at.run()
    at.text_input(key="vertex_project").input("vertex-proj").run()
    at.button(key="vertex_use").click().run()
    assert not at.exception, at.exception
    connection = at.session_state["connection"]
    assert (connection.mode, connection.project, connection.location) == ("vertex", "vertex-proj", "global")
    assert connection.access_token == token["access_token"]


def test_each_mode_keeps_its_own_endpoint(provider: Any) -> None:
    """Vertex calls go to vertex_base_url, never to the Gemini API's base URL, and back again on return."""
    token = provider.obtain_token()
    at = _app(_vertex_script, provider, gemini_base_url="http://127.0.0.1:1111",
              vertex_base_url="http://127.0.0.1:2222")
    at.session_state["connection"] = _connection(token, base_url="http://127.0.0.1:1111")
    at.session_state["oauth_token"] = token
    at.run()
    at.text_input(key="vertex_project").input("vertex-proj").run()
    at.text_input(key="vertex_location").input("europe-west4").run()
    at.button(key="vertex_use").click().run()
    assert not at.exception, at.exception
    connection = at.session_state["connection"]
    assert (connection.mode, connection.location, connection.base_url) == ("vertex", "europe-west4",
                                                                           "http://127.0.0.1:2222")
    at.button(key="vertex_back").click().run()
    connection = at.session_state["connection"]
    assert (connection.mode, connection.project, connection.base_url) == ("oauth", None, "http://127.0.0.1:1111")


def test_no_quota_failure_explained(provider: Any) -> None:
    from studio.results import Failure, FailureKind

    def script() -> None:
        import streamlit as st

        from components import auth

        st.write(auth.explain_failure(st.session_state["failure"]) or "NONE")

    at = _app(script, provider)
    at.session_state["failure"] = Failure(
        kind=FailureKind.QUOTA, message="Quota reached", http_status=429,
        detail="429 RESOURCE_EXHAUSTED Quota exceeded for metric ... limit: 0, model: gemini-3-pro-image",
    )
    at.run()
    assert "no quota at all" in _texts(at)
