"""Sign in with Google, without Streamlit: config, token freshness, identity and revocation.

The Streamlit side (``components/auth.py``) drives the popup through streamlit-oauth; everything
that can be tested without a browser lives here. Any OIDC provider can stand in for Google
(tests use oidc-provider-mock) because every endpoint is configurable.

Token dicts are httpx-oauth ``OAuth2Token`` shapes: ``access_token``, ``expires_at`` (epoch s),
``refresh_token`` (only with ``access_type=offline``), ``scope``, ``token_type``, ``id_token``.
Nothing here logs or formats a token.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

GOOGLE_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_REVOKE_URL = "https://oauth2.googleapis.com/revoke"
GOOGLE_USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"

DEFAULT_SCOPES: tuple[str, ...] = (
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/generative-language.retriever",
)
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

# streamlit-oauth's popup lands here; the provider must have this exact URI registered.
REDIRECT_PATH = "/component/streamlit_oauth.authorize_button"
# Refresh this long before expiry so a 60-second generation never starts on a dying token.
REFRESH_MARGIN_S = 300.0
HTTP_TIMEOUT_S = 15.0
BASE_URL_ENV = "STUDIO_GEMINI_BASE_URL"
VERTEX_BASE_URL_ENV = "STUDIO_VERTEX_BASE_URL"  # Vertex AI mode's endpoint (the emulator in tests)
# Ask for a refresh token: Google only issues one with offline access and a fresh consent.
AUTHORIZE_EXTRAS: dict[str, str] = {"access_type": "offline", "prompt": "consent"}


class OAuthError(Exception):
    """A sign-in step failed; the message is plain and never contains a token."""


class SignInRequired(OAuthError):
    """The token cannot be renewed (expired without refresh token, revoked): sign in again."""


class ConfigError(OAuthError):
    """``[oauth]`` is present but unusable (for example a client_id without a secret)."""


@dataclass(frozen=True)
class OAuthConfig:
    """The ``[oauth]`` secrets section, with Google's endpoints as defaults."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    authorize_url: str = GOOGLE_AUTHORIZE_URL
    token_url: str = GOOGLE_TOKEN_URL
    refresh_url: str = GOOGLE_TOKEN_URL
    revoke_url: str | None = GOOGLE_REVOKE_URL
    userinfo_url: str = GOOGLE_USERINFO_URL
    gemini_base_url: str | None = None
    vertex_base_url: str | None = None  # None: Google's own (or the SDK's GOOGLE_VERTEX_BASE_URL)

    @property
    def scope(self) -> str:
        """Space-separated, as streamlit-oauth and the authorization endpoint expect."""
        return " ".join(self.scopes)

    @property
    def allows_vertex(self) -> bool:
        """Vertex AI takes the user's token only with the cloud-platform scope."""
        return CLOUD_PLATFORM_SCOPE in self.scopes


def parse_scopes(value: object) -> tuple[str, ...]:
    """Scopes as a TOML list or one string separated by spaces or commas; empty means defaults."""
    if value is None:
        return DEFAULT_SCOPES
    if isinstance(value, str):
        items = value.replace(",", " ").split()
    elif isinstance(value, list | tuple):
        items = [str(v).strip() for v in value]
    else:
        raise ConfigError("[oauth] scopes must be a list of strings or one space-separated string.")
    scopes = tuple(dict.fromkeys(s for s in items if s))  # keep order, drop duplicates
    return scopes or DEFAULT_SCOPES


def _url(section: Mapping[str, Any], name: str, default: str | None) -> str | None:
    value = section.get(name)
    if value is None or str(value).strip() == "":
        return default
    url = str(value).strip()
    if urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"[oauth] {name} must be an http(s) URL.")
    return url


