"""The history store: every attempt in a database (SQLite or PostgreSQL), its images in a blob store.

One namespace per identity. Writes put the files in place first (atomically) and then the row in one
transaction, so a crash leaves either a whole entry or a few orphan files that a later sweep removes.
Every statement goes through ``studio.history.database`` (the dialects) and the column list is
``schema.COLUMNS``: pages never know which database they talk to.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from studio import roles
from studio.catalogue import DEFAULT_CATALOGUE, Catalogue
from studio.history import archive, recorder, schema
from studio.history.batch_records import BatchBook
from studio.history.blobs import BlobStore, LocalBlobs, MemoryBlobs
from studio.history.database import SQLITE, Database, parse_url
from studio.history.entry import Entry, StoredDraft, entry_from_row
from studio.history.ledger import SpendLedger
from studio.history.media import open_blobs
from studio.history.vectors import VectorBook
from studio.request import GenerationRequest, ReferenceImage
from studio.results import ImageResult

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "nano-banana-studio"
SORTS = {"newest": "created_at DESC", "oldest": "created_at ASC", "cost": "cost_usd DESC, created_at DESC",
         "duration": "latency_s DESC, created_at DESC"}
_COLUMNS = schema.COLUMNS  # defined once, with their types and migrations, in schema.ENTRY_COLUMNS
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM entries"
_DRAFT_COLUMNS = ("entry_id", "position", "file", "mime_type", "width", "height")
RUNNING = recorder.RUNNING
THUMBNAIL_CACHE = 512  # thumbnails (~15 kB each) kept in memory per store when blobs live in a bucket
ORPHAN_GRACE_S = 600.0  # a file younger than this may belong to a row another writer is about to commit


def parse_database_url(url: str) -> Path | None:
    """``sqlite:///abs/path.sqlite3`` → a path; ``sqlite://`` → in memory (None); ValueError for anything else."""
    target = parse_url(url)
    if target.dialect != SQLITE:
        raise ValueError("not an SQLite URL")
    return target.path


