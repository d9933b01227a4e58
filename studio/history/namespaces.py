"""Whose history is it: one namespace per identity, never derived from a secret in the clear.

A Google sign-in is its subject and a person's own API key its salted hash. The offline emulator and the
key configured on the server say nothing about who uses them, so each browser that uses them gets a History
of its own, filed under a salted hash of a random id the browser keeps (``new_browser_id``); only an
operator's explicit ``shared_history`` puts every such visitor in one shared History.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from studio.credentials import Connection

LOCAL = "local"
BROWSER_ID_BYTES = 32
_BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # what new_browser_id makes: 32 random bytes, URL-safe base64
SHARED_HISTORY_ENV = "STUDIO_SHARED_HISTORY"
SALT_ENV = "STUDIO_NAMESPACE_SALT"
REQUIRE_SALT_ENV = "STUDIO_REQUIRE_CONFIGURED_SALT"
DATABASE_URL_ENV = "STUDIO_DATABASE_URL"


class SaltNotConfigured(RuntimeError):
    """A shared History needs the same salt on every replica, so it must come from configuration."""


def salt_required(env: Mapping[str, str] | None = None, database_url: str | None = None) -> bool:
    """A shared backend (any non-SQLite database URL) or an explicit demand needs a configured salt.

    A salt file in one replica's data folder would hash the same API key into a different namespace
    on every other replica, splitting a person's History.
    """
    env = os.environ if env is None else env
    url = (database_url or env.get(DATABASE_URL_ENV) or "").strip()
    demanded = (env.get(REQUIRE_SALT_ENV) or "").strip().lower() in ("1", "true", "yes", "on")
    return demanded or bool(url and not url.lower().startswith("sqlite:"))


def _configured(configured: str | None, env: Mapping[str, str]) -> str | None:
    value = (env.get(SALT_ENV) or "").strip() or (str(configured).strip() if configured else "")
    return value or None


def check_salt(configured: str | None = None, env: Mapping[str, str] | None = None,
               database_url: str | None = None) -> None:
    """Raise ``SaltNotConfigured`` (a plain message) when a salt is required but none is configured.

    ``configured`` is ``[studio] namespace_salt`` from the secrets; the environment wins over it.
    """
    env = os.environ if env is None else env
    if salt_required(env, database_url) and _configured(configured, env) is None:
        raise SaltNotConfigured(
            "This studio shares its History (a database other than the local SQLite file, or "
            f"{REQUIRE_SALT_ENV}=1), so every replica must file API-key users under the same names. "
            f"Set {SALT_ENV} in the environment, or namespace_salt under [studio] in the secrets, to a long "
            "random string (the same on every replica; for example the output of "
            "`python -c \"import secrets; print(secrets.token_hex(32))\"`) and restart the studio.")


def _salt(data_dir: Path, configured: str | None = None) -> bytes:
    """A per-installation salt, so a key's namespace cannot be looked up from the key elsewhere.

    The environment or ``configured`` (``[studio] namespace_salt``) wins; otherwise the default
    SQLite setup keeps a random salt in the data folder, and a shared backend refuses.
    """
    value = _configured(configured, os.environ)
    if value:
        return value.encode()
    check_salt(None)
    path = data_dir / "namespace.salt"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "xb") as fh:
                fh.write(secrets.token_bytes(32))
        except FileExistsError:
            pass
    return path.read_bytes()


def new_browser_id() -> str:
    """A browser's anonymous identity: 256 random bits, never derived from anything about the visitor."""
    return secrets.token_urlsafe(BROWSER_ID_BYTES)


def is_browser_id(value: object) -> bool:
    """Only an id shaped like ``new_browser_id``'s counts: a short or hand-made cookie is replaced, not trusted."""
    return isinstance(value, str) and _BROWSER_ID.fullmatch(value) is not None


def is_anonymous(connection: Connection | None) -> bool:
    """The credential says nothing about who uses it: the offline emulator, or the server's key without a sign-in."""
    if connection is None:
        return True
    if connection.google_subject:
        return False
    return connection.mode == "offline" or connection.shared_key


def shared_history_setting(value: object, env: Mapping[str, str] | None = None) -> bool:
    """``[team] shared_history`` (or ``STUDIO_SHARED_HISTORY``): anonymous visitors share one History.

    Off unless an operator says so; a value that is not clearly true or false raises ``ValueError`` (a plain
    message), since guessing would either expose people's work or hide a History the operator meant to share.
    """
    env = os.environ if env is None else env
    for raw, where in ((value, "[team] shared_history"), (env.get(SHARED_HISTORY_ENV), SHARED_HISTORY_ENV)):
        if raw is None or raw == "":
            continue
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{where} must be true or false, not {raw!r}.")
    return False


def _digest(data_dir: Path, salt: str | None, text: str) -> str:
    return hmac.new(_salt(data_dir, salt), text.encode(), hashlib.sha256).hexdigest()[:32]


def namespace_for(connection: Connection | None, data_dir: Path, salt: str | None = None, *,
                  browser_id: str | None = None, shared: bool = False) -> str:
    """Google subject for signed-in people (also while they use the server's key), a salted hash for API keys,
    and for anonymous visitors (offline, the server's key without a sign-in) a salted hash of their browser's id.

    ``salt`` is ``[studio] namespace_salt`` from the secrets, if any (the environment wins over it). Without a
    ``browser_id``, or with ``shared`` (the operator's ``shared_history``), anonymous visitors share one History:
    ``local`` offline, the key's hash with the server's key (what every visitor shared before browsers had ids).
    The emulator's and the real key's Histories stay apart for one browser too (emulated images are not paid).
    """
    if connection is not None and connection.google_subject:
        return f"google:{connection.google_subject}"
    if is_anonymous(connection) and browser_id is not None and not shared:
        if not is_browser_id(browser_id):
            raise ValueError("A browser id must come from new_browser_id().")
        kind = "offline" if connection is None or connection.mode == "offline" else "server-key"
        return f"browser:{_digest(data_dir, salt, f'{kind}|{browser_id}')}"
    if connection is None or connection.mode == "offline":
        return LOCAL
    if connection.api_key:
        return f"key:{_digest(data_dir, salt, connection.api_key)}"
    return LOCAL
