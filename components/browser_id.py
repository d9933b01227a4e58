"""This browser's anonymous identity: a random id in a cookie, so a reload of the same browser finds its History.

Visitors who use the offline emulator or the server's key are not signed in, and their credential says
nothing about who they are; before this every one of them shared one History. Each browser now gets a random
id (``namespaces.new_browser_id``: 256 bits, unguessable, never derived from the IP or anything else about
the visitor) and its History is filed under a salted hash of it. Streamlit reads the cookies a browser sent
when it connected (``st.context.cookies``) but cannot set one, so the Welcome page, which every new session
shows before connecting, sets it with a two-line script when the browser did not send this id. Over
https the cookie is ``__Host-`` prefixed: the browser then accepts it only from this very host, so a site on
a sibling domain (another app under the same parent domain) cannot plant an id it knows ("cookie tossing")
and read what the visitor makes.
"""

from __future__ import annotations

import json

import streamlit as st

from components.state import BROWSER_ID
from studio.credentials import Connection
from studio.history.namespaces import is_anonymous, is_browser_id, new_browser_id

COOKIE = "studio_browser_id"
SECURE_COOKIE = f"__Host-{COOKIE}"  # over https: Secure, Path=/, no Domain, so only this host can set it
MAX_AGE_S = 400 * 24 * 3600  # the longest a browser keeps a cookie (Chrome caps it at 400 days)
PER_BROWSER_NOTE = (
    "🍪 **This History belongs to this browser.** You are not signed in, so the studio keeps what you make for "
    "this browser only: nobody else sees it, and it is here again when you reload or come back in this browser. "
    "Another browser, a private window or clearing this site's cookies starts an empty History, so export what "
    "you want to keep. Sign in with Google, or connect with your own API key, to keep your History with your "
    "account instead.")
SHARED_NOTE = (
    "**This History is shared.** The operator of this studio chose one History for everyone who uses it without "
    "signing in (`shared_history` in its settings): every such visitor sees, opens, exports and can delete what "
    "you make here, and you see theirs. Sign in with Google, or connect with your own API key, for a History of "
    "your own.")


def cookie_name(page_url: str | None) -> str:
    """The cookie this page reads and sets: the ``__Host-`` one over https (the only one trusted there)."""
    return SECURE_COOKIE if (page_url or "").lower().startswith("https:") else COOKIE


def browser_id() -> str:
    """This browser's id: the one its cookie carried, else a new one kept for the session (and set by the page)."""
    held = st.session_state.get(BROWSER_ID)
    if is_browser_id(held):
        return str(held)
    sent = st.context.cookies.get(cookie_name(st.context.url))
    value = sent if sent is not None and is_browser_id(sent) else new_browser_id()
    st.session_state[BROWSER_ID] = value
    return value


def remember_in_this_browser() -> None:
    """Set the cookie when the browser did not send this session's id (a first visit, or cookies cleared).

    Call where a new session always passes before it connects (the Welcome page); draw it last, since the
    element takes a line. The id is URL-safe base64 (checked), so it needs no escaping in the cookie.
    """
    value = browser_id()
    if st.context.cookies.get(cookie_name(st.context.url)) == value:
        return
    plain = json.dumps(f"{COOKIE}={value}; Path=/; Max-Age={MAX_AGE_S}; SameSite=Lax")
    secure = json.dumps(f"{SECURE_COOKIE}={value}; Path=/; Max-Age={MAX_AGE_S}; SameSite=Lax; Secure")
    st.html(f"<script>document.cookie = location.protocol === 'https:' ? {secure} : {plain};</script>",
            unsafe_allow_javascript=True)


def render_history_note(connection: Connection | None, shared: bool) -> None:
    """Where an anonymous visitor's History lives: this browser, or the operator's shared History."""
    if connection is None or not is_anonymous(connection):
        return
    if shared:
        st.warning(SHARED_NOTE, icon="👥")
    else:
        st.caption(PER_BROWSER_NOTE)
