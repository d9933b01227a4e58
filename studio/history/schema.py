"""The history database's schema: the entry columns, defined once, and the named migrations of both dialects.

``ENTRY_COLUMNS`` is the only list of the ``entries`` columns: each says in which migration it arrived, and
that migration creates or adds it (``CREATE TABLE`` / ``ALTER TABLE ... ADD COLUMN``) in the dialect's types.
The store selects ``COLUMNS`` and the ``Entry`` dataclass has one field per column.

A migration is a numbered, named step with SQL for both dialects (``statements``) and, where they differ, for
one (``sqlite`` / ``postgresql``). Each step commits whole or not at all, with its row in ``schema_migrations``;
on PostgreSQL the step first takes an advisory lock and looks again at the version, so two replicas starting
at once migrate once. Never edit a shipped step: add the next.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from studio.history.database import SEARCH_TEXT, Database


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text" | "real" | "integer": the dialect's type (studio.history.database.Dialect.types)
    since: int = 1  # the migration that creates or adds it
    not_null: bool = False
    default: str | None = None  # an SQL literal both dialects read alike
    primary_key: bool = False

    def ddl(self, types: dict[str, str]) -> str:
        parts = [self.name, types[self.kind]]
        if self.primary_key:
            parts.append("PRIMARY KEY")
        if self.not_null:
            parts.append("NOT NULL")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        return " ".join(parts)


def _c(name: str, kind: str = "text", since: int = 1, *, required: bool = False, default: str | None = None,
       key: bool = False) -> Column:
    return Column(name, kind, since, not_null=required, default=default, primary_key=key)


ENTRY_COLUMNS: tuple[Column, ...] = (
    _c("id", key=True), _c("namespace", required=True), _c("batch_id", required=True), _c("parent_id"),
    _c("created_at", "real", required=True), _c("prompt", required=True), _c("model_id", required=True),
    _c("aspect_ratio", required=True), _c("image_size", required=True), _c("output_format", required=True),
    _c("settings_json", required=True), _c("status", required=True), _c("failure_kind"), _c("failure_message"),
    _c("failure_detail"), _c("finish_reason"), _c("block_reason"),
    _c("latency_s", "real", required=True, default="0"), _c("attempts", "integer", required=True, default="1"),
    _c("prompt_tokens", "integer", required=True, default="0"),
    _c("output_tokens", "integer", required=True, default="0"),
    _c("total_tokens", "integer", required=True, default="0"), _c("cost_usd", "real", required=True, default="0"),
    _c("model_version"), _c("response_id"), _c("text"), _c("request_json"), _c("response_json"), _c("image_file"),
    _c("thumb_file"), _c("width", "integer"), _c("height", "integer"), _c("mime_type"),
    # v2: favorites, soft delete (undo), and the reference count shown in tables
    _c("favorite", "integer", 2, required=True, default="0"), _c("deleted_at", "real", 2),
    _c("references_count", "integer", 2, required=True, default="0"),
    # v3: jobs (an entry exists from the moment its image is queued, heartbeated while it is made)
    _c("job_id", since=3), _c("owner", since=3), _c("heartbeat_at", "real", 3), _c("thought_text", since=3),
    _c("thoughts_tokens", "integer", 3, required=True, default="0"),
    # v4: the estimate shown before sending, beside cost_usd computed from the recorded usage
    _c("estimated_cost_usd", "real", 4, required=True, default="0"),
    # v6: edit threads. turn_file names the blob holding the model's raw turn (every final part as the API
    # returned it, thought signatures included: what an edit sends back); thread_parent_id is the turn an
    # edit continues (parent_id keeps meaning "the version this came from", for lineage and diff) and
    # thread_root_id the thread's first image, so one query draws the whole tree of versions.
    _c("turn_file", since=6), _c("thread_parent_id", since=6), _c("thread_root_id", since=6),
    # v10: region edits (studio/regions). The version's image is the composite; mask_file names the mask blob
    # (white = may change) and raw_file the model's whole answer; region_note says when it was scaled to fit.
    _c("mask_file", since=10), _c("raw_file", since=10), _c("region_note", since=10),
)
COLUMNS: tuple[str, ...] = tuple(c.name for c in ENTRY_COLUMNS)


# A batch job of the batch lane (migration 7): enough to collect its answers after a restart, never a credential
_BATCH_JOBS = """CREATE TABLE batch_jobs (
    id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    model_id TEXT NOT NULL,
    name TEXT,
    source TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    recipe_json TEXT NOT NULL,
    entry_ids_json TEXT NOT NULL,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL,
    collector TEXT,
    lease_until {real},
    collected_at {real}
)"""
_BATCH_JOBS_INDEX = "CREATE INDEX batch_jobs_open ON batch_jobs(namespace, collected_at)"

# Every billed attempt (migration 9, studio.history.ledger): amounts only, never removed by a delete or a purge,
# so the daily spend cap cannot be lowered. It starts from the entries already kept (deleted ones too).
_SPEND_LEDGER = """CREATE TABLE spend_ledger (
    entry_id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    created_at {real} NOT NULL,
    estimated_usd {real} NOT NULL DEFAULT 0,
    cost_usd {real} NOT NULL DEFAULT 0
)"""
_SPEND_LEDGER_REST = (
    "CREATE INDEX spend_ledger_ns_time ON spend_ledger(namespace, created_at)",
    "CREATE INDEX spend_ledger_time ON spend_ledger(created_at)",
    "INSERT INTO spend_ledger (entry_id, namespace, created_at, estimated_usd, cost_usd) "
    "SELECT id, namespace, created_at, estimated_cost_usd, cost_usd FROM entries",
    # the orphan sweep asks, just before deleting a reference file, whether a row still names it
    "CREATE INDEX entry_references_sha ON entry_references(sha256)",
    # the purge keeps a deleted version while a later one continues it (one lookup per deleted row)
    "CREATE INDEX entries_thread_parent ON entries(thread_parent_id)",
)

# One embedding per entry (migration 11, studio.history.vectors): float32 little-endian bytes of `dims` values,
# the model that made it; removed with its entry (ON DELETE CASCADE: a purge takes it).
_ENTRY_VECTORS = """CREATE TABLE entry_vectors (
    entry_id TEXT PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    namespace TEXT NOT NULL,
    model_id TEXT NOT NULL,
    dims INTEGER NOT NULL,
    vector {blob} NOT NULL,
    created_at {real} NOT NULL
)"""
_ENTRY_VECTORS_INDEX = "CREATE INDEX entry_vectors_ns ON entry_vectors(namespace, created_at)"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...] = ()  # both dialects, after the step's columns are created or added
    sqlite: tuple[str, ...] = ()  # this dialect only, after the shared statements
    postgresql: tuple[str, ...] = ()

    def sql(self, db: Database) -> list[str]:
        types = db.dialect.types
        columns = [c for c in ENTRY_COLUMNS if c.since == self.version]
        if self.version == 1:
            ddl = ["CREATE TABLE entries (\n    " + ",\n    ".join(c.ddl(types) for c in columns) + "\n)"]
        else:
            ddl = [f"ALTER TABLE entries ADD COLUMN {c.ddl(types)}" for c in columns]
        own = self.postgresql if db.is_postgres else self.sqlite
        return [*ddl, *self.statements, *own]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "entries and their references", (
        "CREATE INDEX entries_ns_time ON entries(namespace, created_at DESC)",
        """CREATE TABLE entry_references (
            entry_id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            name TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            PRIMARY KEY (entry_id, position)
        )""",
    )),
    Migration(2, "favorites, soft delete, reference counts", (
        "UPDATE entries SET references_count = "
        "(SELECT COUNT(*) FROM entry_references r WHERE r.entry_id = entries.id)",
        "CREATE INDEX entries_ns_status ON entries(namespace, status, created_at DESC)",
        "CREATE INDEX entries_ns_model ON entries(namespace, model_id, created_at DESC)",
        "CREATE INDEX entries_parent ON entries(parent_id)",
    )),
    Migration(3, "jobs: running entries, heartbeats, drafts and thinking", (
        "CREATE INDEX entries_running ON entries(status) WHERE status = 'running'",
        """CREATE TABLE entry_drafts (
            entry_id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            file TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            width INTEGER NOT NULL DEFAULT 0,
            height INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (entry_id, position)
        )""",
    )),
    Migration(4, "estimated cost beside the cost from usage", (
        "UPDATE entries SET estimated_cost_usd = cost_usd",
    )),
    Migration(5, "prompt search", postgresql=(
        # SQLite searches through FTS5 (enable_fts below: optional, LIKE without it), so its step is empty.
        # PostgreSQL: a stored tsvector of the prompt ('simple': no stemming, no stop words, like FTS5's
        # unicode61) and a GIN index on it; Dialect.search matches each word as a prefix.
        f"ALTER TABLE entries ADD COLUMN prompt_search tsvector GENERATED ALWAYS AS ({SEARCH_TEXT}) STORED",
        "CREATE INDEX entries_prompt_search ON entries USING GIN (prompt_search)",
    )),
    Migration(6, "edit threads: the model's raw turn", (
        "CREATE INDEX entries_thread_root ON entries(thread_root_id)",
    )),
    Migration(7, "batch lane: Google batches and who collects them",
              sqlite=(_BATCH_JOBS.format(real="REAL"), _BATCH_JOBS_INDEX),
              postgresql=(_BATCH_JOBS.format(real="DOUBLE PRECISION"), _BATCH_JOBS_INDEX)),
    Migration(8, "reference roles", (
        # what each reference was for (studio.roles); rows from before keep the untagged role, as sent then
        "ALTER TABLE entry_references ADD COLUMN role TEXT NOT NULL DEFAULT 'other'",
    )),
    Migration(9, "spend ledger; references by content and turns by continuation", sqlite=(
        _SPEND_LEDGER.format(real="REAL"), *_SPEND_LEDGER_REST,
    ), postgresql=(
        _SPEND_LEDGER.format(real="DOUBLE PRECISION"), *_SPEND_LEDGER_REST,
    )),
    Migration(10, "region edits: the mask and the model's raw answer beside the composite"),
    Migration(11, "entry vectors for search by meaning",
              sqlite=(_ENTRY_VECTORS.format(real="REAL", blob="BLOB"), _ENTRY_VECTORS_INDEX),
              postgresql=(_ENTRY_VECTORS.format(real="DOUBLE PRECISION", blob="BYTEA"), _ENTRY_VECTORS_INDEX)),
)
LATEST_VERSION = MIGRATIONS[-1].version
FTS_STATEMENTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(prompt, content='entries', content_rowid='rowid')",
    """CREATE TRIGGER IF NOT EXISTS entries_fts_insert AFTER INSERT ON entries BEGIN
        INSERT INTO entries_fts(rowid, prompt) VALUES (new.rowid, new.prompt); END""",
    """CREATE TRIGGER IF NOT EXISTS entries_fts_delete AFTER DELETE ON entries BEGIN
        INSERT INTO entries_fts(entries_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt); END""",
)
_VERSIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at {real})"


def current_version(db: Database) -> int:
    """The last migration applied (0 for an empty database)."""
    with db.transaction():
        db.without_statement_timeout()  # the lock below may wait for another replica's whole migration
        db.lock_migrations()  # two replicas creating the table at once would collide (PostgreSQL's catalog)
        db.run(_VERSIONS_TABLE.format(real=db.dialect.types["real"]))
        row = db.row("SELECT MAX(version) FROM schema_migrations")
    return int(row[0] or 0) if row else 0


def migrate(db: Database, target: int = LATEST_VERSION, steps: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Bring the database to ``target``; each step commits whole or not at all. Returns the version."""
    version = current_version(db)
    for step in steps:
        if not version < step.version <= target:
            continue
        with db.transaction():
            db.without_statement_timeout()  # an index on a big table may take longer than a page's statement
            db.lock_migrations()  # another replica may have migrated while we waited: look again
            row = db.row("SELECT MAX(version) FROM schema_migrations")
            version = int(row[0] or 0) if row else 0
            if version >= step.version:
                continue
            for statement in step.sql(db):
                db.run(statement)
            db.run("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (step.version, time.time()))
        version = step.version
    return version


def enable_fts(db: Database) -> bool:
    """SQLite: full-text search over prompts when it has FTS5; the store falls back to LIKE otherwise.

    PostgreSQL searches its ``prompt_search`` column (migration 5), so this is True there.
    """
    if db.is_postgres:
        db.fts = True
        return True
    try:
        with db.transaction():
            fresh = db.row("SELECT 1 FROM sqlite_master WHERE name='entries_fts'") is None
            for statement in FTS_STATEMENTS:
                db.run(statement)
            if fresh:
                db.run("INSERT INTO entries_fts(entries_fts) VALUES ('rebuild')")
        db.fts = True
    except sqlite3.OperationalError:
        db.fts = False
    return db.fts
