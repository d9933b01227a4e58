"""One client factory for the three ways to connect: API key, Google OAuth token, Vertex AI.

google-genai has no OAuth path for the Gemini Developer API, so OAuth mode uses a placeholder
key and injected httpx clients whose auth hook drops ``x-goog-api-key`` and sends the bearer token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import httpx
from google import genai
from google.genai import types

from studio.results import Failure

MODES = ("api_key", "oauth", "vertex", "offline")
_PLACEHOLDER_KEY = "oauth-bearer-placeholder"  # never sent: the auth hook removes it


@dataclass(frozen=True)
class Connection:
    """How this session reaches Gemini. Secrets are kept out of repr and str."""

    mode: str
    api_key: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    quota_project: str | None = None
    project: str | None = None  # Vertex AI project
    location: str | None = None  # Vertex AI location
    base_url: str | None = None  # the emulator, or a custom endpoint
    subject: str | None = None
    email: str | None = None
    name: str | None = None
    picture: str | None = None
    expires_at: float | None = None
    # mode "api_key" with the key configured on the server, used by a person signed in with Google: the key
    # spends the owner's quota, the identity (subject, email: History, the team check) stays the Google one
    server_key: bool = False
    email_verified: bool | None = None  # the provider's word on ``email``, carried when it cannot be asked again
    # mode "api_key" with the key configured on the server, used by someone not signed in: the key says nothing
    # about who they are, so their History is their browser's (studio/history/namespaces.py), never the key's
    shared_key: bool = False

    @property
    def vertex_project(self) -> str | None:
        """The Vertex AI project (stored as ``project``)."""
        return self.project

    def secrets(self) -> tuple[str, ...]:
        """Every secret string this connection carries, for redaction."""
        return tuple(s for s in (self.api_key, self.access_token) if s)

    @property
    def is_offline(self) -> bool:
        return self.mode == "offline"

    @property
    def google_subject(self) -> str | None:
        """Who this is, when Google says so: a Google sign-in's subject, also while it uses the server's key."""
        if self.mode in ("oauth", "vertex") or (self.mode == "api_key" and self.server_key):
            return self.subject or None
        return None

    @property
    def label(self) -> str:
        if self.server_key or self.shared_key:
            return "Key configured on this server"
        return {"api_key": "Gemini API key", "oauth": "Google account", "vertex": "Vertex AI",
                "offline": "Offline emulator"}.get(self.mode, self.mode)

    def expires_in_s(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - time.time()


def with_server_key(google: Connection, key: str, *, email: str | None, email_verified: bool,
                    base_url: str | None = None) -> Connection:
    """A Google sign-in switched to the key configured on the server: same identity, the server's key.

    ``email`` and ``email_verified`` are the provider's word (asked with the person's token), carried so the
    team check needs no token while the key is in use. ValueError for a connection that is not a Google
    sign-in: a key says nothing about who uses it. The quota project is kept for the way back; a key does
    not send it.
    """
    if google.mode not in ("oauth", "vertex") or not google.subject:
        raise ValueError("Only a Google sign-in can keep its identity while using the server's key.")
    return Connection(mode="api_key", api_key=key, base_url=base_url, server_key=True, subject=google.subject,
                      email=email, name=google.name, picture=google.picture, email_verified=email_verified,
                      quota_project=google.quota_project)


def back_to_google(connection: Connection, access_token: str | None, expires_at: float | None,
                   base_url: str | None) -> Connection:
    """The Google sign-in again (mode ``oauth``) after using the server's key; the server's key is dropped."""
    if not connection.server_key:
        raise ValueError("This connection is not using the server's key.")
    return Connection(mode="oauth", access_token=access_token, expires_at=expires_at, base_url=base_url,
                      subject=connection.subject, email=connection.email, name=connection.name,
                      picture=connection.picture, quota_project=connection.quota_project)


def normalize_api_key(raw: str | None) -> tuple[str, list[str]]:
    """The key without surrounding whitespace, and notes for the person; ValueError for an empty key."""
    if raw is None or not raw.strip():
        raise ValueError("Paste your Gemini API key first; the field is empty.")
    key = raw.strip()
    notes = []
    if key != raw:
        notes.append("Your key had spaces or line breaks around it; they were removed.")
    if any(c.isspace() for c in key):
        raise ValueError("The API key contains spaces in the middle; copy it again from Google AI Studio.")
    if not key.isascii() or not key.isprintable():
        raise ValueError("The API key contains characters a key never has (such as curly quotes); "
                         "copy it again from Google AI Studio.")
    return key, notes


class _BearerAuth(httpx.Auth):
    """Swap the placeholder API key for the user's OAuth token on every request.

    The token is read when each request goes out, so a retry after a long wait sends a renewed one.
    """

    def __init__(self, token: Callable[[], str], quota_project: str | None) -> None:
        self._token = token
        self._quota_project = quota_project

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.pop("x-goog-api-key", None)
        request.headers["Authorization"] = f"Bearer {self._token()}"
        if self._quota_project:
            request.headers["x-goog-user-project"] = self._quota_project
        yield request


def _http_options(connection: Connection, timeout_s: float | None,
                  token_source: Callable[[], str] | None = None) -> types.HttpOptions:
    # attempts=1: the engine owns retries (and tells the person about each); without retry_options the SDK
    # silently retries refused aiohttp connections after a 1-10 s sleep.
    kwargs: dict = {"api_version": "v1beta", "retry_options": types.HttpRetryOptions(attempts=1)}
    if connection.base_url:
        kwargs["base_url"] = connection.base_url
    if timeout_s:
        kwargs["timeout"] = int(timeout_s * 1000)
    if connection.mode == "oauth":
        fixed = connection.access_token or ""
        auth = _BearerAuth(token_source or (lambda: fixed), connection.quota_project)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        kwargs["httpx_client"] = httpx.Client(auth=auth, timeout=timeout_s, limits=limits)
        kwargs["httpx_async_client"] = httpx.AsyncClient(auth=auth, timeout=timeout_s, limits=limits)
    return types.HttpOptions(**kwargs)


def make_client(connection: Connection, timeout_s: float | None = None,
                token_source: Callable[[], str] | None = None) -> genai.Client:
    """A genai.Client for the connection. Keep a reference while its calls run.

    ``token_source`` (Google sign-in) gives the access token at send time, so one client outlives renewals.
    """
    if connection.mode not in MODES:
        raise ValueError(f"unknown connection mode {connection.mode!r}")
    options = _http_options(connection, timeout_s, token_source)
    if connection.mode == "vertex":
        from google.oauth2.credentials import Credentials

        options.api_version = None
        return genai.Client(vertexai=True, project=connection.project, location=connection.location or "global",
                            credentials=Credentials(connection.access_token,
                                                quota_project_id=connection.quota_project),
                            http_options=options)
    if connection.mode == "oauth":
        if not connection.access_token and token_source is None:
            raise ValueError("This Google sign-in has no access token; sign in again.")
        return genai.Client(api_key=_PLACEHOLDER_KEY, http_options=options)
    if connection.mode == "offline":
        if not connection.base_url:
            raise ValueError("Offline mode needs the emulator's address (base_url).")
        from studio.emulator.server import OFFLINE_API_KEY

        return genai.Client(api_key=connection.api_key or OFFLINE_API_KEY, http_options=options)
    if not connection.api_key:
        raise ValueError("This connection has no API key.")
    return genai.Client(api_key=connection.api_key, http_options=options)


def check_connection(client: genai.Client, secrets: tuple[str, ...] = ()) -> Failure | None:
    """A cheap call (list models) that proves the credentials work; the failure in plain words if not."""
    from studio.failures import classify_exception

    try:
        next(iter(client.models.list(config={"page_size": 1})), None)
    except Exception as exc:
        return classify_exception(exc, secrets)
    return None
