"""Image files of the history: named by generated ids and hashes only, written atomically.

No path is ever built from user input: a namespace becomes a hashed folder name, and files are
named by entry ids (uuid4 hex) or sha256 digests, both checked against strict patterns.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SAFE_NAME = re.compile(r"^[0-9a-f]{16,64}((\.thumb|\.d[0-9]|\.mask|\.raw)?\.(png|jpg|bin)|\.turn\.json)$")  # turn: threads; mask, raw: region edits


def namespace_key(namespace: str) -> str:
    """The folder name of one identity: a hash, so no namespace string can walk the file system."""
    return hashlib.sha256(namespace.encode("utf-8")).hexdigest()[:32]


def namespace_dir(root: Path, namespace: str) -> Path:
    return root / "ns" / namespace_key(namespace)


def safe_path(root: Path, namespace: str, name: str) -> Path:
    if not _SAFE_NAME.match(name):
        raise ValueError("refused a file name that the store did not make")
    return namespace_dir(root, namespace) / name


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file, fsync, then rename: a crash leaves the old state or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def extension(mime_type: str) -> str:
    return {"image/png": "png", "image/jpeg": "jpg"}.get(mime_type, "bin")
