"""Nano Banana Pro studio: page config, session bootstrap, sign-in gate, shared sidebar, navigation.

Pages live in app_pages/ (not pages/, which would let Streamlit run them without this gate).
"""

from __future__ import annotations

import streamlit as st

from app_pages import welcome as welcome_page
from components import auth, jobs, phone, press_guard, services, team
from components.state import CONNECT_NOTES, REFERENCES, SESSION_ENTRIES
from studio.catalogue import startup_problem

GATED = (("Generate", "generate"), ("Edit", "edit"), ("History", "history"), ("Account", "account"))


def bootstrap_session() -> None:
    """Per-session defaults; History opened (an operator's broken store setting shows before anyone connects);
    once connected, the process-wide job runner (its start marks crashed work interrupted).

    The runner waits for a connection: nobody can send or see work before it, and a woken Community Cloud app
    paints its welcome page without starting it (its start freezes the heap, ~70 ms). A malformed model
    registry override stops here with one plain message naming the file and the key.
    """
    problem = startup_problem(dict(services.secrets_section("models")))
    if problem:
        st.error(problem, icon="🧾")
        st.stop()
    for key in (REFERENCES, SESSION_ENTRIES):
        st.session_state.setdefault(key, [])
    try:
        services.shared_store()
        if services.connection() is not None:
            services.get_runner()
    except services.StoreUnavailable as exc:  # one plain message, never a traceback, no fallback to local disk
        st.error(str(exc), icon="🗄️")
        st.stop()


def main() -> None:
    press_guard.install()  # once per process: a press acts once and whole (Streamlit 1.67 races)
    # "auto": Streamlit opens the sidebar on wide screens and keeps it shut on a phone, where it would
    # cover the welcome page with controls the person cannot use yet
    st.set_page_config(page_title="Nano Banana Pro studio", page_icon="🍌", layout="wide",
                       initial_sidebar_state="auto")
    bootstrap_session()
    connection = services.connection()
    team.enforce(connection)  # a bad setting, or a person not on the [team] list, stops here
    jobs.resume_stored_batches()  # batch-lane work an earlier process sent for this identity
    welcome = st.Page("app_pages/welcome.py", title="Welcome", icon="🍌", default=connection is None)
    generate = st.Page("app_pages/generate.py", title="Generate", icon="✨", default=connection is not None)
    edit = st.Page("app_pages/edit.py", title="Edit", icon="🖌️", url_path="edit")
    history = st.Page("app_pages/history.py", title="History", icon="🗂️")
    account = st.Page("app_pages/account.py", title="Account", icon="👤")
    if connection is None:
        # a reload of /history or /account starts a session that is not connected yet: those addresses show
        # the sign-in too (instead of "Page not found"), and the page asked for opens once connected
        gates = [st.Page(welcome_page.render, title=title, url_path=path) for title, path in GATED]
        page = st.navigation([welcome, *gates], position="hidden")
    else:
        page = st.navigation([generate, edit, history, account])
    phone.fit_the_phone()
    if connection is not None:  # the settings only once connected: before that they are controls nobody can use
        from components import sidebar  # not on a visitor's first page (cold start): it pulls in every control

        sidebar.render_sidebar(connected=True, editing=page is edit)
        st.sidebar.caption(f"Connected: {connection.label}" + (f" · {connection.email}" if connection.email else ""))
    auth.render_sign_in_again()
    for note in st.session_state.pop(CONNECT_NOTES, None) or []:  # e.g. "your key had spaces; removed"
        st.info(note, icon="🔑")
    page.run()


main()
