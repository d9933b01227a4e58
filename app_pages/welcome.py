"""Welcome: what the studio does and the ways to connect, for people not connected yet."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import auth, browser_id, connect, services, team


def _render_google(column: DeltaGenerator) -> None:
    with column, st.container(border=True):
        st.subheader("Google account")
        auth.render_google_sign_in()
        with st.expander("Vertex AI"):
            st.caption("After signing in with Google (cloud-platform access), generate through your own "
                       "Vertex AI project; PNG/JPEG is then encoded by the server.")
            auth.render_vertex_fields()


def render() -> None:
    st.title("🍌 Nano Banana Pro studio")
    st.markdown(
        "Generate and edit images with Google's Gemini image models — **Nano Banana Pro**, **Nano Banana 2** and "
        "**Nano Banana** — with up to 14 reference images, batches that run in parallel, the exact output pixels "
        "before you press Generate, and a searchable history where every file carries its recipe.")
    st.caption("You connect with your own credentials, so you spend only your own quota.")
    if team.limited_to_team():  # keys and the emulator cannot tell who is using them: Google sign-in only
        st.info(team.welcome_note(), icon="🔒")
        if auth.oauth_config() is None:
            st.error(team.NO_SIGN_IN, icon="⚙️")
        else:
            _render_google(st.columns([1, 2])[0])
    else:
        key_col, google_col, offline_col = st.columns(3, gap="large")
        with key_col, st.container(border=True):
            st.subheader("API key")
            connect.render_api_key_form()
        _render_google(google_col)
        if services.offline_allowed():
            with offline_col, st.container(border=True):
                st.subheader("Try offline")
                st.markdown("No account needed: the studio starts its own **Gemini API emulator** and draws "
                            "stand-in images, so you can explore every feature. Images are clearly labelled as "
                            "emulated.")
                if st.button("Try offline", key="try_offline", type="secondary", width="stretch"):
                    connect.go_offline()
                    st.rerun()
        anonymous_ways = services.offline_allowed() or (connect.configured_key() and team.server_key_offered())
        if anonymous_ways and not services.shared_history():
            st.caption("Offline, or with the key configured on this server, you are not signed in: your History "
                       "is then kept for this browser only, and nobody else sees it.")
    browser_id.remember_in_this_browser()  # every new session passes here before it connects


if __name__ == "__main__":  # run as a page; app.py also calls render() for the gated page addresses
    render()
