"""Who may call the emulator: API keys, bearer tokens, and tokens vouched for by an OIDC userinfo URL."""

from __future__ import annotations

import threading
import time
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

    def __init__(self, api_keys: Iterable[str], bearer_tokens: Iterable[str], userinfo_url: str | None,
                 userinfo_cache_s: float = 30.0) -> None:
        self._lock = threading.Lock()
        self.api_keys = set(api_keys)
        self._tokens: dict[str, frozenset[str] | None] = dict.fromkeys(bearer_tokens)
        self._revoked: set[str] = set()
        self.userinfo_url = userinfo_url
        self.userinfo_cache_s = userinfo_cache_s
        self._vouched: dict[str, float] = {}  # token -> monotonic time the userinfo endpoint said 200
        self.userinfo_calls = 0

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
                self._vouched.pop(token, None)
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
        self.check_token(token)

    def check_token(self, token: str, accepted_scopes: frozenset[str] = GEMINI_SCOPES) -> None:
        """A bearer token: known (with one of ``accepted_scopes`` when its scopes are known) or vouched for."""
        with self._lock:
            known, scopes, revoked = token in self._tokens, self._tokens.get(token), token in self._revoked
        if revoked:
            raise errors.unauthenticated()
        if known:
            if scopes is not None and not scopes & accepted_scopes:
                raise errors.scope_insufficient()
            return
        if self.userinfo_url and self._vouched_by_userinfo(token):
            return
        if token.startswith("AIza"):  # an API key pasted where a Google token belongs
            raise errors.unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED")
        raise errors.unauthenticated()

    def _vouched_by_userinfo(self, token: str) -> bool:
        """GET the userinfo URL with the token; a 200 is trusted for ``userinfo_cache_s`` seconds.

        The cache spares the identity provider one call per image; a token revoked at the
        provider keeps working here until its cached answer expires (set 0 to ask every time).
        """
        now = time.monotonic()
        with self._lock:
            vouched_at = self._vouched.get(token)
        if vouched_at is not None and now - vouched_at < self.userinfo_cache_s:
            return True
        with self._lock:
            self.userinfo_calls += 1
        try:
            answer = httpx.get(str(self.userinfo_url), headers={"Authorization": f"Bearer {token}"}, timeout=10)
        except httpx.HTTPError:
            return False
        with self._lock:
            if answer.status_code == 200:
                self._vouched[token] = now
                if len(self._vouched) > 1024:  # forget the oldest answers
                    for old in sorted(self._vouched, key=self._vouched.__getitem__)[:512]:
                        del self._vouched[old]
            else:
                self._vouched.pop(token, None)
        return answer.status_code == 200

    def kind_of(self, headers: Mapping[str, str], query_key: str | None) -> str:
        """How the caller authenticated, for log lines that never show the secret."""
        if headers.get("x-goog-api-key") or query_key:
            return "key=***"
        return "bearer=***" if headers.get("authorization") else "anonymous"
