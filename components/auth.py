"""Sign in with Google (streamlit-oauth), token freshness and sign-out, for the Streamlit pages.

The token dict lives only in ``st.session_state["oauth_token"]``: it is never rendered, logged or
put in a JSON view. Identity comes from the provider's userinfo endpoint, not the id_token.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import streamlit as st

from components import state
from studio import oauth
from studio.credentials import Connection
from studio.oauth import OAuthConfig

if TYPE_CHECKING:  # streamlit-oauth loads only where sign-in is set up, not on a visitor's first page
    from streamlit_oauth import OAuth2Component

TOKEN_KEY = state.OAUTH_TOKEN
CONNECTION_KEY = state.CONNECTION
QUOTA_PROJECT_KEY = state.OAUTH_QUOTA_PROJECT
NOTICE_KEY = state.OAUTH_NOTICE  # a plain message for the next sign-in attempt (expired, refused…)
ATTEMPT_KEY = state.OAUTH_ATTEMPT  # bumps the button key so a stale popup result is never replayed
VERTEX_PROJECT_KEY = state.VERTEX_PROJECT
VERTEX_LOCATION_KEY = state.VERTEX_LOCATION
OAUTH_MODES = ("oauth", "vertex")

GOOGLE_ICON = (
    "data:image/svg+xml;charset=utf-8,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 48 48'%3E"
    "%3Cpath fill='%23EA4335' d='M24 9.5c3.5 0 6.6 1.2 9.1 3.6l6.8-6.8C35.8 2.4 30.3 0 24 0 14.6 0 6.6 5.4 2.7 13.3l7.9 6.2C12.5 13.7 17.8 9.5 24 9.5z'/%3E"
    "%3Cpath fill='%234285F4' d='M46.1 24.5c0-1.6-.1-3.1-.4-4.5H24v9h12.4c-.5 2.9-2.2 5.3-4.6 6.9l7.4 5.8c4.3-4 6.9-9.9 6.9-17.2z'/%3E"
    "%3Cpath fill='%23FBBC05' d='M10.5 28.5c-.5-1.4-.8-2.9-.8-4.5s.3-3.1.8-4.5l-7.9-6.2C1 16.6 0 20.2 0 24s1 7.4 2.6 10.7l7.9-6.2z'/%3E"
    "%3Cpath fill='%2334A853' d='M24 48c6.5 0 11.9-2.1 15.9-5.8l-7.4-5.8c-2.1 1.4-4.8 2.3-8.5 2.3-6.2 0-11.5-4.2-13.4-9.9l-7.9 6.2C6.6 42.6 14.6 48 24 48z'/%3E"
    "%3C/svg%3E"
)

SIGN_IN_AGAIN = "Your Google sign-in has ended. Sign in again; your prompt, references and results are kept."
NOT_CONFIGURED_LINE = "Sign in with Google is not set up on this server."
NOT_CONFIGURED_HELP = (
    "**Sign in with Google is not set up on this deployment.** To turn it on, create an OAuth client "
    "(type *Web application*) in the Google Cloud console, register the redirect URI "
    "`https://YOUR-HOST/component/streamlit_oauth.authorize_button`, and add an `[oauth]` section "
    "with `client_id`, `client_secret` and `redirect_uri` to `.streamlit/secrets.toml` (locally) or to "
    "the app's secrets on Streamlit Community Cloud. See docs/DEPLOY.md. Meanwhile you can connect "
    "with a Gemini API key."
)


@functools.cache
def log_sign_in_setup_once() -> None:
    """How to turn sign-in on goes to the server log (once per process), for whoever deploys: the welcome page
    says only that it is not set up."""
    logging.getLogger("studio.setup").warning(NOT_CONFIGURED_HELP.replace("**", "").replace("`", ""))


def oauth_config() -> OAuthConfig | None:
    """The ``[oauth]`` secrets section, or ``None`` when absent (a broken one is shown as an error)."""
    try:
        section: Mapping[str, Any] | None = st.secrets.get("oauth")
    except Exception:  # no secrets.toml at all
        section = None
    try:
        return oauth.load_config(section)
    except oauth.ConfigError as exc:
        st.error(f"Sign in with Google is misconfigured: {exc}")
        return None


def _oauth_error() -> type[Exception]:
    """streamlit-oauth's refusal, looked up only when something went wrong."""
    from streamlit_oauth import StreamlitOauthError

    return StreamlitOauthError


def _component(config: OAuthConfig) -> OAuth2Component:
    from streamlit_oauth import OAuth2Component

    return OAuth2Component(
        client_id=config.client_id,
        client_secret=config.client_secret,
        authorize_endpoint=config.authorize_url,
        token_endpoint=config.token_url,
        refresh_token_endpoint=config.refresh_url,
        revoke_token_endpoint=config.revoke_url,
    )


