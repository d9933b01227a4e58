"""Connecting with an API key (checked with a cheap call) or going offline."""

from __future__ import annotations

import os

import streamlit as st

from components import services, team
from components.state import CONNECT_NOTES
from studio.credentials import Connection, check_connection, make_client, normalize_api_key

KEY_HELP = "Make a key at https://aistudio.google.com/apikey"


def _base_url() -> str | None:
    """Tests and self-hosted gateways point key connections elsewhere with STUDIO_GEMINI_BASE_URL."""
    return os.environ.get("STUDIO_GEMINI_BASE_URL") or None


def connect_with_key(raw_key: str) -> list[str]:
    """Check the key with a list-models call; connect and return notes, or raise ValueError to show."""
    key, notes = normalize_api_key(raw_key)
    connection = Connection(mode="api_key", api_key=key, base_url=_base_url())
    with st.spinner("Checking the key…"):
        failure = check_connection(make_client(connection, timeout_s=30), connection.secrets())
    if failure is not None:
        raise ValueError(failure.message)
    st.session_state[services.CONNECTION] = connection
    return notes


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
            connect_with_key(configured_key() or "")
        except ValueError as exc:
            st.error(str(exc), icon="🔑")
            return
        st.rerun()


def go_offline() -> None:
    st.session_state[services.CONNECTION] = services.offline_connection()
