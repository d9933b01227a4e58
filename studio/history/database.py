"""The history's database by URL: SQLite (default, and in memory for private sessions) or PostgreSQL.

One small layer so the store writes each statement once:
- SQL is written with ``?`` placeholders; the dialect turns them into its own (``%s`` for psycopg);
- rows come back as plain tuples on both;
- ``transaction()`` really begins, commits or rolls back on both (the SQLite connection is in autocommit
  mode, where ``with connection:`` would commit nothing, so it says ``BEGIN IMMEDIATE`` itself);
- the dialect knows the upsert, the full-text search clause and the migration lock.

Thread-safety: Streamlit's script threads and the job runner's worker threads share one store. SQLite uses
one connection under a re-entrant lock; a transaction holds the lock from BEGIN to COMMIT, so the statements
of two threads never interleave inside it. PostgreSQL borrows from a small pool (``pg_pool``): each statement
takes a connection and gives it back, a transaction keeps its own in this thread until COMMIT, and every
connection has a statement timeout and TCP keepalives, so one stuck statement or half-open link holds one
caller, not every session. A connection that broke (a server restart) is replaced on the next call.

PostgreSQL driver errors are raised as ``DatabaseError``, a subclass of ``sqlite3.Error``, so code that
handles the store's database errors needs one family whatever the backend.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlencode, urlsplit

from studio.history import pg_pool

ENV_VAR = "STUDIO_DATABASE_URL"
SQLITE, POSTGRESQL = "sqlite", "postgresql"
_PG_SCHEMES = ("postgresql", "postgres")
MIGRATION_LOCK_KEY = 0x5354_5544_494F  # "STUDIO": the advisory lock two replicas take to migrate one at a time
_WORD = re.compile(r"[^\W_]")
MMAP_BYTES = 2_147_418_112  # SQLite's own ceiling for a memory-mapped read (a larger file reads the rest plainly)
FEW_HITS = 1000  # PostgreSQL search: below this many matching prompts, sort the hits rather than walk the index
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]+")  # every ASCII punctuation character, underscore included
# PostgreSQL's searchable text of a prompt (migration 5): the same ASCII punctuation as spaces, whatever the locale
SEARCH_TEXT = "to_tsvector('simple', regexp_replace(prompt, '[!-/:-@\\[-`{-~]+', ' ', 'g'))"


class DatabaseError(sqlite3.Error):
    """A PostgreSQL operation failed (the driver's error is the __cause__); the message names no secret."""


class DatabaseUnavailable(DatabaseError):
    """The database a URL names cannot be reached or used; the message is for a person."""


def configured_url(connections: Mapping[str, Any] | None = None,
                   environ: Mapping[str, str] | None = None) -> str | None:
    """STUDIO_DATABASE_URL, else Streamlit's ``[connections.studio]`` from secrets, else None (SQLite default).

    ``connections`` is the ``[connections]`` section of st.secrets, in ``st.connection``'s convention: ``url = "…"``,
    or ``dialect``, ``username``, ``password``, ``host``, ``port``, ``database`` and an optional ``[…query]`` table.
    """
    env = os.environ if environ is None else environ
    if (env.get(ENV_VAR) or "").strip():
        return env[ENV_VAR].strip()
    studio = (connections or {}).get("studio")
    if not isinstance(studio, Mapping):
        return None
    url = str(studio.get("url") or "").strip()
    if url:
        return url
    if not studio.get("host") or not studio.get("database"):
        return None
    # st.connection's other form: dialect, username, password, host, port, database (and query) as keys
    dialect = str(studio.get("dialect") or "postgresql").split("+", 1)[0]
    user = quote(str(studio.get("username") or ""), safe="")
    password = quote(str(studio.get("password") or ""), safe="")
    login = f"{user}{':' + password if password else ''}@" if user else ""
    port = f":{studio['port']}" if studio.get("port") else ""
    query = studio.get("query")
    params = "?" + urlencode({str(k): str(v) for k, v in query.items()}) if isinstance(query, Mapping) and query else ""
    return f"{dialect}://{login}{studio['host']}{port}/{quote(str(studio['database']), safe='')}{params}"


# ---- URLs ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A parsed database URL: an SQLite file (or memory) or a PostgreSQL conninfo."""

    dialect: str
    path: Path | None = None  # SQLite; None: in memory
    conninfo: str = ""  # PostgreSQL
    shown: str = ""  # for messages: no password


def parse_url(url: str) -> Target:
    """``sqlite:///abs/path.sqlite3``, ``sqlite://`` (memory) or ``postgresql://user:pass@host:5432/db``.

    ``postgres://`` and SQLAlchemy's ``postgresql+psycopg://`` (as ``st.connection`` users write) are accepted
    too. ValueError with a plain message otherwise; the message never repeats the URL (it may hold a password).
    """
    url = url.strip()
    if url in ("sqlite://", "sqlite:///:memory:"):
        return Target(SQLITE, shown="sqlite (in memory)")
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):] if url.startswith("sqlite:////") else "/" + url[len("sqlite:///"):])
        return Target(SQLITE, path=path, shown=f"sqlite:///{path}")
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme.split("+", 1)[0] in _PG_SCHEMES:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise ValueError("STUDIO_DATABASE_URL: the port in the PostgreSQL URL is not a number.") from None
        database = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not database:
            raise ValueError("STUDIO_DATABASE_URL: a PostgreSQL URL needs a host and a database, like "
                             "postgresql://user:password@host:5432/studio.")
        user = unquote(parts.username or "")
        shown = f"postgresql://{user + '@' if user else ''}{parts.hostname}{f':{port}' if port else ''}/{database}"
        conninfo = "postgresql://" + url.split("://", 1)[1]  # libpq reads the rest (user, password, ?sslmode=...)
        return Target(POSTGRESQL, conninfo=conninfo, shown=shown)
    raise ValueError(f"STUDIO_DATABASE_URL: '{scheme or url[:12]}' is not a supported database; use "
                     "sqlite:///path/history.sqlite3 or postgresql://user:password@host:5432/database.")