def _redirect_uri(config: OAuthConfig) -> str:
    """The configured redirect URI, else this app's own (must still be registered with the provider)."""
    if config.redirect_uri:
        return config.redirect_uri
    return oauth.redirect_uri_for(st.context.url or "http://localhost:8501")


def _quota_project() -> str | None:
    value = str(st.session_state.get(QUOTA_PROJECT_KEY) or "").strip()
    return value or None


def render_quota_project_field() -> None:
    """The optional billing project, sent as ``x-goog-user-project``."""
    st.text_input(
        "Quota project (optional)",
        key=QUOTA_PROJECT_KEY,
        placeholder="my-gcp-project-id",
        help="The Google Cloud project billed for your requests (sent as x-goog-user-project). "
        "Leave empty to use the OAuth client's project. Nano Banana Pro needs a project with billing enabled.",
    )


def render_google_sign_in(*, key: str = "google_sign_in", show_quota_field: bool = True,
                          show_notice: bool = True) -> None:
    """The Sign in with Google button (or how to configure it); on success connects and reruns."""
    config = oauth_config()
    if config is None:
        st.info(NOT_CONFIGURED_HELP)
        return
    notice = st.session_state.get(NOTICE_KEY)
    if notice and show_notice:
        st.warning(notice)
    if show_quota_field:
        render_quota_project_field()
    attempt = int(st.session_state.get(ATTEMPT_KEY, 0))
    try:
        result = _component(config).authorize_button(
            name="Sign in with Google",
            redirect_uri=_redirect_uri(config),
            scope=config.scope,
            key=f"{key}_{attempt}",
            pkce="S256",
            extras_params=dict(oauth.AUTHORIZE_EXTRAS),
            icon=GOOGLE_ICON,
            width="stretch",
        )
    except _oauth_error() as exc:
        # Wrong or stale state, or the person denied access: nothing was exchanged.
        denied = "access_denied" in str(exc)
        _fail("Sign-in was cancelled." if denied else "Sign-in was refused: the answer did not match this "
              "sign-in attempt (state check failed). Please try again.")
        return
    except Exception as exc:  # token exchange failed (network, invalid code)
        _fail(f"Sign-in failed while exchanging the code ({type(exc).__name__}). Please try again.")
        return
    if not result or not result.get("token"):
        return
    if not result.get("state"):
        # streamlit-oauth checks the state only when the callback carries one; refuse the rest.
        _fail("Sign-in was refused: the answer carried no state for this sign-in attempt. Please try again.")
        return
    st.session_state[ATTEMPT_KEY] = attempt + 1
    try:
        complete_sign_in(config, dict(result["token"]))
    except oauth.OAuthError as exc:
        _fail(str(exc))
        return
    st.rerun()


def _fail(message: str) -> None:
    st.session_state[ATTEMPT_KEY] = int(st.session_state.get(ATTEMPT_KEY, 0)) + 1
    st.session_state[NOTICE_KEY] = message
    st.rerun()


def complete_sign_in(config: OAuthConfig, token: dict[str, Any]) -> Connection:
    """Store the token, ask userinfo who it belongs to, and connect (mode ``oauth``).

    A re-sign-in keeps the connection's quota project and Vertex settings.
    """
    token = oauth.merge_refreshed({}, token)  # ensures expires_at even if only expires_in came
    identity = oauth.fetch_identity(config, token["access_token"])
    previous = st.session_state.get(CONNECTION_KEY)
    if isinstance(previous, Connection) and previous.mode in OAUTH_MODES and previous.subject == identity.subject:
        connection = connection_with_token(previous, token)
        _store(token, connection)
        return connection
    connection = Connection(
        mode="oauth",
        access_token=token["access_token"],
        quota_project=_quota_project(),
        subject=identity.subject,
        email=identity.email,
        name=identity.name,
        picture=identity.picture,
        expires_at=oauth.expires_at(token),
        base_url=config.gemini_base_url,
    )
    _store(token, connection)
    return connection


def _store(token: dict[str, Any], connection: Connection) -> None:
    st.session_state[TOKEN_KEY] = token
    st.session_state[CONNECTION_KEY] = connection
    st.session_state.pop(NOTICE_KEY, None)


def connection_with_token(connection: Connection, token: Mapping[str, Any]) -> Connection:
    """The same connection carrying a renewed access token."""
    return replace(connection, access_token=token["access_token"], expires_at=oauth.expires_at(token))


def token_ready() -> bool:
    """Generating needs no token renewal and no new sign-in right now (checked without drawing anything)."""
    connection = st.session_state.get(CONNECTION_KEY)
    if connection is None or getattr(connection, "mode", None) not in OAUTH_MODES:
        return True
    token = st.session_state.get(TOKEN_KEY)
    return token is not None and not oauth.needs_refresh(token)