def load_config(section: Mapping[str, Any] | None, env: Mapping[str, str] | None = None) -> OAuthConfig | None:
    """Parse ``st.secrets["oauth"]`` (any mapping). ``None`` means sign-in is not configured."""
    env = os.environ if env is None else env
    if not section or not str(section.get("client_id") or "").strip():
        return None
    secret = str(section.get("client_secret") or "").strip()
    if not secret:
        raise ConfigError("[oauth] client_secret is missing.")
    token_url = _url(section, "token_url", GOOGLE_TOKEN_URL)
    assert token_url is not None
    revoke_default = GOOGLE_REVOKE_URL if token_url == GOOGLE_TOKEN_URL else None
    return OAuthConfig(
        client_id=str(section["client_id"]).strip(),
        client_secret=secret,
        redirect_uri=_url(section, "redirect_uri", None),
        scopes=parse_scopes(section.get("scopes")),
        authorize_url=_url(section, "authorize_url", GOOGLE_AUTHORIZE_URL) or GOOGLE_AUTHORIZE_URL,
        token_url=token_url,
        refresh_url=_url(section, "refresh_url", token_url) or token_url,
        revoke_url=_url(section, "revoke_url", revoke_default),
        userinfo_url=_url(section, "userinfo_url", GOOGLE_USERINFO_URL) or GOOGLE_USERINFO_URL,
        gemini_base_url=_url(section, "gemini_base_url", None) or (env.get(BASE_URL_ENV) or None),
        vertex_base_url=_url(section, "vertex_base_url", None) or (env.get(VERTEX_BASE_URL_ENV) or None),
    )


def redirect_uri_for(app_url: str) -> str:
    """The redirect URI streamlit-oauth needs for an app served at ``app_url`` (its origin only)."""
    parts = urlsplit(app_url)
    return f"{parts.scheme}://{parts.netloc}{REDIRECT_PATH}"


# --- token freshness -------------------------------------------------------------------------


def expires_at(token: Mapping[str, Any]) -> float | None:
    """Epoch seconds when the access token dies; ``None`` when the provider did not say."""
    value = token.get("expires_at")
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def seconds_left(token: Mapping[str, Any], now: float | None = None) -> float | None:
    """Seconds until expiry (negative once expired); ``None`` when unknown."""
    at = expires_at(token)
    if at is None:
        return None
    return at - (time.time() if now is None else now)


def needs_refresh(token: Mapping[str, Any], now: float | None = None, margin_s: float = REFRESH_MARGIN_S) -> bool:
    """True within ``margin_s`` of expiry. Unknown expiry counts as fresh: the API will say 401."""
    left = seconds_left(token, now)
    return left is not None and left <= margin_s


def merge_refreshed(old: Mapping[str, Any], answer: Mapping[str, Any], now: float | None = None) -> dict[str, Any]:
    """The new token dict after a refresh.

    Google's refresh answer carries no ``refresh_token`` (streamlit-oauth 0.1.14 then loses it and
    the second refresh fails), so the old one is kept unless the answer rotates it.
    """
    now = time.time() if now is None else now
    token = dict(answer)
    if not token.get("refresh_token") and old.get("refresh_token"):
        token["refresh_token"] = old["refresh_token"]
    if "expires_at" in token:
        token["expires_at"] = int(float(token["expires_at"]))
    elif "expires_in" in token:
        token["expires_at"] = int(now + float(token["expires_in"]))
    if not token.get("scope") and old.get("scope"):
        token["scope"] = old["scope"]
    return token


def _client(http: httpx.Client | None) -> httpx.Client:
    return http if http is not None else httpx.Client(timeout=HTTP_TIMEOUT_S)