# ---- dialects -----------------------------------------------------------------------------------------------
class Dialect:
    """What differs between the two databases, in one place."""

    name = SQLITE
    types: ClassVar[dict[str, str]] = {"text": "TEXT", "real": "REAL", "integer": "INTEGER"}

    def sql(self, statement: str) -> str:
        """Statements are written with ``?`` placeholders (SQLite's own)."""
        return statement

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        """INSERT that replaces the row with the same key (both speak ON CONFLICT ... DO UPDATE)."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")

    def search_order(self, db: Database, query: str, fts: bool, order: str) -> str:
        """The ORDER BY for a search listing (PostgreSQL adjusts it to the number of hits; SQLite needs not)."""
        return order

    def search(self, query: str, fts: bool) -> tuple[str, list[object]]:
        """A WHERE clause over ``entries`` matching every word of ``query`` as a prefix; text, never operators."""
        if fts:
            return ("rowid IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)",
                    [" ".join('"' + word.replace('"', '""') + '"*' for word in query.split())])
        return ("prompt LIKE ? ESCAPE '\\'",
                ["%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"])


class PostgresDialect(Dialect):
    name = POSTGRESQL
    # DOUBLE PRECISION: times are epoch seconds (PostgreSQL's REAL has 6 digits); BIGINT: SQLite's integers
    types: ClassVar[dict[str, str]] = {"text": "TEXT", "real": "DOUBLE PRECISION", "integer": "BIGINT"}

    def sql(self, statement: str) -> str:
        return statement.replace("%", "%%").replace("?", "%s")

    def search(self, query: str, fts: bool) -> tuple[str, list[object]]:
        """Like SQLite's ``"word"*``: each word is parsed as plain text (phraseto_tsquery: quotes and operators are
        only characters), its last part matched as a prefix, every word required. ASCII punctuation separates
        parts on both sides (``SEARCH_TEXT`` is what the index holds), as FTS5's tokenizer separates them; a word
        with nothing to match is left out, and nothing left matches nothing."""
        words = [" ".join(_PUNCTUATION.sub(" ", w).split()) for w in query.split()]
        words = [w for w in words if _WORD.search(w)]
        if not words:
            return "FALSE", []
        term = "COALESCE((NULLIF(phraseto_tsquery('simple', ?)::text, '') || ':*')::tsquery, ''::tsquery)"
        return f"prompt_search @@ ({' && '.join([term] * len(words))})", list(words)

    def search_order(self, db: Database, query: str, fts: bool, order: str) -> str:
        """PostgreSQL cannot estimate how many prompts a prefix matches, so for ``ORDER BY created_at LIMIT 50`` it
        walks the newest-first index and tests every entry: 0.1–0.3 s at 100,000 entries for a rare word. A probe
        through the GIN index alone (at most FEW_HITS rows, a few ms) says which case this is; with few hits the
        sort key is hidden from the index (``created_at + 0``) so the plan starts from the GIN index instead."""
        clause, params = self.search(query, fts)
        row = db.row(f"SELECT COUNT(*) FROM (SELECT 1 FROM entries WHERE {clause} LIMIT {FEW_HITS}) AS hits", params)
        return order.replace("created_at", "(created_at + 0)") if row and row[0] < FEW_HITS else order


DIALECTS: dict[str, Dialect] = {SQLITE: Dialect(), POSTGRESQL: PostgresDialect()}


# ---- connections --------------------------------------------------------------------------------------------
class Database:
    """One connection, its dialect and a lock. Use ``Database.connect(url)`` or ``Database.memory()``."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.dialect = DIALECTS[target.dialect]
        self.fts = False  # SQLite: whether FTS5 is set up (schema.enable_fts); PostgreSQL always searches
        self.closed = False
        self._lock = threading.RLock()
        self._depth = 0  # SQLite: transaction() nesting in the thread holding the lock
        self._local = threading.local()  # PostgreSQL: this thread's transaction connection and its nesting
        self._pool: pg_pool.ConnectionPool | None = None
        self._conn: Any = None
        if self.is_postgres:
            self.statement_timeout_s = pg_pool.statement_timeout_s()
            self._pool = pg_pool.ConnectionPool(self._open, pg_pool.pool_size(),
                                                wait_s=self.statement_timeout_s + 5)
            self._pool.release(self._pool.acquire())  # connect now: a wrong URL fails at open, plainly
        else:
            self._conn = self._open()

    @classmethod
    def connect(cls, url: str) -> Database:
        return cls(parse_url(url))

    @classmethod
    def memory(cls) -> Database:
        return cls(Target(SQLITE, shown="sqlite (in memory)"))

    @classmethod
    def sqlite(cls, path: Path | None) -> Database:
        """An SQLite file (a relative path stays relative), or memory for None."""
        return cls(Target(SQLITE, path=path, shown=f"sqlite:///{path}")) if path else cls.memory()

    @property
    def lock(self) -> threading.RLock:
        """SQLite: held by every statement and transaction. The store takes it around its own state (and
        reads that must agree); on PostgreSQL statements do not take it, each borrows its own connection."""
        return self._lock

    @property
    def is_postgres(self) -> bool:
        return self.dialect.name == POSTGRESQL

    def _open(self) -> Any:
        if self.target.dialect == SQLITE:
            path = self.target.path
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
            if path:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            return conn
        import psycopg

        try:
            conninfo = pg_pool.with_safeguards(self.target.conninfo, self.statement_timeout_s)
            return psycopg.connect(conninfo, autocommit=True, connect_timeout=10,
                                   application_name="nano-banana-studio")
        except psycopg.Error as exc:
            raise DatabaseUnavailable(
                f"the PostgreSQL database {self.target.shown} cannot be used: {self._plain(exc)}. "
                "Check STUDIO_DATABASE_URL (or [connections.studio] url in secrets).") from None

    def _plain(self, exc: BaseException) -> str:
        """The driver's first line, without the password should it echo the URL."""
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        password = urlsplit(self.target.conninfo).password if self.target.conninfo else None
        if password:
            text = text.replace(password, "***").replace(unquote(password), "***")
        return text[:300]

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """SQLite: the connection under the lock. PostgreSQL: this thread's transaction connection, else one
        borrowed from the pool for this statement; driver errors become DatabaseError."""
        if self.closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        if not self.is_postgres:
            with self._lock:
                if self.closed:
                    raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
                yield self._conn
            return
        held = getattr(self._local, "conn", None)
        if held is not None:
            with self._driver_errors():
                yield held
            return
        conn = self._borrow()
        broken = True
        try:
            with self._driver_errors():
                yield conn
            broken = False
        finally:
            assert self._pool is not None
            self._pool.release(conn, broken=broken and bool(getattr(conn, "broken", False) or conn.closed))

    def _borrow(self) -> Any:
        assert self._pool is not None
        try:
            return self._pool.acquire()
        except pg_pool.PoolExhausted as exc:
            raise DatabaseError(f"PostgreSQL: {exc}; the database is not answering in time.") from None
        except RuntimeError as exc:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.") from exc

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {self._plain(exc)}") from exc

    # ---- statements (``?`` placeholders; rows as tuples) ---------------------------------------------------
    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        with self._connection() as conn:
            return [tuple(r) for r in conn.execute(self.dialect.sql(sql), params).fetchall()]

    @contextmanager
    def streamed(self, sql: str, params: Sequence[object] = ()) -> Iterator[Iterable[Sequence[Any]]]:
        """Rows to iterate once, never gathered in a list: a large read copied straight where it goes.

        An SQLite file is read through a memory map meanwhile (its pages without one read() call each: a third
        less CPU for 100,000 vector rows); PostgreSQL answers in its binary format (bytea as raw bytes, not hex
        text to decode: half the bytes)."""
        with self._connection() as conn:
            if not self.is_postgres:
                before = conn.execute("PRAGMA mmap_size").fetchone()[0] if self.target.path else None
                if before is not None:
                    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
                try:
                    yield conn.execute(sql, params)
                finally:
                    if before is not None:  # the map lives for this read only (SQLite's default: plain reads)
                        conn.execute(f"PRAGMA mmap_size = {int(before)}")
                return
            with conn.cursor(binary=True) as cursor:
                cursor.execute(self.dialect.sql(sql), params)
                yield cursor

    def row(self, sql: str, params: Sequence[object] = ()) -> tuple | None:
        with self._connection() as conn:
            found = conn.execute(self.dialect.sql(sql), params).fetchone()
        return tuple(found) if found is not None else None

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        """Execute one statement; returns the rows it changed."""
        with self._connection() as conn:
            return int(conn.execute(self.dialect.sql(sql), params).rowcount)

    def run_many(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        params = list(params)
        if not params:
            return
        with self._connection() as conn:
            if self.is_postgres:
                with conn.cursor() as cursor:
                    cursor.executemany(self.dialect.sql(sql), params)
            else:
                conn.executemany(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """All statements inside commit together or not at all (also when this thread nests transactions)."""
        if self.is_postgres:
            with self._pg_transaction():
                yield self
            return
        with self._connection() as conn:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            conn.execute("BEGIN" if self.is_postgres else "BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                if not getattr(conn, "closed", False):
                    try:
                        conn.execute("ROLLBACK")
                    except Exception:  # the link broke mid-transaction: the server rolls it back itself
                        if not self.is_postgres:
                            raise
                raise
            self._depth = 0
            conn.execute("COMMIT")

    @contextmanager
    def _pg_transaction(self) -> Iterator[None]:
        """One pooled connection for this thread from BEGIN to COMMIT; nested calls join it."""
        if getattr(self._local, "conn", None) is not None:
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        if self.closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        conn = self._borrow()
        self._local.conn, self._local.depth = conn, 1
        broken = True
        try:
            with self._driver_errors():
                conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                if not conn.closed:
                    with suppress(Exception):  # the link broke mid-transaction: the server rolls it back itself
                        conn.execute("ROLLBACK")
                raise
            with self._driver_errors():
                conn.execute("COMMIT")
            broken = False
        finally:
            self._local.conn = None
            self._local.depth = 0
            assert self._pool is not None
            self._pool.release(conn, broken=broken and bool(getattr(conn, "broken", False) or conn.closed))

    def without_statement_timeout(self) -> None:
        """Inside a transaction: lift the statement timeout until COMMIT (migrations: an index on a big table,
        or waiting for another replica's migration, may take longer than any page statement)."""
        if self.is_postgres:
            self.run("SET LOCAL statement_timeout = 0")

    def lock_migrations(self) -> None:
        """Inside a transaction: wait until no other process migrates (PostgreSQL's advisory lock, released at
        COMMIT or ROLLBACK). SQLite's BEGIN IMMEDIATE already holds its only write lock."""
        if self.is_postgres:
            self.row("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self._pool is not None:
                self._pool.close()  # connections lent now are closed when they come back
            else:
                self._conn.close()