def ensure_fresh_token() -> bool:
    """Call before generating. Renews a token within 5 min of expiry; False means "do not generate".

    When the token cannot be renewed (expired without refresh token, revoked) the dead token is
    dropped and the script reruns, so ``render_sign_in_again()`` shows why and offers the button.
    The connection, prompt, references and results stay in session_state untouched.
    """
    connection = st.session_state.get(CONNECTION_KEY)
    if connection is None or getattr(connection, "mode", None) not in OAUTH_MODES:
        return True
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        st.warning(st.session_state.get(NOTICE_KEY) or SIGN_IN_AGAIN)
        return False
    if not oauth.needs_refresh(token):
        return True
    config = oauth_config()
    try:
        if config is None:
            raise oauth.SignInRequired("Sign in with Google is no longer configured here.")
        fresh = oauth.refresh(config, token)
    except oauth.SignInRequired as exc:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[NOTICE_KEY] = str(exc)
        st.rerun()
    except oauth.OAuthError as exc:  # provider unreachable: keep the token, try again later
        st.error(str(exc))
        return False
    st.session_state[TOKEN_KEY] = fresh
    st.session_state[CONNECTION_KEY] = connection_with_token(connection, fresh)
    return True


def needs_sign_in_again() -> bool:
    """Connected through Google but holding no usable token (it expired or was refused)."""
    connection = st.session_state.get(CONNECTION_KEY)
    return getattr(connection, "mode", None) in OAUTH_MODES and not st.session_state.get(TOKEN_KEY)


def render_sign_in_again() -> None:
    """Render on every run (app.py, main area): why the sign-in ended, and the button, in place.

    It must render on every run, not only after a click: the popup's answer comes back on a later
    rerun and is read only if the same button is on the page then.
    """
    if needs_sign_in_again():
        st.warning(st.session_state.get(NOTICE_KEY) or SIGN_IN_AGAIN)
        render_google_sign_in(key="google_sign_in_again", show_quota_field=False, show_notice=False)


def sign_out() -> None:
    """Revoke the Google grant (if any) and forget the connection; results stay viewable."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        config = oauth_config()
        if config is not None:
            oauth.revoke(config, token)
    st.session_state.pop(CONNECTION_KEY, None)
    st.session_state.pop(NOTICE_KEY, None)


def token_seconds_left() -> float | None:
    """Seconds until the Google token expires (for the Account page), ``None`` if not signed in."""
    token = st.session_state.get(TOKEN_KEY)
    return oauth.seconds_left(token, time.time()) if token else None


def render_vertex_fields(*, key: str = "vertex") -> None:
    """Project and location for Vertex AI with the signed-in user's token (cloud-platform scope)."""
    token = st.session_state.get(TOKEN_KEY)
    config = oauth_config()
    if not token or config is None:
        st.caption("Vertex AI uses your Google sign-in: sign in with Google first.")
        return
    if not config.allows_vertex:
        st.caption("Vertex AI needs the cloud-platform scope, which this deployment does not request.")
        return
    connection = st.session_state.get(CONNECTION_KEY)
    st.text_input("Vertex AI project id", key=VERTEX_PROJECT_KEY, placeholder="my-gcp-project-id")
    st.text_input("Vertex AI location", key=VERTEX_LOCATION_KEY, placeholder="global")
    cols = st.columns(2)
    if cols[0].button("Use Vertex AI", key=f"{key}_use", disabled=not st.session_state.get(VERTEX_PROJECT_KEY)):
        _switch_mode(connection, "vertex", config)
    if getattr(connection, "mode", None) == "vertex" and cols[1].button("Back to the Gemini API", key=f"{key}_back"):
        _switch_mode(connection, "oauth", config)


def _switch_mode(connection: Connection | None, mode: str, config: OAuthConfig) -> None:
    """Each API keeps its own endpoint: Vertex calls never go to a Gemini API base URL, nor the reverse."""
    if connection is None:
        return
    if mode == "vertex":
        project = str(st.session_state.get(VERTEX_PROJECT_KEY) or "").strip()
        location = str(st.session_state.get(VERTEX_LOCATION_KEY) or "").strip() or "global"
        st.session_state[CONNECTION_KEY] = replace(connection, mode="vertex", project=project, location=location,
                                                   base_url=config.vertex_base_url)
    else:
        st.session_state[CONNECTION_KEY] = replace(connection, mode="oauth", project=None, location=None,
                                                   base_url=config.gemini_base_url)
    st.rerun()


def explain_failure(failure: Any) -> str | None:
    """Extra words for a failure that needs them: a 429 "limit: 0" means no quota at all, not a pause."""
    if getattr(failure, "http_status", None) != 429:
        return None
    connection = st.session_state.get(CONNECTION_KEY)
    project = getattr(connection, "quota_project", None) or getattr(connection, "project", None)
    return oauth.no_quota_explanation(f"{getattr(failure, 'detail', '')} {getattr(failure, 'message', '')}", project)