class HistoryStore:
    """Thread-safe: Streamlit runs each session's script in its own thread, the job runner records from its own.

    ``db`` is an SQLite file path, None (SQLite in memory), a database URL, or an open ``Database``.
    """

    def __init__(self, db: Path | str | Database | None, data_dir: Path | None, *,
                 catalogue: Catalogue = DEFAULT_CATALOGUE, private: bool = False,
                 blobs: BlobStore | None = None, ledger: SpendLedger | None = None) -> None:
        self.data_dir = data_dir  # None for a private store: nothing of it is on disk
        self.is_private = private
        self.catalogue = catalogue
        self.last_used = time.monotonic()
        if blobs is None:
            if data_dir is None:
                raise ValueError("a store needs a data folder or a blob store")
            data_dir.mkdir(parents=True, exist_ok=True)
            blobs = LocalBlobs(data_dir)
        self.blobs = blobs
        # thumbnails never change once written: on an object store keep the recent ones, so a page of 50
        # cards does not fetch 50 blobs on every rerun
        self._thumbs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._thumbs_cached = not isinstance(blobs, LocalBlobs | MemoryBlobs)
        self._thumbs_lock = threading.Lock()
        if isinstance(db, Database):
            self.db = db
        elif isinstance(db, str):
            self.db = Database.connect(db)
        else:
            self.db = Database.sqlite(db)
        try:
            schema.migrate(self.db)
            self.fts = schema.enable_fts(self.db)
        except BaseException:
            self.db.close()
            raise
        self._lock = self.db.lock  # one lock for the connection and the store's own state
        self.closed = False
        self.batches = BatchBook(self.db)  # the batch lane's Google batches, kept with the History they fill
        self.vectors = VectorBook(self.db)  # search by meaning: one embedding per entry (studio.history.vectors)
        # what was billed, kept apart from the entries: a private store counts into the shared one's ledger
        self.ledger = ledger or SpendLedger(self.db)
        # no sweep here: the job runner's housekeeping sweeps on a schedule (with a grace period), so opening
        # a store never reads every file name, nor races another writer

    # ---- opening --------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None, data_dir: Path | None = None,
             media_url: str | None = None) -> HistoryStore:
        """Records by ``url`` (else STUDIO_DATABASE_URL, else SQLite in ``data_dir``; sqlite:/// or postgresql://),
        image files by ``media_url`` (STUDIO_MEDIA_URL; default data_dir)."""
        data_dir = data_dir or default_data_dir()
        url = url or os.environ.get("STUDIO_DATABASE_URL")
        # a URL it cannot use: ValueError; an unreachable or refusing PostgreSQL: DatabaseUnavailable
        database = Database.connect(url) if url else Database.sqlite(data_dir / "history.sqlite3")
        try:
            blobs = open_blobs(media_url or os.environ.get("STUDIO_MEDIA_URL"), data_dir)
        except BaseException:
            database.close()
            raise
        return cls(database, data_dir, blobs=blobs)

    @classmethod
    def private(cls, ledger: SpendLedger | None = None) -> HistoryStore:
        """Records and images in this process's memory only, released by close() (or when dropped).

        ``ledger``: the shared store's, so what a private session spends still counts towards the daily cap
        (amounts only: no prompt leaves the memory)."""
        return cls(None, None, private=True, blobs=MemoryBlobs(), ledger=ledger)

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self.db.close()
            self.blobs.close()

    def sweep_orphans(self, grace_s: float = ORPHAN_GRACE_S) -> int:
        """Remove blobs no row names that are older than ``grace_s`` (a crash between blob and commit).

        Young blobs are kept: another writer (a job of another session or process) may be about to
        commit the row that names them. A listing of a bucket can take minutes, and a reference file is
        shared by content (an old one is reused, not written again), so each candidate is looked up in the
        database once more just before it is deleted: a row committed meanwhile keeps its file.
        """
        known = self._named_blobs()
        cutoff = time.time() - grace_s
        removed = 0
        for info in list(self.blobs.listing()):
            if info.name in known or info.modified_at > cutoff or self._still_named(info.name):
                continue
            self.blobs.delete_listed(info)
            removed += 1
        return removed

    def _named_blobs(self) -> set[str]:
        """Every file name a row names (any identity): what the sweep keeps without asking again."""
        with self._lock:
            known = {name for row in self.db.rows(
                "SELECT image_file, thumb_file, turn_file, mask_file, raw_file FROM entries")
                     for name in row if name}
            known |= {f"{row[0]}.bin" for row in self.db.rows("SELECT DISTINCT sha256 FROM entry_references")}
            known |= {row[0] for row in self.db.rows("SELECT file FROM entry_drafts")}
        return known

    def _still_named(self, name: str) -> bool:
        """Whether a row names this file now (one indexed lookup: references by digest, the rest by entry id)."""
        if name.endswith(".bin"):
            return self.db.row("SELECT 1 FROM entry_references WHERE sha256 = ? LIMIT 1", (name[:-4],)) is not None
        entry_id = name.split(".", 1)[0]
        return self.db.row(
            "SELECT 1 FROM entries WHERE id = ? AND ? IN (image_file, thumb_file, turn_file, mask_file, raw_file) "
            "UNION ALL SELECT 1 FROM entry_drafts WHERE entry_id = ? AND file = ?",
            (entry_id, name, entry_id, name)) is not None

    # ---- writing --------------------------------------------------------------------
    def record_attempt(self, namespace: str, request: GenerationRequest, result: ImageResult, *, batch_id: str,
                       parent_id: str | None = None) -> Entry:
        """Record a finished attempt in one go (imports, tests, and work done outside the job runner)."""
        entry = self.start_entry(namespace, request, result.index, batch_id=batch_id, parent_id=parent_id)
        return self.finish_entry(namespace, entry.id, request, result)

    def start_entry(self, namespace: str, request: GenerationRequest, index: int, *, batch_id: str,
                    parent_id: str | None = None, job_id: str | None = None, owner: str | None = None) -> Entry:
        """An entry for an image about to be made, visible at once with status ``running``."""
        return self.start_entries(namespace, request, [index], batch_id=batch_id, parent_id=parent_id,
                                  job_id=job_id, owner=owner)[0]

    def start_entries(self, namespace: str, request: GenerationRequest, indexes: list[int], *, batch_id: str,
                      parent_id: str | None = None, job_id: str | None = None, owner: str | None = None,
                      batch_record: tuple[str, dict] | None = None) -> list[Entry]:
        """Entries for a job's images, all or none, in one transaction; with ``batch_record`` (model id, recipe)
        the batch lane's record of them too, so no entry is ever left running without the record that ends it."""
        for ref in request.references:  # shared by content: an existing file is reused (the sweep asks the
            if not self.blobs.exists(namespace, f"{ref.sha256}.bin"):  # database again before deleting one)
                self.blobs.put(namespace, f"{ref.sha256}.bin", ref.data)
        continued = (self.get(namespace, request.thread_parent_id, include_deleted=True)
                     if request.thread_parent_id else None)
        rows = []
        for index in indexes:
            row = recorder.started_row(self.catalogue, uuid.uuid4().hex, namespace, request, index,
                                       batch_id=batch_id, parent_id=parent_id, job_id=job_id, owner=owner)
            if request.thread_parent_id:
                row["thread_parent_id"] = request.thread_parent_id
                row["thread_root_id"] = continued.thread_root if continued else request.thread_parent_id
            rows.append(row)
            mask = recorder.mask_blob(row, request)
            if mask is not None:  # files first, then the row: never a row naming a missing mask
                self.blobs.put(namespace, *mask)
        with self.db.transaction():
            for row in rows:
                self._insert(row, request.references)
            if batch_record is not None:
                self.batches.add(batch_id, namespace, batch_record[0], batch_record[1], [r["id"] for r in rows])
        by_id = {e.id: e for e in self.get_many(namespace, [r["id"] for r in rows])}
        return [by_id[r["id"]] for r in rows]

    def finish_entry(self, namespace: str, entry_id: str, request: GenerationRequest, result: ImageResult) -> Entry:
        """Files first (image, thumbnail, drafts), then the row in one transaction: never a row without its files.

        Only a running entry takes the result: one cancelled, interrupted or recorded meanwhile keeps its outcome
        (the returned entry says which)."""
        record = recorder.finished_record(self.catalogue, entry_id, request, result)
        for name, data in record.blobs.items():
            self.blobs.put(namespace, name, data)
        values, drafts = record.values, record.drafts
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self.db.transaction():
            changed = self.db.run(f"UPDATE entries SET {assignments} WHERE id = ? AND namespace = ? AND status = ?",
                                  [*values.values(), entry_id, namespace, RUNNING])  # cancelled/ended: theirs
            if changed:
                self.db.run_many(self.db.dialect.upsert("entry_drafts", _DRAFT_COLUMNS, ("entry_id", "position")), drafts)
                if "cost_usd" in values:
                    self.ledger.bill(entry_id, float(values["cost_usd"] or 0.0))
        return self.get(namespace, entry_id, include_deleted=True)  # type: ignore[return-value]

    def end_entry(self, namespace: str, entry_id: str, status: str, failure_kind: str, message: str) -> bool:
        """Close a running entry without an answer (cancelled, interrupted, failed before sending)."""
        changed = self.db.run(
            "UPDATE entries SET status = ?, failure_kind = ?, failure_message = ?, heartbeat_at = NULL "
            "WHERE id = ? AND namespace = ? AND status = ?", (status, failure_kind, message, entry_id,
                                                              namespace, RUNNING))
        return changed == 1

    def heartbeat(self, entry_ids: list[str], now: float | None = None) -> None:
        """Say "still working on these": entries whose heartbeat stops are marked interrupted by anyone."""
        if not entry_ids:
            return
        marks = ", ".join("?" * len(entry_ids))
        self.db.run(f"UPDATE entries SET heartbeat_at = ? WHERE status = ? AND id IN ({marks})",
                    [now or time.time(), RUNNING, *entry_ids])

    def running_entries(self) -> list[tuple[str, str, str | None, float | None]]:
        """(namespace, id, owner, heartbeat_at) of every running entry, across identities (for the janitor)."""
        return [(r[0], r[1], r[2], r[3]) for r in self.db.rows(
            "SELECT namespace, id, owner, heartbeat_at FROM entries WHERE status = ?", (RUNNING,))]

    def read_drafts(self, namespace: str, entry_id: str) -> list[StoredDraft]:
        if self.get(namespace, entry_id, include_deleted=True) is None:
            return []
        rows = self.db.rows("SELECT file, mime_type, width, height FROM entry_drafts WHERE entry_id = ? "
                            "ORDER BY position", (entry_id,))
        drafts = []
        for name, mime, width, height in rows:
            data = self.blobs.get(namespace, name)
            if data is not None:
                drafts.append(StoredDraft(data, mime, width, height))
        return drafts

    def _insert(self, row: dict, references: tuple[ReferenceImage, ...] | list, *, billed: bool = True) -> None:
        """One entry and its reference rows; ``billed``: an attempt about to be sent, counted in the ledger."""
        if billed:
            self.ledger.charge(row["id"], row["namespace"], float(row["created_at"]),
                               float(row.get("estimated_cost_usd") or 0.0))
        names = ", ".join(row)
        marks = ", ".join("?" * len(row))
        self.db.run(f"INSERT INTO entries ({names}) VALUES ({marks})", list(row.values()))
        self.db.run_many(
            "INSERT INTO entry_references (entry_id, position, sha256, name, mime_type, role) VALUES (?, ?, ?, ?, ?, ?)",
            [(row["id"], i, ref.sha256, ref.name, ref.mime_type, roles.normalized(ref.role))
             for i, ref in enumerate(references)])

    # ---- reading --------------------------------------------------------------------
    def _where(self, namespace: str, query: str | None, statuses: list[str] | None, models: list[str] | None,
               since: float | None, until: float | None, favorites_only: bool,
               include_deleted: bool = False) -> tuple[str, list]:
        clauses: list[str] = ["namespace = ?"]
        params: list[object] = [namespace]
        if not include_deleted:
            clauses.append("deleted_at IS NULL")
        if query and query.strip():
            clause, words = self.db.dialect.search(query, self.fts)
            clauses.append(clause)
            params += words
        if statuses:
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        if models:
            clauses.append(f"model_id IN ({', '.join('?' * len(models))})")
            params += models
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(since)
        if until is not None:
            clauses.append("created_at < ?")
            params.append(until)
        if favorites_only:
            clauses.append("favorite = 1")
        return " AND ".join(clauses), params

    def list_entries(self, namespace: str, query: str | None = None, statuses: list[str] | None = None,
                     models: list[str] | None = None, since: float | None = None, until: float | None = None,
                     favorites_only: bool = False, sort: str = "newest", limit: int = 50,
                     offset: int = 0) -> list[Entry]:
        where, params = self._where(namespace, query, statuses, models, since, until, favorites_only)
        order = SORTS.get(sort, SORTS["newest"])
        if query and query.strip():
            order = self.db.dialect.search_order(self.db, query, self.fts, order)
        rows = self.db.rows(f"{_SELECT} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                            [*params, int(limit), int(offset)])
        return [entry_from_row(r) for r in rows]

    def count_entries(self, namespace: str, query: str | None = None, statuses: list[str] | None = None,
                      models: list[str] | None = None, since: float | None = None, until: float | None = None,
                      favorites_only: bool = False) -> int:
        where, params = self._where(namespace, query, statuses, models, since, until, favorites_only)
        row = self.db.row(f"SELECT COUNT(*) FROM entries WHERE {where}", params)
        return int(row[0]) if row else 0

    def get(self, namespace: str, entry_id: str, include_deleted: bool = False) -> Entry | None:
        sql = f"{_SELECT} WHERE id = ? AND namespace = ?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        row = self.db.row(sql, (str(entry_id), namespace))
        return entry_from_row(row) if row else None

    def get_many(self, namespace: str, entry_ids: list[str]) -> list[Entry]:
        """Entries in the order of the ids given (missing and deleted ones left out)."""
        if not entry_ids:
            return []
        marks = ", ".join("?" * len(entry_ids))
        sql = f"{_SELECT} WHERE namespace = ? AND deleted_at IS NULL AND id IN ({marks})"
        found = {row[0]: entry_from_row(row) for row in self.db.rows(sql, [namespace, *entry_ids])}
        return [found[i] for i in entry_ids if i in found]

    def read_image(self, namespace: str, entry_id: str) -> bytes | None:
        entry = self.get(namespace, entry_id)
        if entry is None or not entry.image_file:
            return None
        return self.blobs.get(namespace, entry.image_file)

    def read_thumbnail(self, namespace: str, entry_id: str) -> bytes | None:
        entry = self.get(namespace, entry_id)
        if entry is None or not entry.thumb_file:
            return None
        key = (namespace, entry.thumb_file)
        if self._thumbs_cached:
            with self._thumbs_lock:
                if key in self._thumbs:
                    self._thumbs.move_to_end(key)
                    return self._thumbs[key]
        data = self.blobs.get(namespace, entry.thumb_file)
        if self._thumbs_cached and data is not None:
            with self._thumbs_lock:
                self._thumbs[key] = data
                while len(self._thumbs) > THUMBNAIL_CACHE:
                    self._thumbs.popitem(last=False)
        return data

    def read_references(self, namespace: str, entry_id: str) -> list[ReferenceImage]:
        if self.get(namespace, entry_id) is None:
            return []
        rows = self.db.rows("SELECT sha256, name, mime_type, role FROM entry_references WHERE entry_id = ? "
                            "ORDER BY position", (entry_id,))
        refs = []
        for sha, name, mime, role in rows:
            data = self.blobs.get(namespace, f"{sha}.bin")
            if data is not None:
                refs.append(ReferenceImage(name=name, data=data, mime_type=mime, role=roles.normalized(role)))
        return refs

    # ---- changing -------------------------------------------------------------------
    def _update(self, namespace: str, entry_id: str, sql: str, params: tuple) -> bool:
        return self.db.run(f"UPDATE entries SET {sql} WHERE id = ? AND namespace = ?",
                           (*params, str(entry_id), namespace)) == 1

    def set_favorite(self, namespace: str, entry_id: str, on: bool) -> bool:
        return self._update(namespace, entry_id, "favorite = ?", (int(on),))

    def delete(self, namespace: str, entry_id: str) -> bool:
        """Soft delete, so the session can undo; files stay until purge()."""
        return self._update(namespace, entry_id, "deleted_at = ?", (time.time(),))

    def undelete(self, namespace: str, entry_id: str) -> bool:
        return self._update(namespace, entry_id, "deleted_at = NULL", ())

    def purge(self, older_than_s: float = 7 * 24 * 3600) -> int:
        """Remove rows deleted long ago, then their files.

        A deleted version that a kept edit continues stays (its turn, prompt and references are what that
        edit sends back): a thread never starts mid-way. Once its last continuation goes, a later purge
        takes it too; each pass takes the deleted leaves, so a deleted chain goes in one purge.
        """
        cutoff = time.time() - older_than_s
        removed = 0
        with self.db.transaction():  # the rows and their references and drafts (ON DELETE CASCADE) go together
            for _ in range(200):  # thread_chain's depth
                taken = self.db.run(
                    "DELETE FROM entries WHERE deleted_at IS NOT NULL AND deleted_at < ? AND NOT EXISTS "
                    "(SELECT 1 FROM entries AS later WHERE later.thread_parent_id = entries.id)", (cutoff,))
                removed += taken
                if not taken:
                    break
        self.sweep_orphans()  # rows go first, so their (old) files are now unreferenced; young files are kept
        return removed

    def lineage(self, namespace: str, entry_id: str) -> list[Entry]:
        """The chain of prompt versions that led here, root first."""
        chain: list[Entry] = []
        current = self.get(namespace, entry_id, include_deleted=True)
        while current is not None and len(chain) < 100:
            chain.append(current)
            current = self.get(namespace, current.parent_id, include_deleted=True) if current.parent_id else None
        return list(reversed(chain))

    def read_turn(self, namespace: str, entry_id: str) -> bytes | None:
        """The model's raw turn of this entry (``studio.turns.turn_blob``), or None when not kept."""
        entry = self.get(namespace, entry_id, include_deleted=True)
        if entry is None or not entry.turn_file:
            return None
        return self.blobs.get(namespace, entry.turn_file)

    def read_mask(self, namespace: str, entry_id: str) -> bytes | None:
        """A region edit's mask (PNG, white = may change), or None for a whole-image edit."""
        entry = self.get(namespace, entry_id, include_deleted=True)
        return self.blobs.get(namespace, entry.mask_file) if entry is not None and entry.mask_file else None

    def read_raw(self, namespace: str, entry_id: str) -> bytes | None:
        """A region edit's raw answer (the model's whole image; the entry's image is the composite), or None."""
        entry = self.get(namespace, entry_id, include_deleted=True)
        return self.blobs.get(namespace, entry.raw_file) if entry is not None and entry.raw_file else None

    def adopt_raw(self, namespace: str, entry_id: str) -> Entry:
        """"Use the model's whole image": the raw answer of a region edit as a new version (not billed)."""
        entry = self.get(namespace, entry_id)
        raw = self.read_raw(namespace, entry_id) if entry is not None else None
        if entry is None or raw is None:
            raise ValueError("This version kept no whole image from the model, so there is nothing to use.")
        row, blobs = recorder.adopted_record(entry, uuid.uuid4().hex, raw, self.read_turn(namespace, entry_id))
        for name, data in blobs.items():
            self.blobs.put(namespace, name, data)
        references = tuple(self.read_references(namespace, entry_id))
        with self.db.transaction():
            self._insert(row, references, billed=False)
        return self.get(namespace, row["id"])  # type: ignore[return-value]

    def thread_chain(self, namespace: str, entry_id: str) -> list[Entry]:
        """The turns an edit from this entry continues, root first, ending with the entry itself."""
        chain: list[Entry] = []
        current = self.get(namespace, entry_id, include_deleted=True)
        while current is not None and len(chain) < 200:
            chain.append(current)
            parent = current.thread_parent_id
            current = self.get(namespace, parent, include_deleted=True) if parent else None
        return list(reversed(chain))

    def thread_entries(self, namespace: str, root_id: str, include_deleted: bool = False) -> list[Entry]:
        """Every version of a thread (the root and each turn, failed ones too), oldest first; deleted ones too
        when asked (the Edit page shows them as placeholders where a later version continues them)."""
        kept = "" if include_deleted else " AND deleted_at IS NULL"
        rows = self.db.rows(f"{_SELECT} WHERE namespace = ? AND (id = ? OR thread_root_id = ?){kept} "
                            "ORDER BY created_at", (namespace, root_id, root_id))
        return [entry_from_row(r) for r in rows]

    def children(self, namespace: str, entry_id: str) -> list[Entry]:
        rows = self.db.rows(f"{_SELECT} WHERE parent_id = ? AND namespace = ? AND deleted_at IS NULL "
                            "ORDER BY created_at", (entry_id, namespace))
        return [entry_from_row(r) for r in rows]

    def total_cost(self, namespace: str, entry_ids: list[str]) -> tuple[float, float]:
        """(cost from recorded usage, estimate) summed over these entries: the session's totals."""
        if not entry_ids:
            return 0.0, 0.0
        marks = ", ".join("?" * len(entry_ids))
        row = self.db.row(f"SELECT COALESCE(SUM(cost_usd), 0), COALESCE(SUM(estimated_cost_usd), 0) "
                          f"FROM entries WHERE namespace = ? AND id IN ({marks})", [namespace, *entry_ids])
        return (float(row[0]), float(row[1])) if row else (0.0, 0.0)

    def spent_since(self, since: float, namespace: str | None = None) -> float:
        """USD billed since ``since`` (one identity, or the team when None), from the ledger: no delete lowers it."""
        return self.ledger.spent(since, namespace)

    def status_counts(self, namespace: str) -> dict[str, int]:
        """How many entries of each status this identity has (deleted ones left out)."""
        return {status: int(n) for status, n in self.db.rows(
            "SELECT status, COUNT(*) FROM entries WHERE namespace = ? AND deleted_at IS NULL GROUP BY status "
            "ORDER BY status", (namespace,))}

    def models_used(self, namespace: str) -> list[str]:
        return [r[0] for r in self.db.rows(
            "SELECT DISTINCT model_id FROM entries WHERE namespace = ? ORDER BY model_id", (namespace,))]

    def import_rows(self, namespace: str, rows: list[tuple[dict, list, list[tuple]]],
                    blobs: Iterable[tuple[str, Callable[[], bytes]]]) -> None:
        """Insert entries made elsewhere (an import), all or nothing: every file, then every row in one transaction.

        ``rows`` holds (entry row, references, draft rows); ``blobs`` pairs store-made file names with readers
        of their bytes, so one file is in memory at a time. On any failure the files written here are removed
        again, so nothing of the import is left.
        """
        written: list[str] = []
        try:
            for name, read in blobs:
                if name.endswith(".bin") and self.blobs.exists(namespace, name):
                    continue  # a reference shared by hash with an entry already here: not ours to remove
                self.blobs.put(namespace, name, read())
                written.append(name)
            with self.db.transaction():
                for row, references, drafts in rows:
                    self._insert(row, references, billed=False)  # made and billed elsewhere
                    self.db.run_many(f"INSERT INTO entry_drafts ({', '.join(_DRAFT_COLUMNS)}) "
                                     "VALUES (?, ?, ?, ?, ?, ?)", drafts)
        except BaseException:
            for name in written:
                self.blobs.delete(namespace, name)
            raise

    def export_zip(self, namespace: str, entry_ids: list[str] | None = None) -> bytes:
        return archive.export_zip(self, namespace, entry_ids)

    def export_zip_to(self, fileobj: IO[bytes], namespace: str, entry_ids: list[str] | None = None) -> None:
        """The same ZIP written into ``fileobj`` (a temp file, a response stream), never whole in memory."""
        archive.export_zip_to(self, namespace, fileobj, entry_ids)

    def import_zip(self, namespace: str, data: bytes | IO[bytes]) -> list[Entry]:
        """Bytes or a seekable binary file (an upload); refused whole with an ArchiveError, or imported whole."""
        return archive.import_zip(self, namespace, data)


def default_data_dir() -> Path:
    return Path(os.environ.get("STUDIO_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()
