"""Entry vectors in History's database (table ``entry_vectors``, migration 11): one embedding per entry.

A vector is stored as compact little-endian float32 bytes (768 values: 3 KB), in SQLite and PostgreSQL alike,
never in session state. Rows go with their entry (ON DELETE CASCADE on purge); a soft-deleted entry keeps its
vector so Undo brings it back searchable, and search leaves deleted entries out when it reads them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from studio.history.database import Database

DTYPE = np.dtype("<f4")
_INDEXABLE = "e.status = 'ok' AND e.deleted_at IS NULL"


def encode(vector: np.ndarray | list[float]) -> bytes:
    """A vector as float32 little-endian bytes (4 bytes a value)."""
    return np.asarray(vector, dtype=DTYPE).tobytes()


def decode(data: bytes | memoryview, dims: int) -> np.ndarray:
    """The bytes back as a float32 vector; a wrong length raises ValueError (a damaged row or import)."""
    raw = bytes(data)
    if len(raw) != dims * DTYPE.itemsize:
        raise ValueError(f"a stored vector has {len(raw)} bytes, not {dims * DTYPE.itemsize}")
    return np.frombuffer(raw, dtype=DTYPE)


@dataclass(frozen=True)
class StoredVectors:
    """One identity's vectors of one model and size, as one matrix (row i is ``ids[i]``)."""

    ids: list[str]
    matrix: np.ndarray  # float32, shape (len(ids), dims)


class VectorBook:
    """Reads and writes ``entry_vectors`` through the store's Database (either dialect)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.generation = 0  # bumped by every write through this process: caches look again at once
        self.token = uuid.uuid4().hex  # names this store's vectors in caches (an id() may be reused)

    def put_many(self, namespace: str, model_id: str, rows: Iterable[tuple[str, np.ndarray]]) -> int:
        """Store (entry id, vector) pairs; a second vector for an entry replaces the first."""
        now = time.time()
        values = [(entry_id, namespace, model_id, int(np.asarray(vec).shape[0]), encode(vec), now)
                  for entry_id, vec in rows]
        if values:
            sql = self.db.dialect.upsert("entry_vectors", ("entry_id", "namespace", "model_id", "dims", "vector",
                                                           "created_at"), ("entry_id",))
            with self.db.transaction():
                # only the identity's own entries: an id of someone else's entry is ignored
                owned = {r[0] for r in self.db.rows(
                    f"SELECT id FROM entries WHERE namespace = ? AND id IN ({', '.join('?' * len(values))})",
                    [namespace, *[v[0] for v in values]])}
                values = [v for v in values if v[0] in owned]
                if values:
                    self.db.run_many(sql, values)
            self.generation += 1
        return len(values)

    def get(self, namespace: str, entry_id: str) -> np.ndarray | None:
        row = self.db.row("SELECT vector, dims FROM entry_vectors WHERE entry_id = ? AND namespace = ?",
                          (entry_id, namespace))
        return decode(row[0], int(row[1])) if row else None

    def get_many(self, namespace: str, entry_ids: list[str]) -> dict[str, tuple[str, np.ndarray]]:
        """Entry id -> (model id, vector), for export."""
        if not entry_ids:
            return {}
        marks = ", ".join("?" * len(entry_ids))
        rows = self.db.rows(f"SELECT entry_id, model_id, dims, vector FROM entry_vectors WHERE namespace = ? "
                            f"AND entry_id IN ({marks})", [namespace, *entry_ids])
        return {r[0]: (r[1], decode(r[3], int(r[2]))) for r in rows}

    def stamp(self, namespace: str) -> tuple[int, float]:
        """What changes whenever the identity's vectors do (a row added, replaced or purged): the cache key."""
        row = self.db.row("SELECT COUNT(*), COALESCE(MAX(created_at), 0) FROM entry_vectors WHERE namespace = ?",
                          (namespace,))
        return (int(row[0]), float(row[1])) if row else (0, 0.0)

    def load(self, namespace: str, model_id: str, dims: int, expected: int | None = None) -> StoredVectors:
        """Every vector of the identity made by this model at this size, as one matrix (read in one query).

        The first search waits for this (100,000 vectors: 300 MB), so each row's bytes are copied straight into
        one buffer sized beforehand: no list of rows, no second copy to join them. ``expected``: the identity's
        vector count when the caller has just read it (``stamp``); rows added or removed since are handled."""
        width = dims * DTYPE.itemsize
        capacity = self.stamp(namespace)[0] if expected is None else max(0, expected)
        buffer = bytearray(capacity * width)
        ids: list[str] = []
        used = 0
        with self.db.streamed("SELECT entry_id, vector FROM entry_vectors WHERE namespace = ? AND model_id = ? "
                              "AND dims = ?", (namespace, model_id, dims)) as rows:
            for entry_id, vector in rows:
                if len(vector) != width:  # a slice assignment of another length would shift every later row
                    raise ValueError(f"a stored vector has {len(vector)} bytes, not {width}")
                end = used + width
                if end > len(buffer):  # written since the count: grow (rare)
                    buffer.extend(bytes(max(width * 1024, len(buffer) // 2)))
                buffer[used:end] = vector
                ids.append(entry_id)
                used = end
        del buffer[used:]  # vectors of another model or size were counted too
        return StoredVectors(ids, np.frombuffer(buffer, dtype=DTYPE).reshape(len(ids), dims))

    def counts(self, namespace: str, model_id: str) -> tuple[int, int]:
        """(indexed, not yet indexed) among the identity's kept successful entries."""
        row = self.db.row(
            f"SELECT COUNT(v.entry_id), COUNT(*) FROM entries e LEFT JOIN entry_vectors v ON v.entry_id = e.id "
            f"AND v.model_id = ? WHERE e.namespace = ? AND {_INDEXABLE}", (model_id, namespace))
        indexed, total = (int(row[0]), int(row[1])) if row else (0, 0)
        return indexed, total - indexed

    def missing(self, namespace: str, model_id: str, limit: int = 1000) -> list[str]:
        """Kept successful entries with no vector of this model yet, oldest first (what "Index my History" does)."""
        rows = self.db.rows(
            f"SELECT e.id FROM entries e LEFT JOIN entry_vectors v ON v.entry_id = e.id AND v.model_id = ? "
            f"WHERE e.namespace = ? AND {_INDEXABLE} AND v.entry_id IS NULL ORDER BY e.created_at LIMIT ?",
            (model_id, namespace, limit))
        return [r[0] for r in rows]

    def missing_summary(self, namespace: str, model_id: str) -> tuple[int, int]:
        """(entries not yet indexed, characters of their prompts) in one query: the estimate before indexing."""
        row = self.db.row(
            f"SELECT COUNT(*), COALESCE(SUM(LENGTH(e.prompt)), 0) FROM entries e LEFT JOIN entry_vectors v "
            f"ON v.entry_id = e.id AND v.model_id = ? WHERE e.namespace = ? AND {_INDEXABLE} AND v.entry_id IS NULL",
            (model_id, namespace))
        return (int(row[0]), int(row[1])) if row else (0, 0)
