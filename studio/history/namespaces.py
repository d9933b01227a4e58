"""Whose history is it: one namespace per identity, never derived from a secret in the clear."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from studio.credentials import Connection

LOCAL = "local"


def _salt(data_dir: Path) -> bytes:
    """A per-installation salt, so a key's namespace cannot be looked up from the key elsewhere."""
    configured = os.environ.get("STUDIO_NAMESPACE_SALT")
    if configured:
        return configured.encode()
    path = data_dir / "namespace.salt"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "xb") as fh:
                fh.write(secrets.token_bytes(32))
        except FileExistsError:
            pass
    return path.read_bytes()


def namespace_for(connection: Connection | None, data_dir: Path) -> str:
    """Google subject for signed-in people, a salted hash for API keys, ``local`` offline."""
    if connection is None or connection.mode == "offline":
        return LOCAL
    if connection.mode in ("oauth", "vertex") and connection.subject:
        return f"google:{connection.subject}"
    if connection.api_key:
        digest = hmac.new(_salt(data_dir), connection.api_key.encode(), hashlib.sha256).hexdigest()
        return f"key:{digest[:32]}"
    return LOCAL
