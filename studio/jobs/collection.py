"""What the batch lane may do to the runner's jobs, and nothing more: the lane's narrow view of the runner.

The batch lane follows a Google batch for hours and records its answers; the runner owns the jobs, their
live state, the engines and the pages' change counter. This interface is the whole of what passes between
them, so the lane never reaches into the runner's internals (and a test can read what the lane relies on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from studio.catalogue import Catalogue
from studio.credentials import Connection
from studio.engine import Engine
from studio.jobs.model import ImageSlot, ImageState, Job
from studio.results import ImageResult

if TYPE_CHECKING:
    from studio.jobs.runner import RunnerLimits


class Collection(Protocol):
    """The runner as the batch lane sees it."""

    owner: str  # who we are in the batch records' collection lease
    catalogue: Catalogue
    limits: RunnerLimits

    async def engine(self, connection: Connection) -> Engine:
        """The shared client for this connection (its HTTP pools are the runner's)."""
        ...

    async def record(self, slot: ImageSlot, result: ImageResult) -> None:
        """Store an answer in History; raises when the store fails, so the caller can try again. An entry that
        is no longer running (cancelled, or recorded by another collector) keeps its outcome."""
        ...

    async def close_image(self, slot: ImageSlot, state: ImageState, kind: str, message: str) -> None:
        """End an image without an answer (cancelled, failed), in the live view and in History."""
        ...

    def notify(self, job: Job, change: Callable[[], None] | None = None) -> None:
        """Apply ``change`` to the job's live state where pages read it safely, then tell the pages."""
        ...
