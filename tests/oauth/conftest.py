"""A real OIDC provider on loopback (oidc-provider-mock) standing in for Google.

oidc-provider-mock 0.3.4 has no RFC 7009 revocation endpoint, so one is added to its Flask app
(revoking any token ends the whole grant, as at Google). A ``before_request`` hook records the
token and revocation calls so tests can see refreshes, PKCE verifiers and revocations.
Refresh answers carry no ``refresh_token`` (authlib's default), exactly like Google's.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import httpx
import oidc_provider_mock
import pytest
from httpx_oauth.oauth2 import OAuth2Token
from oidc_provider_mock import User

ALICE = User(
    sub="alice-sub-0001",
    claims={"email": "alice@example.com", "name": "Alice Example", "picture": "https://example.com/alice.png"},
)
BOB = User(sub="bob-sub-0002", claims={"email": "bob@example.com", "name": "Bob Example"})
CLIENT_ID = "studio-test-client"
CLIENT_SECRET = "studio-test-secret"


@dataclass
class MockProvider:
    """A running provider plus what it was asked."""

    base_url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    issued: list[dict[str, Any]] = field(default_factory=list)  # token endpoint answers, in order

    @property
    def userinfo_url(self) -> str:
        return f"{self.base_url}/userinfo"

    def oauth_section(self, **extra: Any) -> dict[str, Any]:
        """An ``[oauth]`` secrets section pointing every endpoint at this provider."""
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "authorize_url": f"{self.base_url}/oauth2/authorize",
            "token_url": f"{self.base_url}/oauth2/token",
            "revoke_url": f"{self.base_url}/oauth2/revoke",
            "userinfo_url": self.userinfo_url,
            **extra,
        }

    def grants(self, grant_type: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c.get("path") == "/oauth2/token" and c.get("grant_type") == grant_type]

    def revocations(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c.get("path") == "/oauth2/revoke"]

    def pkce_verified(self) -> bool:
        """The authorization request carried an S256 challenge that the code exchange's verifier matches."""
        challenges = [c for c in self.calls if c.get("path") == "/oauth2/authorize" and c.get("code_challenge")]
        exchanges = [c for c in self.grants("authorization_code") if c.get("code_verifier")]
        if not challenges or not exchanges or challenges[-1].get("code_challenge_method") != "S256":
            return False
        digest = hashlib.sha256(exchanges[-1]["code_verifier"].encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=") == challenges[-1]["code_challenge"]

    def obtain_code(self, authorization_url: str, user: User = ALICE) -> str:
        """Approve an authorization URL as ``user`` (what the popup form does) and return the code."""
        with httpx.Client(timeout=10) as http:
            answer = http.post(authorization_url, data={"sub": user.sub})
        assert answer.status_code == 302, answer.text
        return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]

    def obtain_token(self, user: User = ALICE, redirect_uri: str = "http://localhost:9/cb") -> dict[str, Any]:
        """Run the authorization-code flow over plain HTTP (no browser) and return the token answer."""
        params = {
            "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri,
            "scope": "openid email profile", "state": "s1",
        }
        with httpx.Client(timeout=10) as http:
            answer = http.post(f"{self.base_url}/oauth2/authorize", params=params, data={"sub": user.sub})
            assert answer.status_code == 302, answer.text
            code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
            token = http.post(
                f"{self.base_url}/oauth2/token",
                data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
                auth=(CLIENT_ID, CLIENT_SECRET),
            )
            assert token.status_code == 200, token.text
            return dict(OAuth2Token(token.json()))  # the shape streamlit-oauth stores (adds expires_at)


def _install_extras(app: flask.Flask, calls: list[dict[str, Any]], issued: list[dict[str, Any]]) -> None:
    from oidc_provider_mock._storage import storage  # the provider's per-app store (a LocalProxy)

    @app.before_request
    def record() -> None:
        path = flask.request.path
        if path == "/oauth2/authorize":
            calls.append({"path": path, **flask.request.args.to_dict()})
        elif path in ("/oauth2/token", "/oauth2/revoke"):
            calls.append({"path": path, **flask.request.form.to_dict()})

    @app.after_request
    def remember(response: flask.Response) -> flask.Response:
        if flask.request.path == "/oauth2/token" and response.status_code == 200:
            issued.append(response.get_json())
        return response

    def revoke() -> tuple[str, int]:
        value = flask.request.form.get("token", "")
        owner = storage.get_access_token(value) or storage.get_refresh_token(value)
        if owner is not None:
            for token in list(storage.access_tokens()):
                if token.user_id == owner.user_id:
                    storage.remove_access_token(token.token)
            for token in list(storage.refresh_tokens()):
                if token.user_id == owner.user_id:
                    storage.remove_refresh_token(token.token)
        return "", 200  # RFC 7009: 200 even for unknown tokens

    app.add_url_rule("/oauth2/revoke", "revoke", revoke, methods=["POST"])


@pytest.fixture
def short_refreshed_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make refreshed access tokens live 120 s (authlib reads this default at issue time)."""
    from authlib.oauth2.rfc6750 import BearerTokenGenerator

    monkeypatch.setattr(BearerTokenGenerator, "DEFAULT_EXPIRES_IN", 120)


@pytest.fixture
def make_provider() -> Iterator[Any]:
    """Factory: ``make_provider(access_token_max_age=...)`` starts a provider for this test."""
    stack: list[Any] = []

    def start(access_token_max_age: timedelta = timedelta(hours=1)) -> MockProvider:
        ctx = oidc_provider_mock.run_server_in_thread(
            user_claims=[ALICE, BOB], access_token_max_age=access_token_max_age
        )
        server = ctx.__enter__()
        stack.append(ctx)
        provider = MockProvider(base_url=f"http://localhost:{server.server_port}")
        _install_extras(server.app, provider.calls, provider.issued)  # before its first request, as Flask requires
        return provider

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


@pytest.fixture
def provider(make_provider: Any) -> MockProvider:
    return make_provider()
