"""Welcome: what the studio does and the ways to connect, for people not connected yet."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import auth, browser_id, connect, services, team


def _render_google() -> None:
    with st.container(border=True):
        st.subheader("Google account")
        if auth.oauth_config() is None:  # one plain line; how to set it up is in docs/DEPLOY.md and the log
            auth.log_sign_in_setup_once()
            st.caption(auth.NOT_CONFIGURED_LINE)
            return
        auth.render_google_sign_in()
        with st.expander("Vertex AI"):
            st.caption("After signing in with Google (cloud-platform access), generate through your own "
                       "Vertex AI project; PNG/JPEG is then encoded by the server.")
            auth.render_vertex_fields()


def _render_try_offline(column: DeltaGenerator) -> None:
    with column, st.container(border=True):
        st.subheader("Try offline")
        st.caption("No account needed: a built-in Gemini API emulator draws stand-in images, clearly labelled, "
                   "so you can explore every feature.")
        if st.button("Try offline", key="try_offline", type="primary", width="stretch"):
            connect.go_offline()
            st.rerun()


def render() -> None:
    st.title("🍌 Nano Banana Pro studio")
    st.markdown(
        "Generate and edit images with Google's Gemini image models, with up to 14 reference images, batches "
        "that run in parallel, the exact output pixels and price before you press Generate, and a searchable "
        "history where every file carries its recipe. You connect with your own credentials and spend only "
        "your own quota.")
    if team.limited_to_team():  # keys and the emulator cannot tell who is using them: Google sign-in only
        st.info(team.welcome_note(), icon="🔒")
        if auth.oauth_config() is None:
            st.error(team.NO_SIGN_IN, icon="⚙️")
        else:
            with st.columns([1, 2])[0]:
                _render_google()
    else:
        # the two ways anyone can start, first and side by side (stacked on a phone: Try offline on top)
        offline = services.offline_allowed()
        offline_col, key_col = st.columns(2, gap="large")
        if offline:
            _render_try_offline(offline_col)
        with (key_col if offline else offline_col), st.container(border=True):
            st.subheader("Connect with an API key")
            connect.render_api_key_form()
        _render_google()
        anonymous_ways = offline or (connect.configured_key() and team.server_key_offered())
        if anonymous_ways and not services.shared_history():
            st.caption("Offline, or with the key configured on this server, you are not signed in: your History "
                       "is then kept for this browser only, and nobody else sees it.")
    browser_id.remember_in_this_browser()  # every new session passes here before it connects


if __name__ == "__main__":  # run as a page; app.py also calls render() for the gated page addresses
    render()
