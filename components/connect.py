"""Connecting with an API key (checked with a cheap call), with the key configured on the server, or going offline.

A person signed in with Google who may use the server's key keeps their Google identity while using it
(``Connection.server_key``): their History and the team check stay theirs; only the quota is the owner's.
"""

from __future__ import annotations

import os

import streamlit as st

from components import auth, services, team
from components.state import CONNECT_NOTES
from studio import oauth
from studio.credentials import (
    Connection,
    back_to_google,
    check_connection,
    make_client,
    normalize_api_key,
    with_server_key,
)

KEY_HELP = "Make a key at https://aistudio.google.com/apikey"


def _base_url() -> str | None:
    """Tests and self-hosted gateways point key connections elsewhere with STUDIO_GEMINI_BASE_URL."""
    return os.environ.get("STUDIO_GEMINI_BASE_URL") or None


def _connect_checked(connection: Connection) -> None:
    """Check the connection's key with a list-models call, then connect; ValueError (plain words) if refused."""
    with st.spinner("Checking the key…"):
        failure = check_connection(make_client(connection, timeout_s=30), connection.secrets())
    if failure is not None:
        raise ValueError(failure.message)
    st.session_state[services.CONNECTION] = connection


def connect_with_key(raw_key: str) -> list[str]:
    """Check the key with a list-models call; connect and return notes, or raise ValueError to show."""
    key, notes = normalize_api_key(raw_key)
    _connect_checked(Connection(mode="api_key", api_key=key, base_url=_base_url()))
    return notes


SERVER_KEY_REFUSED = "The key configured on this server is not offered to you."


def use_server_key() -> None:
    """Connect with the key configured on the server, if this person may (asked again at the click).

    Signed in with Google, the identity is kept: History stays theirs and the team check still applies.
    ValueError with a plain message otherwise (not offered, no key, or the key refused).
    """
    key = configured_key()
    if not key or not team.server_key_offered():
        raise ValueError(SERVER_KEY_REFUSED)
    current = services.connection()
    check = team.google_email(current)
    if current is None or check is None:  # not signed in: the key says nothing about who this is
        key, _ = normalize_api_key(key)  # History is then this browser's (components/browser_id.py)
        _connect_checked(Connection(mode="api_key", api_key=key, base_url=_base_url(), shared_key=True))
        return
    if check.problem:
        raise ValueError(check.problem)
    key, _ = normalize_api_key(key)
    _connect_checked(with_server_key(current, key, email=check.email, email_verified=check.verified,
                                     base_url=_base_url()))


def use_google_account_again() -> None:
    """Back from the server's key to the person's own Google sign-in (its token, if it is still held)."""
    current = services.connection()
    if current is None or not current.server_key:
        return
    token = st.session_state.get(auth.TOKEN_KEY)
    config = auth.oauth_config()
    # without a token the sign-in-again button shows (app.py), as after any ended sign-in
    st.session_state[services.CONNECTION] = back_to_google(
        current, access_token=token.get("access_token") if token else None,
        expires_at=oauth.expires_at(token) if token else None,
        base_url=config.gemini_base_url if config else None)


def configured_key() -> str | None:
    """A key for single-user deployments: env GEMINI_API_KEY/GOOGLE_API_KEY or secrets."""
    value = (os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")
             or services.secret_value("GEMINI_API_KEY") or services.secret_value("GOOGLE_API_KEY"))
    return str(value) if value else None


def render_api_key_form() -> None:
    with st.form("api_key_form", border=False):
        raw = st.text_input("Gemini API key", type="password", key="api_key_input", help=KEY_HELP,
                            placeholder="AIza…")
        submitted = st.form_submit_button("Connect with API key", type="primary", width="stretch")
    st.caption("[Get a Gemini API key](https://aistudio.google.com/apikey) · the key stays in this browser "
               "session's memory and is never stored.")
    if submitted:
        try:
            notes = connect_with_key(raw)
        except ValueError as exc:
            st.error(str(exc), icon="🔑")
            return
        st.session_state[CONNECT_NOTES] = notes
        st.rerun()
    # it spends the owner's quota: only for the team, a deployment that says "everyone", or localhost
    if configured_key() and team.server_key_offered() and st.button("Use the key configured on this server",
                                                                    key="use_configured_key"):
        try:
            use_server_key()
        except ValueError as exc:
            st.error(str(exc), icon="🔑")
            return
        st.rerun()


def go_offline() -> None:
    st.session_state[services.CONNECTION] = services.offline_connection()
