"""The Files API as the SDK's ``client.files`` uses it: resumable upload, get, list, delete, ``fileData`` parts.

Upload is Google's resumable protocol: ``POST /upload/v1beta/files`` with ``X-Goog-Upload-Command:
start`` answers an ``X-Goog-Upload-URL``; the bytes go there with ``upload, finalize`` and the
answer is ``{"file": {...}}`` with ``X-Goog-Upload-Status: final``. Files live in memory (bounded),
``ACTIVE`` at once, and a ``fileData.fileUri`` naming one is read like an inline image. A file
the caller cannot see is 403, as at Google.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from studio.emulator import errors

MAX_TOTAL_BYTES = 256 * 1024 * 1024  # the emulator's own bound (Google allows 20 GB per project)
LIFETIME = timedelta(hours=48)  # Google deletes uploaded files after 48 hours


@dataclass
class StoredFile:
    resource: dict
    data: bytearray = field(default_factory=bytearray)
    final: bool = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class FileStore:
    """Uploaded files of one emulator; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}  # by name "files/abc"
        self._uploads: dict[str, str] = {}  # upload id -> file name

    def start(self, meta: dict, base_url: str, version: str) -> str:
        """Register an upload; returns its upload URL."""
        file_meta = meta.get("file") or {}
        name = str(file_meta.get("name") or f"files/{secrets.token_hex(6)}")
        name = name if name.startswith("files/") else f"files/{name}"
        now = _now()
        resource = {"name": name, "mimeType": str(file_meta.get("mimeType") or file_meta.get("mime_type")
                                                  or "application/octet-stream"),
                    "sizeBytes": "0", "createTime": now, "updateTime": now,
                    "expirationTime": (datetime.now(UTC) + LIFETIME).isoformat().replace("+00:00", "Z"),
                    "sha256Hash": "", "uri": f"{base_url}/{version}/{name}", "state": "PROCESSING",
                    "source": "UPLOADED"}
        if file_meta.get("displayName") or file_meta.get("display_name"):
            resource["displayName"] = str(file_meta.get("displayName") or file_meta.get("display_name"))
        upload_id = secrets.token_urlsafe(16)
        with self._lock:
            if name in self._files:
                raise errors.ApiError(409, "ALREADY_EXISTS", f"File {name} already exists.")
            self._files[name] = StoredFile(resource)
            self._uploads[upload_id] = name
        return f"{base_url}/upload/{version}/files?upload_id={upload_id}&upload_protocol=resumable"

    def upload(self, upload_id: str, offset: int, chunk: bytes, finalize: bool) -> dict | None:
        """Append a chunk; on finalize the file turns ACTIVE and its resource is returned."""
        with self._lock:
            name = self._uploads.get(upload_id)
            stored = self._files.get(name or "")
            if stored is None or stored.final:
                raise errors.ApiError(404, "NOT_FOUND", "Upload not found or already finalized.")
            if offset != len(stored.data):
                raise errors.bad_request(f"Upload offset {offset} does not match the {len(stored.data)} bytes received.")
            if sum(len(f.data) for f in self._files.values()) + len(chunk) > MAX_TOTAL_BYTES:
                raise errors.ApiError(429, "RESOURCE_EXHAUSTED", "File storage quota exceeded for this emulator.")
            stored.data.extend(chunk)
            if not finalize:
                return None
            stored.final = True
            del self._uploads[upload_id]
            stored.resource.update(sizeBytes=str(len(stored.data)), updateTime=_now(), state="ACTIVE",
                                   sha256Hash=base64.b64encode(hashlib.sha256(stored.data).digest()).decode())
            return dict(stored.resource)

    def put_generated(self, file_id: str, data: bytes, mime_type: str) -> str:
        """A file the service made (a batch's answers): ``source: GENERATED``, downloadable. Returns its name."""
        name, now = f"files/{file_id}", _now()
        resource = {"name": name, "mimeType": mime_type, "sizeBytes": str(len(data)), "createTime": now,
                    "updateTime": now, "expirationTime": (datetime.now(UTC) + LIFETIME).isoformat().replace(
                        "+00:00", "Z"),
                    "sha256Hash": base64.b64encode(hashlib.sha256(data).digest()).decode(), "state": "ACTIVE",
                    "source": "GENERATED", "downloadUri": f"{name}:download?alt=media"}
        with self._lock:
            self._files[name] = StoredFile(resource, bytearray(data), final=True)
        return name

    def download(self, name: str) -> bytes:
        """A generated file's bytes; uploaded files cannot be downloaded, as at Google."""
        with self._lock:
            stored = self._files.get(name)
            if stored is None or not stored.final:
                raise self.denied(name)
            if stored.resource.get("source") != "GENERATED":
                raise errors.bad_request("Only generated files can be downloaded; uploaded files cannot.")
            return bytes(stored.data)

    def get(self, name: str) -> dict:
        with self._lock:
            stored = self._files.get(name)
            if stored is None or not stored.final:
                raise self.denied(name)
            return dict(stored.resource)

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(f.resource) for f in self._files.values() if f.final]

    def delete(self, name: str) -> None:
        with self._lock:
            if name not in self._files:
                raise self.denied(name)
            del self._files[name]

    def read(self, uri: str) -> bytes:
        """The bytes a ``fileData.fileUri`` (full URI or ``files/abc``) names."""
        name = "files/" + uri.rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            stored = self._files.get(name)
            if stored is None or not stored.final:
                raise self.denied(name)
            return bytes(stored.data)

    @staticmethod
    def denied(name: str) -> errors.ApiError:
        return errors.ApiError(403, "PERMISSION_DENIED",
                               f"You do not have permission to access the File {name.removeprefix('files/')} "
                               "or it may not exist.")
