"""The history database's schema, as numbered migrations applied in order inside one transaction each."""

from __future__ import annotations

import sqlite3

# Each migration is (version, statements). Never edit a shipped one: add the next.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, (
        """CREATE TABLE entries (
            id TEXT PRIMARY KEY,
            namespace TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            parent_id TEXT,
            created_at REAL NOT NULL,
            prompt TEXT NOT NULL,
            model_id TEXT NOT NULL,
            aspect_ratio TEXT NOT NULL,
            image_size TEXT NOT NULL,
            output_format TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            status TEXT NOT NULL,
            failure_kind TEXT,
            failure_message TEXT,
            failure_detail TEXT,
            finish_reason TEXT,
            block_reason TEXT,
            latency_s REAL NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 1,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            total_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            model_version TEXT,
            response_id TEXT,
            text TEXT,
            request_json TEXT,
            response_json TEXT,
            image_file TEXT,
            thumb_file TEXT,
            width INTEGER,
            height INTEGER,
            mime_type TEXT
        )""",
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
    (2, (
        # v2: favorites, soft delete (undo), and the reference count shown in tables.
        "ALTER TABLE entries ADD COLUMN favorite INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE entries ADD COLUMN deleted_at REAL",
        "ALTER TABLE entries ADD COLUMN references_count INTEGER NOT NULL DEFAULT 0",
        "UPDATE entries SET references_count = "
        "(SELECT COUNT(*) FROM entry_references r WHERE r.entry_id = entries.id)",
        "CREATE INDEX entries_ns_status ON entries(namespace, status, created_at DESC)",
        "CREATE INDEX entries_ns_model ON entries(namespace, model_id, created_at DESC)",
        "CREATE INDEX entries_parent ON entries(parent_id)",
    )),
    (3, (
        # v3: jobs. An entry exists from the moment its image is queued (status "running"), is
        # heartbeated by the process sending it, and keeps the model's drafts and thinking text.
        "ALTER TABLE entries ADD COLUMN job_id TEXT",
        "ALTER TABLE entries ADD COLUMN owner TEXT",
        "ALTER TABLE entries ADD COLUMN heartbeat_at REAL",
        "ALTER TABLE entries ADD COLUMN thought_text TEXT",
        "ALTER TABLE entries ADD COLUMN thoughts_tokens INTEGER NOT NULL DEFAULT 0",
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
    (4, (
        # v4: the estimate shown before sending, kept beside cost_usd, which is now computed from the
        # usage Google recorded (thinking billed as text output) instead of the price table.
        "ALTER TABLE entries ADD COLUMN estimated_cost_usd REAL NOT NULL DEFAULT 0",
        "UPDATE entries SET estimated_cost_usd = cost_usd",
    )),
)
LATEST_VERSION = MIGRATIONS[-1][0]
FTS_STATEMENTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(prompt, content='entries', content_rowid='rowid')",
    """CREATE TRIGGER IF NOT EXISTS entries_fts_insert AFTER INSERT ON entries BEGIN
        INSERT INTO entries_fts(rowid, prompt) VALUES (new.rowid, new.prompt); END""",
    """CREATE TRIGGER IF NOT EXISTS entries_fts_delete AFTER DELETE ON entries BEGIN
        INSERT INTO entries_fts(entries_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt); END""",
)


def current_version(db: sqlite3.Connection) -> int:
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)")
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Bring the database to ``target``; each step commits whole or not at all. Returns the version."""
    version = current_version(db)
    for number, statements in MIGRATIONS:
        if version < number <= target:
            # explicit BEGIN: the store's connection is in autocommit mode, where `with db:` commits nothing
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements:
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, strftime('%s','now'))", (number,))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            version = number
    return version


def enable_fts(db: sqlite3.Connection) -> bool:
    """Full-text search over prompts when SQLite has FTS5; the store falls back to LIKE otherwise."""
    try:
        with db:
            fresh = db.execute("SELECT 1 FROM sqlite_master WHERE name='entries_fts'").fetchone() is None
            for statement in FTS_STATEMENTS:
                db.execute(statement)
            if fresh:
                db.execute("INSERT INTO entries_fts(entries_fts) VALUES ('rebuild')")
        return True
    except sqlite3.OperationalError:
        return False
