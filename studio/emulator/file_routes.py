"""HTTP routes of the Files API (storage in ``files.py``): ``/upload/{v}/files`` and ``/{v}/files[/{id}]``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from studio.emulator import errors
from studio.emulator.wire import WireHandler

UPLOAD = re.compile(r"^/upload/(v1|v1beta|v1alpha)/files$")
FILES = re.compile(r"^/(v1|v1beta|v1alpha)/files(?:/([a-z0-9-]+))?$")


class FileRoutes(WireHandler):
    """The Files API part of a handler; each method answers, or returns False when the path is not its own."""

    def files_post(self, raw: bytes) -> bool:
        match = UPLOAD.match(urlsplit(self.path).path)
        if not match:
            return False
        try:
            upload_id = self.query().get("upload_id")
            if upload_id:  # the upload URL is the credential: the SDK sends no key with the bytes
                return self._upload_chunk(upload_id, raw)
            self.auth()
            if (self.headers.get("X-Goog-Upload-Command") or "").lower() != "start":
                raise errors.bad_request("Only resumable uploads are served: send X-Goog-Upload-Command: start.")
            url = self.state.files.start(self.parse_json(raw), self.base_url(), match.group(1))
            self.send_bytes(200, b"", headers={"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"})
        except errors.ApiError as err:
            self.send_json(err.code, err.body())
        return True

    def _upload_chunk(self, upload_id: str, raw: bytes) -> bool:
        commands = {c.strip() for c in (self.headers.get("X-Goog-Upload-Command") or "").lower().split(",")}
        offset = int(self.headers.get("X-Goog-Upload-Offset") or 0)
        resource = self.state.files.upload(upload_id, offset, raw, finalize="finalize" in commands)
        if resource is None:
            self.send_bytes(200, b"", headers={"X-Goog-Upload-Status": "active"})
        else:
            self.send_json(200, {"file": resource}, headers={"X-Goog-Upload-Status": "final"})
        return True

    def files_get(self) -> bool:
        match = FILES.match(urlsplit(self.path).path)
        if not match:
            return False
        try:
            self.auth()
            name = match.group(2)
            if name:
                self.send_json(200, self.state.files.get(f"files/{name}"))
            else:
                files = self.state.files.list()
                self.send_json(200, {"files": files} if files else {})
        except errors.ApiError as err:
            self.send_json(err.code, err.body())
        return True

    def files_delete(self) -> bool:
        match = FILES.match(urlsplit(self.path).path)
        if not match or not match.group(2):
            return False
        try:
            self.auth()
            self.state.files.delete(f"files/{match.group(2)}")
            self.send_json(200, {})
        except errors.ApiError as err:
            self.send_json(err.code, err.body())
        return True
