"""Whose history is it: one namespace per identity, never derived from a secret in the clear."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from studio.credentials import Connection

LOCAL = "local"
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


def namespace_for(connection: Connection | None, data_dir: Path, salt: str | None = None) -> str:
    """Google subject for signed-in people (also while they use the server's key), a salted hash for API keys,
    ``local`` offline.

    ``salt`` is ``[studio] namespace_salt`` from the secrets, if any (the environment wins over it).
    """
    if connection is None or connection.mode == "offline":
        return LOCAL
    if connection.google_subject:
        return f"google:{connection.google_subject}"
    if connection.api_key:
        digest = hmac.new(_salt(data_dir, salt), connection.api_key.encode(), hashlib.sha256).hexdigest()
        return f"key:{digest[:32]}"
    return LOCAL
