"""Account: who is connected, how, to which project, until when, and sign-out."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import streamlit as st

from components import auth, connect, team
from components.state import STORE_REQUESTS

MODE_LABELS = {
    "api_key": "Gemini API key",
    "oauth": "Sign in with Google (Gemini API)",
    "vertex": "Vertex AI, with your Google sign-in",
    "offline": "Offline emulator: images are emulated, no real API is called",
}
STORE_LABEL = "Let Google keep my requests"
STORE_TOGGLE = "account_store_requests"  # the toggle's widget key; the choice itself is STORE_REQUESTS
SERVER_KEY_LABEL = "The key configured on this server, with your Google sign-in"
USE_SERVER_KEY = "Use the key configured on this server"
BACK_TO_GOOGLE = "Use my Google account again"


def _expiry_text(seconds_left: float | None) -> str:
    if seconds_left is None:
        return "unknown (the provider did not say)"
    at = datetime.fromtimestamp(time.time() + seconds_left, tz=UTC).strftime("%H:%M UTC")
    if seconds_left <= 0:
        return f"expired at {at}; it is renewed before the next generation"
    minutes = int(seconds_left // 60)
    return f"in {minutes} min (at {at}); renewed automatically 5 minutes before"


def _render_quota_project(connection: object) -> None:
    current = getattr(connection, "quota_project", None) or ""
    value = st.text_input(
        "Quota project",
        value=current,
        key="account_quota_project",
        placeholder="none: the OAuth client's project is billed",
        help="Sent as x-goog-user-project. A project without quota for a model answers 429 'limit: 0'.",
    )
    if value.strip() != current and st.button("Save quota project", key="account_quota_save"):
        st.session_state[auth.CONNECTION_KEY] = replace(connection, quota_project=value.strip() or None)  # type: ignore[type-var]
        st.rerun()


def _render_server_key(connection: object) -> None:
    """A Google sign-in the server's key is offered to may spend it and stay who they are; and go back."""
    if getattr(connection, "server_key", False):
        st.caption("Images are paid with the key configured on this server (the studio owner's quota). Your "
                   "History and your access stay those of your Google account.")
        if st.button(BACK_TO_GOOGLE, key="account_back_to_google"):
            connect.use_google_account_again()
            st.rerun()
        return
    if getattr(connection, "mode", "") not in auth.OAUTH_MODES or not connect.configured_key():
        return
    if not team.server_key_offered():
        return
    st.caption("This studio's owner lets you use the key configured on the server: images are then paid from "
               "their quota. You stay signed in with Google, and your History stays yours.")
    if st.button(USE_SERVER_KEY, key="account_use_server_key"):
        try:
            connect.use_server_key()
        except ValueError as exc:
            st.error(str(exc), icon="🔑")
            return
        st.rerun()


def _keep_store_choice() -> None:
    st.session_state[STORE_REQUESTS] = bool(st.session_state[STORE_TOGGLE])


def _render_store(mode: str) -> None:
    """Whether Google may keep this person's requests (``store``); off unless they turn it on."""
    st.session_state[STORE_TOGGLE] = bool(st.session_state.get(STORE_REQUESTS, False))  # the page was left
    st.toggle(STORE_LABEL, key=STORE_TOGGLE, on_change=_keep_store_choice, disabled=mode == "vertex",
              help="Off: every request says store=false, so Google does not keep it (paid projects keep requests "
                   "by default). On: store=true. Vertex AI has no such field, so nothing is sent there.")


def render() -> None:
    """The page body."""
    st.title("Account")
    connection = st.session_state.get(auth.CONNECTION_KEY)
    if connection is None:
        st.info("Not connected. Sign in with Google, or connect with an API key on the welcome page.")
        auth.render_google_sign_in(key="account_sign_in")
        return

    mode = getattr(connection, "mode", "")
    server_key = bool(getattr(connection, "server_key", False))
    st.markdown(f"**Connected with:** {SERVER_KEY_LABEL if server_key else MODE_LABELS.get(mode, mode)}")
    name, email = getattr(connection, "name", None), getattr(connection, "email", None)
    if mode in auth.OAUTH_MODES or server_key:
        picture = getattr(connection, "picture", None)
        cols = st.columns([1, 8]) if picture else [st.container()]
        if picture:
            cols[0].image(picture, width=48)
        who = " · ".join(x for x in (name, email) if x) or "Google account"
        cols[-1].markdown(f"**Signed in as:** {who}  \n`{getattr(connection, 'subject', '')}`")
    if mode in auth.OAUTH_MODES:
        st.markdown(f"**Access token expires:** {_expiry_text(auth.token_seconds_left())}")
    if mode == "vertex":
        st.markdown(f"**Vertex AI project:** `{getattr(connection, 'project', '')}` in "
                    f"`{getattr(connection, 'location', '') or 'global'}`")
    elif mode == "oauth":
        project = getattr(connection, "quota_project", None)
        st.markdown(f"**Billed project:** {f'`{project}`' if project else 'the OAuth client project'}")
    base_url = getattr(connection, "base_url", None)
    if base_url:
        st.markdown(f"**API endpoint:** `{base_url}`")

    if mode == "oauth":
        _render_quota_project(connection)
    if mode in auth.OAUTH_MODES:
        with st.expander("Vertex AI", expanded=mode == "vertex"):
            auth.render_vertex_fields(key="account_vertex")
    _render_server_key(connection)
    _render_store(mode)

    label = "Sign out of Google" if mode in auth.OAUTH_MODES or server_key else "Disconnect"
    if st.button(label, key="account_sign_out", type="primary"):
        auth.sign_out()
        st.rerun()
    st.caption("Signing out revokes Google's grant. Images made in this session stay viewable.")


render()