def refresh(config: OAuthConfig, token: Mapping[str, Any], *, http: httpx.Client | None = None,
            now: float | None = None) -> dict[str, Any]:
    """Exchange the refresh token for a new access token (keeping the refresh token).

    Raises ``SignInRequired`` when there is no refresh token or the provider refuses it
    (revoked, or the consent was withdrawn), ``OAuthError`` when the provider is unreachable.
    """
    refresh_token = token.get("refresh_token")
    if not refresh_token:
        raise SignInRequired("Your Google sign-in has expired. Sign in again; your work here is kept.")
    client = _client(http)
    try:
        response = client.post(
            config.refresh_url,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(config.client_id, config.client_secret),
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise OAuthError(f"Could not reach the sign-in provider to renew the sign-in ({type(exc).__name__}).") from None
    finally:
        if http is None:
            client.close()
    if response.status_code in (400, 401, 403):
        raise SignInRequired("Your Google sign-in was revoked or has expired. Sign in again; your work here is kept.")
    if response.status_code != 200:
        raise OAuthError(f"The sign-in provider answered HTTP {response.status_code} while renewing the sign-in.")
    try:
        answer = response.json()
    except ValueError:
        raise OAuthError("The sign-in provider's renewal answer could not be read.") from None
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise OAuthError("The sign-in provider's renewal answer had no access token.")
    return merge_refreshed(token, answer, now)


# --- identity ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who signed in, as the provider's userinfo endpoint says (the id_token is never trusted)."""

    subject: str
    email: str | None = None
    name: str | None = None
    picture: str | None = None


def fetch_identity(config: OAuthConfig, access_token: str, *, http: httpx.Client | None = None) -> Identity:
    """Ask the provider who owns ``access_token``; a refused token raises ``SignInRequired``."""
    client = _client(http)
    try:
        response = client.get(config.userinfo_url, headers={"Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError as exc:
        raise OAuthError(f"Could not reach the sign-in provider to read your profile ({type(exc).__name__}).") from None
    finally:
        if http is None:
            client.close()
    if response.status_code in (400, 401, 403):  # 400: some providers' answer to an unknown token
        raise SignInRequired("The sign-in provider did not accept the new sign-in. Try signing in again.")
    if response.status_code != 200:
        raise OAuthError(f"The sign-in provider answered HTTP {response.status_code} when asked for your profile.")
    try:
        claims = response.json()
    except ValueError:
        raise OAuthError("The sign-in provider's profile answer could not be read.") from None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    if not subject:
        raise OAuthError("The sign-in provider's profile answer had no subject id.")

    def text(name: str) -> str | None:
        value = claims.get(name)
        return str(value) if value else None

    return Identity(subject=str(subject), email=text("email"), name=text("name"), picture=text("picture"))


# --- sign-out ----------------------------------------------------------------------------------


def revoke(config: OAuthConfig, token: Mapping[str, Any], *, http: httpx.Client | None = None) -> bool:
    """Revoke the grant (RFC 7009): the refresh token, then the access token. True if any was accepted.

    Revoking at Google ends the whole grant; other providers may need both. Errors are swallowed
    because sign-out must succeed locally even when the provider is unreachable.
    """
    if not config.revoke_url:
        return False
    client = _client(http)
    accepted = False
    try:
        for hint in ("refresh_token", "access_token"):
            value = token.get(hint)
            if not value:
                continue
            try:
                response = client.post(
                    config.revoke_url,
                    data={"token": value, "token_type_hint": hint},
                    auth=(config.client_id, config.client_secret),
                )
            except httpx.HTTPError:
                continue
            accepted = accepted or response.status_code == 200
    finally:
        if http is None:
            client.close()
    return accepted


# --- billing -----------------------------------------------------------------------------------


def no_quota_explanation(detail: str, quota_project: str | None) -> str | None:
    """A plain explanation when a 429 says ``limit: 0`` (the project has no quota for the model).

    Returns ``None`` for an ordinary, temporary quota error.
    """
    compact = detail.replace(" ", "").lower()
    if "limit:0" not in compact and '"limit":"0"' not in compact:
        return None
    project = f"project `{quota_project}`" if quota_project else "the OAuth client's own project (no quota project set)"
    return (
        f"The API says {project} has no quota at all for this model (limit: 0). This is not a passing "
        "rate limit: the project needs billing enabled (Nano Banana Pro has no free tier), or the model "
        "is not available to it. Enable billing on a Google Cloud project, enter its id as the quota "
        "project on the Account page, or choose another model."
    )
