"""The batch lane's records: which Google batch holds which History entries, and who collects its answers.

A batch outlives the process that sent it (Google keeps it up to 24 h), so its name, its recipe and the
entry ids it answers for are stored with History (never a credential). Collecting is claimed with a lease
in the database, so two replicas polling the same batch record its answers exactly once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from studio.history.database import Database

BATCH_OWNER = "google-batch"  # the owner of batch entries: no process heartbeats them, the janitor leaves them
OPEN_STATES = ("submitting", "pending", "running", "succeeded")  # not yet recorded in History
_COLUMNS = ("id", "namespace", "model_id", "name", "source", "state", "message", "recipe_json", "entry_ids_json",
            "created_at", "updated_at", "collector", "lease_until", "collected_at")


@dataclass(frozen=True)
class BatchRecord:
    id: str
    namespace: str
    model_id: str
    name: str | None  # "batches/…" once Google has it
    source: str  # "inline" or "file"
    state: str  # submitting, pending, running, succeeded, collected, cancelled, failed, expired
    message: str
    recipe: dict = field(repr=False)
    entry_ids: tuple[str, ...] = ()
    created_at: float = 0.0
    updated_at: float = 0.0
    collector: str | None = None
    lease_until: float | None = None
    collected_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.collected_at is None and self.state in OPEN_STATES


class BatchBook:
    """The ``batch_jobs`` table of one History database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, job_id: str, namespace: str, model_id: str, recipe: dict, entry_ids: list[str]) -> None:
        now = time.time()
        self.db.run("INSERT INTO batch_jobs (id, namespace, model_id, state, recipe_json, entry_ids_json, created_at, "
                    "updated_at) VALUES (?, ?, ?, 'submitting', ?, ?, ?, ?)",
                    (job_id, namespace, model_id, json.dumps(recipe), json.dumps(entry_ids), now, now))

    def submitted(self, job_id: str, name: str, source: str, state: str) -> None:
        self.db.run("UPDATE batch_jobs SET name = ?, source = ?, state = ?, updated_at = ? WHERE id = ?",
                    (name, source, state, time.time(), job_id))

    def set_state(self, job_id: str, state: str, message: str = "") -> None:
        """Google's state as last seen (pending, running, succeeded); final states go through ``close``."""
        self.db.run("UPDATE batch_jobs SET state = ?, message = ?, updated_at = ? WHERE id = ? AND "
                    "collected_at IS NULL", (state, message, time.time(), job_id))

    def close(self, job_id: str, state: str, message: str = "") -> None:
        """Collected, cancelled, failed or expired: nothing more to fetch."""
        now = time.time()
        self.db.run("UPDATE batch_jobs SET state = ?, message = ?, updated_at = ?, collected_at = ?, collector = NULL, "
                    "lease_until = NULL WHERE id = ? AND collected_at IS NULL", (state, message, now, now, job_id))

    def claim(self, job_id: str, owner: str, lease_s: float, now: float | None = None) -> bool:
        """Take the right to record this batch's answers for ``lease_s``; False when another holds it."""
        now = time.time() if now is None else now
        changed = self.db.run(
            "UPDATE batch_jobs SET collector = ?, lease_until = ? WHERE id = ? AND collected_at IS NULL AND "
            "(collector IS NULL OR collector = ? OR lease_until < ?)", (owner, now + lease_s, job_id, owner, now))
        return changed == 1

    def renew(self, job_id: str, owner: str, lease_s: float, now: float | None = None) -> bool:
        """Extend our lease while we collect; False when it is no longer ours (it ran out and another took it)."""
        now = time.time() if now is None else now
        changed = self.db.run("UPDATE batch_jobs SET lease_until = ? WHERE id = ? AND collected_at IS NULL AND "
                              "collector = ?", (now + lease_s, job_id, owner))
        return changed == 1

    def release(self, job_id: str, owner: str, message: str = "") -> None:
        """Give up collecting for now (a lasting failure): the record stays open and anyone may claim it at once."""
        with self.db.transaction():
            self.db.run("UPDATE batch_jobs SET message = ?, updated_at = ? WHERE id = ? AND collected_at IS NULL",
                        (message, time.time(), job_id))
            self.db.run("UPDATE batch_jobs SET collector = NULL, lease_until = NULL WHERE id = ? AND collector = ? "
                        "AND collected_at IS NULL", (job_id, owner))

    def get(self, job_id: str) -> BatchRecord | None:
        row = self.db.row(f"SELECT {', '.join(_COLUMNS)} FROM batch_jobs WHERE id = ?", (job_id,))
        return _record(row) if row else None

    def open_for(self, namespace: str) -> list[BatchRecord]:
        """This identity's batches whose answers are not in History yet, oldest first."""
        rows = self.db.rows(f"SELECT {', '.join(_COLUMNS)} FROM batch_jobs WHERE namespace = ? AND "
                            "collected_at IS NULL ORDER BY created_at", (namespace,))
        return [_record(row) for row in rows]


def _record(row: tuple) -> BatchRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    return BatchRecord(
        id=values["id"], namespace=values["namespace"], model_id=values["model_id"], name=values["name"],
        source=values["source"] or "", state=values["state"], message=values["message"] or "",
        recipe=json.loads(values["recipe_json"]), entry_ids=tuple(json.loads(values["entry_ids_json"])),
        created_at=float(values["created_at"]), updated_at=float(values["updated_at"]),
        collector=values["collector"], lease_until=values["lease_until"], collected_at=values["collected_at"])
