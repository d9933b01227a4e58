"""Who may call the emulator: API keys, bearer tokens, and tokens vouched for by an OIDC userinfo URL."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

import httpx

from studio.emulator import errors

GEMINI_SCOPES = frozenset({
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/generative-language",
    "https://www.googleapis.com/auth/generative-language.retriever",
    "https://www.googleapis.com/auth/generative-language.tuning",
})


class CredentialBook:
    """Accepted keys and tokens; changeable at run time through the admin API."""

    def __init__(self, api_keys: Iterable[str], bearer_tokens: Iterable[str], userinfo_url: str | None) -> None:
        self._lock = threading.Lock()
        self.api_keys = set(api_keys)
        self._tokens: dict[str, frozenset[str] | None] = dict.fromkeys(bearer_tokens)
        self._revoked: set[str] = set()
        self.userinfo_url = userinfo_url

    def add_tokens(self, tokens: Iterable[str], scopes: Mapping[str, list[str]] | None = None) -> None:
        with self._lock:
            for token in tokens:
                self._tokens[token] = None
                self._revoked.discard(token)
            for token, granted in (scopes or {}).items():
                self._tokens[token] = frozenset(granted)

    def revoke(self, tokens: Iterable[str]) -> None:
        with self._lock:
            for token in tokens:
                self._tokens.pop(token, None)
                self._revoked.add(token)

    def check(self, headers: Mapping[str, str], query_key: str | None) -> None:
        """Raise the ApiError Google would answer with, or return when the caller is let in."""
        key = headers.get("x-goog-api-key") or query_key
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if key and token:
            raise errors.key_and_token()
        if key:
            if key not in self.api_keys:
                raise errors.api_key_invalid()
            return
        if not token:
            raise errors.no_credentials()
        self._check_token(token)

    def _check_token(self, token: str) -> None:
        with self._lock:
            known, scopes, revoked = token in self._tokens, self._tokens.get(token), token in self._revoked
        if revoked:
            raise errors.unauthenticated()
        if known:
            if scopes is not None and not scopes & GEMINI_SCOPES:
                raise errors.scope_insufficient()
            return
        if self.userinfo_url and self._vouched_by_userinfo(token):
            return
        raise errors.unauthenticated()

    def _vouched_by_userinfo(self, token: str) -> bool:
        """Ask the identity provider on every call, so a revoked token stops working at once."""
        try:
            answer = httpx.get(self.userinfo_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200
