"""What a job is: a batch request, whose history it belongs to, what it sends with, and a state per image.

The runner mutates ``Job`` and ``ImageSlot`` on its own thread; pages only ever see the frozen
``JobView`` / ``ImageView`` snapshots, so a Streamlit script never holds a live object the runner changes.
"""

from __future__ import annotations

import asyncio
import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from studio.credentials import Connection
from studio.history import HistoryStore
from studio.request import GenerationRequest
from studio.results import GeneratedImage


class ImageState(enum.StrEnum):
    """Where one image of a job is. The first three are "active"; the rest are final."""

    QUEUED = "queued"  # waiting for a free slot (caps per identity and per process)
    SENDING = "sending"  # the request is out; nothing back yet
    DRAFTING = "drafting"  # the model's drafts or thinking are arriving
    DONE = "done"  # an image, recorded in History
    FAILED = "failed"  # an answer without an image, or an error, recorded in History
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # the process ended while it was in flight

    @property
    def active(self) -> bool:
        return self in (ImageState.QUEUED, ImageState.SENDING, ImageState.DRAFTING)


class CredentialSource:
    """The connection a job sends with, read at send time so a renewed token reaches later images.

    Held in memory only: never written to History, the disk or a log. ``renew`` (Google sign-in)
    returns a connection with a fresh token, or None when the person must sign in again.
    """

    def __init__(self, connection: Connection, renew: Callable[[Connection], Connection | None] | None = None) -> None:
        self._connection = connection
        self._renew = renew
        self._lock = threading.Lock()

    @property
    def connection(self) -> Connection:
        with self._lock:
            return self._connection

    @property
    def can_renew(self) -> bool:
        return self._renew is not None

    def update(self, connection: Connection) -> None:
        with self._lock:
            self._connection = connection

    def renew(self) -> Connection | None:
        """Blocking (an HTTP call to the sign-in provider): call it from a worker thread."""
        if self._renew is None:
            return None
        try:
            fresh = self._renew(self.connection)
        except Exception:  # a provider error is "cannot renew", said plainly by the caller
            return None
        if fresh is not None:
            self.update(fresh)
        return fresh

    def __repr__(self) -> str:  # never show a token, even in a traceback
        return f"CredentialSource(mode={self.connection.mode!r})"


@dataclass(eq=False)
class ImageSlot:
    """One image of a job, as the runner tracks it."""

    job: Job = field(repr=False)
    index: int
    entry_id: str
    state: ImageState = ImageState.QUEUED
    attempt: int = 0
    note: str = ""  # e.g. "Retrying in 4 s: the model is overloaded."
    message: str = ""  # the failure's plain message
    draft: GeneratedImage | None = field(default=None, repr=False)  # the latest draft, while in flight
    preview: bytes = field(default=b"", repr=False)  # the final image's thumbnail while History records it
    drafts_seen: int = 0
    thought_text: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    renewed: bool = False
    task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def namespace(self) -> str:
        return self.job.namespace

    def settle(self, status: str, message: str = "") -> None:
        """Take the outcome History already holds for this image (recorded by another process, or earlier)."""
        self.state = {"ok": ImageState.DONE, "cancelled": ImageState.CANCELLED,
                      "interrupted": ImageState.INTERRUPTED}.get(status, ImageState.FAILED)
        self.message, self.finished_at, self.note = message, time.time(), ""


@dataclass(eq=False)
class Job:
    """A batch: the request, the identity namespace, the store it records into and its credentials."""

    id: str
    namespace: str
    request: GenerationRequest = field(repr=False)
    store: HistoryStore = field(repr=False)
    credentials: CredentialSource = field(repr=False)
    parent_id: str | None = None
    created_at: float = field(default_factory=time.time)
    slots: list[ImageSlot] = field(default_factory=list)
    batch_name: str | None = None  # the batch lane: Google's "batches/…" once created
    batch_state: str = ""  # the batch lane: submitting, pending, running, succeeded…
    batch_sent: dict[str, dict] = field(default_factory=dict, repr=False)  # entry id -> request as History shows it

    @property
    def active(self) -> bool:
        return any(slot.state.active for slot in self.slots)


@dataclass(frozen=True)
class ImageView:
    """A snapshot of one image for pages."""

    index: int
    entry_id: str
    state: ImageState
    attempt: int
    note: str
    message: str
    draft: GeneratedImage | None = field(repr=False)
    preview: bytes = field(repr=False)
    drafts_seen: int
    thought_text: str
    queue_position: int | None  # 1 = next to start, when queued
    elapsed_s: float


@dataclass(frozen=True)
class JobView:
    """A snapshot of one job for pages."""

    id: str
    namespace: str
    prompt: str
    model_id: str
    count: int
    created_at: float
    images: tuple[ImageView, ...]
    finished_at: float | None
    lane: str = "now"  # "batch": Google's Batch API, half price, within 24 h; "flex": run like "now" at the flex tier
    batch_state: str = ""
    cancellable: bool = True  # "Cancel job" is offered (never once Google has finished a batch: it is paid)
    variations: bool = False  # each image has its own prompt (Variations), all made from ``prompt``

    @property
    def active(self) -> bool:
        return any(image.state.active for image in self.images)

    @property
    def done(self) -> int:
        return sum(not image.state.active for image in self.images)

    @property
    def entry_ids(self) -> list[str]:
        return [image.entry_id for image in self.images]
