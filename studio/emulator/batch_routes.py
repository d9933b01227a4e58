"""HTTP routes of the Batch API (storage in ``batches.py``) and the download of generated files."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from studio.emulator import errors
from studio.emulator.wire import WireHandler

CREATE = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):batchGenerateContent$")
BATCH = re.compile(r"^/(v1|v1beta|v1alpha)/batches(?:/([a-z0-9]+))?(:cancel)?$")
DOWNLOAD = re.compile(r"^(?:/download)?/(v1|v1beta|v1alpha)/files/([a-z0-9-]+):download$")


class BatchRoutes(WireHandler):
    """The Batch API part of a handler; each method answers, or returns False when the path is not its own."""

    def batches_post(self, raw: bytes) -> bool:
        path = urlsplit(self.path).path
        create, batch = CREATE.match(path), BATCH.match(path)
        if not create and not (batch and batch.group(2) and batch.group(3)):
            return False
        try:
            self.auth()
            if create:
                version, model_id = create.groups()
                if not self.state.known_model(model_id):
                    raise self.state.not_found(model_id, version)
                body = self.parse_json(raw)
                self.send_json(200, self.state.batches.create(model_id, body, self.state.config.batch_delay_s))
            else:
                self.state.batches.cancel(batch.group(2))  # type: ignore[union-attr]
                self.send_json(200, {})
        except errors.ApiError as err:
            self.send_json(err.code, err.body())
        return True

    def batches_get(self) -> bool:
        path = urlsplit(self.path).path
        batch, download = BATCH.match(path), DOWNLOAD.match(path)
        if not download and not (batch and not batch.group(3)):
            return False
        try:
            self.auth()
            if download:
                self.send_bytes(200, self.state.files.download(f"files/{download.group(2)}"))
            elif batch and batch.group(2):
                self.send_json(200, self.state.batches.operation(batch.group(2)))
            else:
                query = self.query()
                size = int(query.get("pageSize") or 50)
                self.send_json(200, self.state.batches.list(max(1, min(size, 1000)), query.get("pageToken")))
        except errors.ApiError as err:
            self.send_json(err.code, err.body())
        return True

    def batches_delete(self) -> bool:
        batch = BATCH.match(urlsplit(self.path).path)
        if not batch or not batch.group(2) or batch.group(3):
            return False
        try:
            self.auth()
            self.state.batches.delete(batch.group(2))
            self.send_json(200, {})
        except errors.ApiError as err:
            self.send_json(err.code, err.body())
        return True
