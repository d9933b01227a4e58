"""A History entry as pages and the archive see it: one recorded attempt, read from a row of ``schema.COLUMNS``.

Its own module so the archive (and anything else) can use the type without importing the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from studio.history import files, recorder, schema

RUNNING = recorder.RUNNING


@dataclass(frozen=True)
class Entry:
    """One recorded attempt (one image request)."""

    id: str
    namespace: str
    batch_id: str
    parent_id: str | None
    created_at: float
    prompt: str
    model_id: str
    aspect_ratio: str
    image_size: str
    output_format: str
    settings: dict
    status: str
    failure_kind: str | None
    failure_message: str | None
    failure_detail: str | None
    finish_reason: str | None
    block_reason: str | None
    latency_s: float
    attempts: int
    prompt_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float
    model_version: str | None
    response_id: str | None
    text: str | None
    request_json: dict = field(repr=False)
    response_json: dict = field(repr=False)
    image_file: str | None = field(repr=False)
    thumb_file: str | None = field(repr=False)
    width: int | None
    height: int | None
    mime_type: str | None
    favorite: bool
    deleted_at: float | None
    references_count: int
    job_id: str | None = None
    owner: str | None = field(default=None, repr=False)
    heartbeat_at: float | None = field(default=None, repr=False)
    thought_text: str | None = field(default=None, repr=False)
    thoughts_tokens: int = 0
    estimated_cost_usd: float = 0.0
    turn_file: str | None = field(default=None, repr=False)
    thread_parent_id: str | None = None
    thread_root_id: str | None = None
    mask_file: str | None = field(default=None, repr=False)  # a region edit's mask (PNG, white = may change)
    raw_file: str | None = field(default=None, repr=False)  # a region edit's raw answer; the image is the composite
    region_note: str | None = None  # e.g. the answer was scaled to the original's size

    @property
    def is_region_edit(self) -> bool:
        """A region edit (paint, extend, upscale): its recipe says how (``settings["region"]``)."""
        return isinstance(self.settings.get("region"), dict)

    @property
    def region_mode(self) -> str | None:
        region = self.settings.get("region")
        return str(region.get("mode")) if isinstance(region, dict) else None

    @property
    def has_raw_answer(self) -> bool:
        """"Use the model's whole image" is offered: the model's own answer is kept beside the composite."""
        return bool(self.raw_file)

    @property
    def has_image(self) -> bool:
        return bool(self.image_file)

    @property
    def can_continue(self) -> bool:
        """An edit can continue from here: the image and the model's raw turn are kept."""
        return bool(self.image_file and self.turn_file)

    @property
    def thread_root(self) -> str:
        """The first image of this entry's thread (itself when it starts one)."""
        return self.thread_root_id or self.id

    @property
    def is_running(self) -> bool:
        return self.status == RUNNING

    @property
    def created(self) -> datetime:
        return datetime.fromtimestamp(self.created_at)

    @property
    def extension(self) -> str:
        return files.extension(self.mime_type or "")


@dataclass(frozen=True)
class StoredDraft:
    """An interim thought image kept with its entry (never billed, never a result)."""

    data: bytes = field(repr=False)
    mime_type: str
    width: int
    height: int


def entry_from_row(row: tuple) -> Entry:
    """An entry from a row of ``schema.COLUMNS``, JSON columns decoded."""
    values = dict(zip(schema.COLUMNS, row, strict=True))
    values["settings"] = json.loads(values.pop("settings_json") or "{}")
    values["request_json"] = json.loads(values["request_json"] or "{}")
    values["response_json"] = json.loads(values["response_json"] or "{}")
    values["favorite"] = bool(values["favorite"])
    return Entry(**values)
