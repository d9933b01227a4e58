"""Where History keeps image bytes: a local folder, or memory for private sessions.

The store names every blob itself (entry ids, sha256 digests) and keeps one folder per identity,
so no user input ever becomes a path. Records are committed only after their blobs are written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from studio.history import files


@dataclass(frozen=True)
class BlobInfo:
    """One stored blob, for the orphan sweep."""

    namespace_key: str  # the hashed folder name, not the namespace itself
    name: str
    modified_at: float


class BlobStore(Protocol):
    """The blob side of History: put, get, exists, delete, and a listing for the orphan sweep."""

    def put(self, namespace: str, name: str, data: bytes) -> None: ...
    def get(self, namespace: str, name: str) -> bytes | None: ...
    def exists(self, namespace: str, name: str) -> bool: ...
    def delete(self, namespace: str, name: str) -> None: ...
    def delete_listed(self, info: BlobInfo) -> None: ...
    def listing(self) -> Iterator[BlobInfo]: ...
    def close(self) -> None: ...


class LocalBlobs:
    """Files under ``root/ns/<hash of namespace>/``, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, namespace: str, name: str, data: bytes) -> None:
        files.write_atomic(files.safe_path(self.root, namespace, name), data)

    def get(self, namespace: str, name: str) -> bytes | None:
        return files.read(files.safe_path(self.root, namespace, name))

    def exists(self, namespace: str, name: str) -> bool:
        return files.safe_path(self.root, namespace, name).exists()

    def delete(self, namespace: str, name: str) -> None:
        files.safe_path(self.root, namespace, name).unlink(missing_ok=True)

    def delete_listed(self, info: BlobInfo) -> None:
        (self.root / "ns" / info.namespace_key / info.name).unlink(missing_ok=True)

    def listing(self) -> Iterator[BlobInfo]:
        base = self.root / "ns"
        if not base.exists():
            return
        for folder in base.iterdir():
            for path in folder.iterdir():
                try:
                    yield BlobInfo(folder.name, path.name, path.stat().st_mtime)
                except FileNotFoundError:
                    continue

    def close(self) -> None:
        """Nothing to release: the files are the point."""


class MemoryBlobs:
    """Blobs in this process's memory only (private sessions): nothing touches the disk; close() frees them."""

    def __init__(self) -> None:
        self._blobs: dict[tuple[str, str], tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def put(self, namespace: str, name: str, data: bytes) -> None:
        files.safe_path(Path("/"), namespace, name)  # the same name rules as on disk
        with self._lock:
            self._blobs[(files.namespace_key(namespace), name)] = (bytes(data), time.time())

    def get(self, namespace: str, name: str) -> bytes | None:
        with self._lock:
            found = self._blobs.get((files.namespace_key(namespace), name))
        return found[0] if found else None

    def exists(self, namespace: str, name: str) -> bool:
        return self.get(namespace, name) is not None

    def delete(self, namespace: str, name: str) -> None:
        with self._lock:
            self._blobs.pop((files.namespace_key(namespace), name), None)

    def delete_listed(self, info: BlobInfo) -> None:
        with self._lock:
            self._blobs.pop((info.namespace_key, info.name), None)

    def listing(self) -> Iterator[BlobInfo]:
        with self._lock:
            items = list(self._blobs.items())
        for (key, name), (_, modified) in items:
            yield BlobInfo(key, name, modified)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return sum(len(data) for data, _ in self._blobs.values())

    def close(self) -> None:
        with self._lock:
            self._blobs.clear()
