"""A minimal studio page for the browser test: the real sign-in button, one generation, sign-out.

It drives components/auth.py and studio/credentials.py exactly as the pages do, without the rest
of the studio, so the OAuth flow is tested on its own.
"""

import streamlit as st

from components import auth
from studio.credentials import make_client

auth.render_sign_in_again()
connection = st.session_state.get("connection")
if connection is None:
    auth.render_google_sign_in()
    st.stop()

st.markdown(f"SIGNED IN AS {connection.email} ({connection.name})")
if st.button("Generate", key="harness_generate") and auth.ensure_fresh_token():
    client = make_client(st.session_state["connection"])
    st.session_state["harness_client"] = client  # keep a reference while it is used
    answer = client.models.generate_content(model="gemini-3-pro-image", contents=["a banana in a spacesuit"])
    parts = answer.candidates[0].content.parts if answer.candidates else []
    images = sum(1 for p in parts or [] if p.inline_data is not None and not p.thought)
    st.session_state["harness_runs"] = st.session_state.get("harness_runs", 0) + 1
    st.markdown(f"GENERATED {images} IMAGE(S), RUN {st.session_state['harness_runs']}")
if st.button("Sign out", key="harness_sign_out"):
    auth.sign_out()
    st.rerun()
