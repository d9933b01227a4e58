"""The history store: records, search, isolation, crash safety, migrations, export and import.

Tests taking ``store``, ``database_url`` or ``fresh_database_url`` run on SQLite and on a real PostgreSQL, each
with image files in a folder and in an S3 bucket (moto), as a team deploys it (tests/history/conftest.py); the
others say why they are about one database. Stored files are looked at through ``stored_objects``, whichever
medium holds them.
"""

from __future__ import annotations

import gc
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest

from studio.credentials import Connection
from studio.history import ArchiveError, Entry, HistoryStore, files, namespace_for, schema
from studio.history import store as store_module
from studio.history.database import Database, DatabaseError, DatabaseUnavailable, configured_url, parse_url
from studio.history.diff import word_diff
from studio.history.schema import MIGRATIONS, Migration, current_version, migrate
from studio.images import read_recipe
from studio.results import GeneratedImage, Usage

from .conftest import make_request, ok_result, stored_objects
from .postgres import PostgresServer, PostgresUnavailable


def test_every_attempt_is_recorded_with_its_images(store, record) -> None:
    good = record(refs=2)
    bad = record(ok=False)
    assert good.status == "ok" and good.references_count == 2
    assert good.estimated_cost_usd == pytest.approx(0.1344 + 2 * 0.0011), "the price table, before sending"
    assert good.cost_usd == pytest.approx(10 * 2e-6 + 1120 * 120e-6), "recorded usage: 10 prompt + 1120 image tokens"
    assert bad.status == "blocked" and bad.cost_usd == 0 and bad.failure_message == "blocked plainly"
    assert read_recipe(store.read_image("local", good.id))["prompt"] == "a lighthouse at dawn"
    assert store.read_thumbnail("local", good.id)[:2] == b"\xff\xd8"
    assert [r.name for r in store.read_references("local", good.id)] == ["ref0.png", "ref1.png"]
    assert store.read_image("local", bad.id) is None


def test_cost_comes_from_recorded_usage_with_thinking_billed_as_text(store) -> None:
    request = make_request()
    result = replace(ok_result(request), usage=Usage(prompt_tokens=500, output_tokens=1120 + 40, thoughts_tokens=300,
                                                     total_tokens=1960))
    entry = store.record_attempt("local", request, result, batch_id="b")
    expected = 500 * 2e-6 + 1120 * 120e-6 + (40 + 300) * 12e-6
    assert entry.cost_usd == pytest.approx(expected)
    assert entry.thoughts_tokens == 300
    assert entry.estimated_cost_usd == pytest.approx(0.1344)


def test_search_filters_sort_and_paging(store, record) -> None:
    for i in range(30):
        record(prompt=f"banana number {i}" if i % 2 else f"orange number {i}", ok=i % 3 != 0)
    assert store.count_entries("local") == 30
    assert store.count_entries("local", query="banana") == 15
    assert store.count_entries("local", query="banan") == 15, "prefix search"
    assert store.count_entries("local", statuses=["blocked"]) == 10
    assert store.count_entries("local", query="banana", statuses=["ok"]) == 10
    page1 = store.list_entries("local", limit=12, offset=0)
    page3 = store.list_entries("local", limit=12, offset=24)
    assert len(page1) == 12 and len(page3) == 6
    assert page1[0].created_at >= page1[-1].created_at
    assert store.list_entries("local", sort="oldest", limit=1)[0].prompt == "orange number 0"
    first = page1[0]
    store.set_favorite("local", first.id, True)
    assert [e.id for e in store.list_entries("local", favorites_only=True)] == [first.id]


def test_search_treats_quotes_and_operators_as_text(store, record) -> None:
    record(prompt='a "quoted" OR NOT AND * banana')
    assert store.count_entries("local", query='"quoted" OR') == 1
    assert store.count_entries("local", query="NEAR(") == 0


def test_two_identities_never_see_each_other(store, record) -> None:
    mine = record(namespace="google:alice")
    record(namespace="google:bob", prompt="bob's secret plan")
    assert store.count_entries("google:alice") == 1
    assert store.get("google:bob", mine.id) is None
    assert store.read_image("google:bob", mine.id) is None
    assert store.read_references("google:bob", mine.id) == []
    assert store.set_favorite("google:bob", mine.id, True) is False
    assert store.delete("google:bob", mine.id) is False
    assert store.count_entries("google:alice", query="secret") == 0
    for crafted in ("../google:alice", "google:alice/../google:bob", "' OR 1=1 --"):
        assert store.get(crafted, mine.id) is None
        assert store.count_entries(crafted) == 0
    assert store.get("google:alice", "../" + mine.id) is None


def test_files_live_under_hashed_folders_with_store_made_names(store, record) -> None:
    entry = record(namespace="../../etc", refs=1)
    listed = list(store.blobs.listing())
    assert listed and {b.namespace_key for b in listed} == {files.namespace_key("../../etc")}, "one hashed folder"
    assert all(entry.id in b.name or len(b.name.split(".")[0]) == 64 for b in listed), "entry ids and sha256 only"
    assert {b.name for b in listed} == {entry.image_file, entry.thumb_file,
                                        f"{store.read_references('../../etc', entry.id)[0].sha256}.bin"}
    assert stored_objects(store) == sorted(f"ns/{b.namespace_key}/{b.name}" for b in listed), \
        "nothing was written anywhere else, on the folder, in the bucket or on local disk"


def test_namespaces_hide_the_key(tmp_path: Path) -> None:
    key = "AIzaSECRETSECRETSECRETSECRET1234"
    ns = namespace_for(Connection(mode="api_key", api_key=key), tmp_path)
    assert ns.startswith("key:") and key not in ns
    assert ns == namespace_for(Connection(mode="api_key", api_key=key), tmp_path)
    assert namespace_for(Connection(mode="oauth", access_token="t", subject="1234"), tmp_path) == "google:1234"
    assert namespace_for(Connection(mode="offline", api_key="emulator-key"), tmp_path) == "local"


def test_delete_and_undo(store, record) -> None:
    entry = record()
    store.delete("local", entry.id)
    assert store.count_entries("local") == 0 and store.get("local", entry.id) is None
    store.undelete("local", entry.id)
    assert store.get("local", entry.id) is not None


def test_lineage_and_word_diff(store, record) -> None:
    root = record(prompt="a red fox in snow")
    child = record(prompt="a red fox in deep snow at dusk", parent_id=root.id)
    grandchild = record(prompt="a silver fox in deep snow at dusk", parent_id=child.id)
    assert [e.id for e in store.lineage("local", grandchild.id)] == [root.id, child.id, grandchild.id]
    assert [e.id for e in store.children("local", root.id)] == [child.id]
    diff = word_diff(root.prompt, child.prompt)
    assert ("insert", "deep ") in diff and ("insert", " at dusk") in diff
    assert "".join(t for op, t in diff if op != "delete") == child.prompt


def test_search_leaves_out_words_without_letters_or_digits(store, record) -> None:
    record(prompt="a red-fox at version 1.5, alpha_beta")
    record(prompt="a grey wolf")
    assert store.count_entries("local", query="fox *") == 1, "a word with nothing to match is left out"
    assert store.count_entries("local", query="* ( --") == 0, "nothing to match matches nothing"
    assert store.count_entries("local", query="RED-F") == 1, "case-insensitive, last part as a prefix"
    assert store.count_entries("local", query="alpha_beta 1.5") == 1
    assert store.count_entries("local", query="a", statuses=["ok"]) == 2
    assert [e.prompt for e in store.list_entries("local", query="a", sort="oldest")] == [
        "a red-fox at version 1.5, alpha_beta", "a grey wolf"]


def test_concurrent_writers_and_readers_share_one_store(store) -> None:
    """Script threads and job-runner threads call one store at once: no lost row, no broken transaction."""
    request = make_request()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(8):
                entry = store.start_entry(f"ns{n}", request, i, batch_id=f"b{n}")
                store.heartbeat([entry.id])
                store.end_entry(f"ns{n}", entry.id, "cancelled", "cancelled", "stopped")
                store.count_entries(f"ns{n}", query="lighthouse")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [store.status_counts(f"ns{n}") for n in range(6)] == [{"cancelled": 8}] * 6


def test_survives_reopening(tmp_path: Path, record, store, open_store) -> None:
    entry = record()
    store.close()
    again = open_store(tmp_path / "data")
    assert again.get("local", entry.id).prompt == entry.prompt
    assert again.read_image("local", entry.id) is not None
    again.close()


@pytest.mark.parametrize("backend", ["sqlite", "sqlite+s3"])
def test_interrupted_write_leaves_no_half_entry(tmp_path: Path, media_url: str | None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A process killed between writing the files and committing the row: no row, and no orphan files after reopen.

    SQLite only: it kills a process holding an SQLite file's write transaction (PostgreSQL rolls back a dead
    client's transaction itself; the same order of files then row is covered by the import tests on both).
    The files are in a folder or a bucket; the sweep is the same on both.
    """
    data = tmp_path / "data"
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from tests.history.conftest import make_request, ok_result
        from studio.history import HistoryStore
        store = HistoryStore.open(data_dir=__import__('pathlib').Path({str(data)!r}), media_url={media_url!r})
        original = store._insert
        def die(*args, **kwargs):
            os._exit(9)  # the process dies with the transaction open
        store._insert = die
        request = make_request(refs=1)
        store.record_attempt("local", request, ok_result(request), batch_id="b")
    """)
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 9
    store = HistoryStore.open(data_dir=data, media_url=media_url)
    files_before = stored_objects(store)
    assert len(files_before) == 1, "the files (the reference, for the running row) were written before the row"
    assert store.count_entries("local") == 0
    assert store.sweep_orphans() == 0
    assert stored_objects(store) == files_before, "young files are kept: a writer may be mid-commit"
    store.close()
    store = HistoryStore.open(data_dir=data, media_url=media_url)
    real_time = time.time  # an hour later on the store's clock (a bucket's LastModified cannot be set back)
    monkeypatch.setattr(store_module, "time", SimpleNamespace(time=lambda: real_time() + 3600,
                                                              monotonic=time.monotonic))
    assert store.sweep_orphans() == len(files_before)  # what the runner's housekeeping does on its schedule
    assert stored_objects(store) == [], "orphans past the grace period are swept"
    store.close()


def test_migration_from_a_v1_database(tmp_path: Path, fresh_database_url: str, media_url: str | None) -> None:
    db = Database.connect(fresh_database_url)
    assert migrate(db, target=1) == 1
    with db.transaction():
        db.run("INSERT INTO entries (id, namespace, batch_id, created_at, prompt, model_id, aspect_ratio, image_size, "
               "output_format, settings_json, status) VALUES ('abc', 'local', 'b', 1.0, 'old prompt', "
               "'gemini-3-pro-image', '1:1', '1K', 'PNG', '{}', 'ok')")
        db.run("INSERT INTO entry_references VALUES ('abc', 0, 'f00d', 'r.png', 'image/png')")
    db.close()
    store = HistoryStore.open(url=fresh_database_url, data_dir=tmp_path / "data", media_url=media_url)
    entry = store.get("local", "abc")
    assert entry.prompt == "old prompt" and entry.favorite is False and entry.references_count == 1
    assert store.count_entries("local", query="old") == 1, "search works on migrated rows"
    assert current_version(store.db) == MIGRATIONS[-1].version
    store.close()


def test_a_v1_sqlite_file_written_by_the_old_code_migrates(tmp_path: Path) -> None:
    """SQLite only: a history.sqlite3 made by the shipped code (its own v1 DDL, plain sqlite3) opens and migrates."""
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(data / "history.sqlite3")
    db.executescript("""
        CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL);
        INSERT INTO schema_migrations VALUES (1, 0);
        CREATE TABLE entries (id TEXT PRIMARY KEY, namespace TEXT NOT NULL, batch_id TEXT NOT NULL, parent_id TEXT,
            created_at REAL NOT NULL, prompt TEXT NOT NULL, model_id TEXT NOT NULL, aspect_ratio TEXT NOT NULL,
            image_size TEXT NOT NULL, output_format TEXT NOT NULL, settings_json TEXT NOT NULL, status TEXT NOT NULL,
            failure_kind TEXT, failure_message TEXT, failure_detail TEXT, finish_reason TEXT, block_reason TEXT,
            latency_s REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 1,
            prompt_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
            total_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0, model_version TEXT,
            response_id TEXT, text TEXT, request_json TEXT, response_json TEXT, image_file TEXT, thumb_file TEXT,
            width INTEGER, height INTEGER, mime_type TEXT);
        CREATE INDEX entries_ns_time ON entries(namespace, created_at DESC);
        CREATE TABLE entry_references (entry_id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            position INTEGER NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL, mime_type TEXT NOT NULL,
            PRIMARY KEY (entry_id, position));
        INSERT INTO entries (id, namespace, batch_id, created_at, prompt, model_id, aspect_ratio, image_size,
            output_format, settings_json, status, cost_usd) VALUES ('abc', 'local', 'b', 1.0, 'old prompt',
            'gemini-3-pro-image', '1:1', '1K', 'PNG', '{}', 'ok', 0.25);
    """)
    db.close()
    store = HistoryStore.open(data_dir=data)
    entry = store.get("local", "abc")
    assert entry.prompt == "old prompt" and entry.estimated_cost_usd == 0.25
    assert store.count_entries("local", query="old") == 1
    assert current_version(store.db) == MIGRATIONS[-1].version
    store.close()


def test_a_failed_migration_step_leaves_nothing_behind(fresh_database_url: str) -> None:
    """A step commits whole or not at all: its first statement is undone when its second fails, and it runs
    again (whole) next time."""
    db = Database.connect(fresh_database_url)
    migrate(db)
    broken = Migration(MIGRATIONS[-1].version + 1, "broken", ("CREATE TABLE half_done (x INTEGER)",
                                                              "CREATE TABLE no_such_column_type (x"))
    with pytest.raises(sqlite3.Error):
        migrate(db, target=broken.version, steps=(*MIGRATIONS, broken))
    assert current_version(db) == MIGRATIONS[-1].version
    with db.transaction():  # the half-done table is not there: creating it again works
        db.run("CREATE TABLE half_done (x INTEGER)")
        db.run("DROP TABLE half_done")
    fixed = Migration(broken.version, "fixed", ("CREATE TABLE half_done (x INTEGER)",))
    assert migrate(db, target=fixed.version, steps=(*MIGRATIONS, fixed)) == fixed.version
    db.close()


@pytest.mark.parametrize("backend", ["postgres", "postgres+s3"])
def test_two_replicas_opening_a_fresh_postgres_database_migrate_it_once(postgres_server: PostgresServer,
                                                                        tmp_path: Path,
                                                                        media_url: str | None) -> None:
    """PostgreSQL only (replicas share a server): two stores open one empty database at the same moment.

    With a bucket (a team's deployment) each replica also reads the images the other made."""
    url = postgres_server.create_database()
    start = threading.Barrier(2)
    stores: list[HistoryStore] = []
    errors: list[BaseException] = []

    def open_one(n: int) -> None:
        try:
            start.wait()
            stores.append(HistoryStore.open(url=url, data_dir=tmp_path / f"replica{n}", media_url=media_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(stores) == 2
    rows = stores[0].db.rows("SELECT version FROM schema_migrations ORDER BY version")
    assert [r[0] for r in rows] == [m.version for m in MIGRATIONS], "each step applied once"
    request = make_request("made on one replica")
    entry = stores[0].record_attempt("local", request, ok_result(request), batch_id="b")
    assert stores[1].get("local", entry.id).prompt == "made on one replica"
    if media_url:
        assert stores[1].read_image("local", entry.id) == stores[0].read_image("local", entry.id) is not None
        assert stores[1].read_thumbnail("local", entry.id)[:2] == b"\xff\xd8"
    for s in stores:
        s.close()


def test_postgres_errors_are_plain_and_name_no_password(postgres_server: PostgresServer) -> None:
    """PostgreSQL only: a refused connection at open and a failed statement, as one family of errors."""
    url = postgres_server.url("no_such_database").replace("studio@", "studio:s3cret-pw@")
    with pytest.raises(DatabaseUnavailable) as error:
        HistoryStore.open(url=url, data_dir=Path(tempfile.mkdtemp()))
    message = str(error.value)
    assert "no_such_database" in message and "s3cret-pw" not in message and "STUDIO_DATABASE_URL" in message
    assert isinstance(error.value, sqlite3.Error), "callers catch one family of database errors"
    db = Database.connect(postgres_server.create_database())
    with pytest.raises(DatabaseError, match="no_such_table"):
        db.rows("SELECT * FROM no_such_table")
    assert db.row("SELECT 1") == (1,), "the connection is usable after a failed statement"
    db.close()


def test_database_urls() -> None:
    assert parse_url("sqlite:///tmp/h.sqlite3").path == Path("/tmp/h.sqlite3")
    assert parse_url("sqlite://").path is None
    for url in ("postgresql://u:pw@db.example:5432/studio", "postgres://u:pw@db.example/studio",
                "postgresql+psycopg://u:pw@db.example:5432/studio?sslmode=require"):
        target = parse_url(url)
        assert target.dialect == "postgresql" and "pw" not in target.shown and target.shown.endswith("/studio")
        assert target.conninfo.startswith("postgresql://u:pw@db.example")
    for bad, expected in (("mysql://u:secret@h/db", "not a supported database"),
                          ("postgresql://u:secret@h", "needs a host and a database"),
                          ("postgresql://u:secret@h:port/db", "port")):
        with pytest.raises(ValueError, match=expected) as error:
            parse_url(bad)
        assert "secret" not in str(error.value)


def test_the_database_url_comes_from_the_environment_else_streamlit_secrets() -> None:
    secrets = {"studio": {"url": "postgresql://u@h/from_secrets"}}
    assert configured_url(secrets, {"STUDIO_DATABASE_URL": "postgresql://u@h/from_env"}) == "postgresql://u@h/from_env"
    assert configured_url(secrets, {}) == "postgresql://u@h/from_secrets"
    assert configured_url({}, {}) is None and configured_url(None, {"STUDIO_DATABASE_URL": " "}) is None
    keys = {"studio": {"dialect": "postgresql", "username": "me", "password": "p@ss:/word", "host": "db.example",
                       "port": 5432, "database": "studio", "query": {"sslmode": "require"}}}
    url = configured_url(keys, {})
    assert url == "postgresql://me:p%40ss%3A%2Fword@db.example:5432/studio?sslmode=require"
    assert urlsplit(url).password and unquote(urlsplit(url).password) == "p@ss:/word"
    assert parse_url(url).shown == "postgresql://me@db.example:5432/studio"


def test_missing_postgres_binaries_fail_unless_skipping_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI must not pass by skipping: no server binaries is an error; STUDIO_SKIP_POSTGRES=1 is the only way out."""
    from . import postgres

    monkeypatch.setattr(postgres, "find_bin_dir", lambda: None)
    with pytest.raises(PostgresUnavailable, match="STUDIO_SKIP_POSTGRES=1"):
        postgres.PostgresServer()
    monkeypatch.delenv("STUDIO_SKIP_POSTGRES", raising=False)
    assert not postgres.skip_allowed()
    monkeypatch.setenv("STUDIO_SKIP_POSTGRES", "1")
    assert postgres.skip_allowed()


def test_the_column_list_is_written_once() -> None:
    assert [f for f in Entry.__dataclass_fields__ if f not in ("settings",)] == [
        "settings_json" if c == "settings_json" else c for c in schema.COLUMNS if c != "settings_json"]


def test_a_private_store_never_touches_the_disk_and_frees_its_bytes_at_close(tmp_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).iterdir())
    private = HistoryStore.private()
    request = make_request(refs=1)
    entry = private.record_attempt("local", request, ok_result(request), batch_id="b")
    assert private.data_dir is None
    assert set(Path(tempfile.gettempdir()).iterdir()) == before, "no temp folder, no file"
    assert private.read_image("local", entry.id)
    assert private.blobs.size_bytes > 0
    private.close()
    assert private.blobs.size_bytes == 0, "the image bytes are gone"
    with pytest.raises(sqlite3.ProgrammingError):
        private.count_entries("local")


def test_a_dropped_private_store_is_released() -> None:
    private = HistoryStore.private()
    request = make_request()
    private.record_attempt("local", request, ok_result(request), batch_id="b")
    gone = weakref.ref(private)
    del private
    gc.collect()
    assert gone() is None, "nothing else holds a private session's store"


def test_export_then_import_round_trip_on_this_database(store, record) -> None:
    """The archive on each database: rows, lineage, drafts, references and images come back as new entries."""
    root = record(prompt="first version", refs=1)
    record(prompt="second version", parent_id=root.id)
    request = make_request("with thoughts")
    drafts = (GeneratedImage(data=ok_result(request).image.data, mime_type="image/png", width=96, height=64),)
    store.record_attempt("local", request, replace(ok_result(request), drafts=drafts, thought_text="a sketch"),
                         batch_id="b")
    store.start_entry("local", make_request("in flight"), 0, batch_id="b")
    imported = store.import_zip("google:me", store.export_zip("local"))
    by_prompt = {e.prompt: e for e in imported}
    assert {p: e.status for p, e in by_prompt.items()} == {
        "first version": "ok", "second version": "ok", "with thoughts": "ok", "in flight": "interrupted"}
    assert by_prompt["second version"].parent_id == by_prompt["first version"].id
    assert store.read_image("google:me", by_prompt["first version"].id) == store.read_image("local", root.id)
    assert len(store.read_references("google:me", by_prompt["first version"].id)) == 1
    assert [d.data for d in store.read_drafts("google:me", by_prompt["with thoughts"].id)] == [drafts[0].data]
    assert store.count_entries("google:me", query="version") == 2


def test_a_failed_import_leaves_no_row_and_no_file(store, record, monkeypatch: pytest.MonkeyPatch) -> None:
    """All files, then all rows in one transaction: a database failure on the second row undoes everything."""
    record(prompt="one", refs=1)
    record(prompt="two")
    data = store.export_zip("local")
    files_before = stored_objects(store)
    assert len(files_before) == 5, "two images, two thumbnails, one reference"
    insert = store._insert
    calls: list[str] = []

    def fail_on_second(row: dict, references: list, **kwargs: bool) -> None:
        calls.append(row["id"])
        if len(calls) == 2:
            store.db.run("INSERT INTO no_such_table VALUES (1)")  # a real error of this database
        insert(row, references, **kwargs)

    monkeypatch.setattr(store, "_insert", fail_on_second)
    with pytest.raises(ArchiveError, match="could not be written"):
        store.import_zip("google:me", data)
    assert len(calls) == 2
    assert store.count_entries("google:me") == 0
    assert stored_objects(store) == files_before, "the files the import wrote are gone again"
    assert store.count_entries("local") == 2, "the store still works"


@pytest.mark.parametrize("few_hits", [1, 10**6])
def test_search_lists_the_same_whichever_plan_the_database_takes(store, record, few_hits: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL sorts a few hits itself and walks the time index for many (Dialect.search_order): same answer."""
    from studio.history import database

    monkeypatch.setattr(database, "FEW_HITS", few_hits)
    for i in range(6):
        record(prompt=f"harbour lights {i}" if i % 2 else f"meadow {i}")
    for sort in ("newest", "oldest", "cost"):
        listed = [e.prompt for e in store.list_entries("local", query="harb", sort=sort, limit=2, offset=1)]
        expected = ["harbour lights 3", "harbour lights 1"] if sort != "oldest" else ["harbour lights 3",
                                                                                     "harbour lights 5"]
        assert listed == expected, sort


def test_a_dropped_postgres_connection_fails_one_call_plainly_and_the_next_reconnects(
        postgres_server: PostgresServer, tmp_path: Path) -> None:
    """PostgreSQL only: the server ends the studio's connection (a restart, a failover); nothing recorded is lost."""
    import psycopg

    url = postgres_server.create_database()
    store = HistoryStore.open(url=url, data_dir=tmp_path / "data")
    request = make_request()
    entry = store.record_attempt("local", request, ok_result(request), batch_id="b")
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                      (url.rsplit("/", 1)[1],))
    with pytest.raises(DatabaseError) as error:
        store.start_entry("local", request, 1, batch_id="b")
    assert "PostgreSQL" in str(error.value) and "Traceback" not in str(error.value)
    assert store.get("local", entry.id).prompt == request.prompt, "the next call reconnects"
    assert store.count_entries("local") == 1, "the failed write left nothing half-done"
    store.close()


# ---- issue 20: the orphan sweep and the spend ledger ---------------------------------------------------------
def test_sweep_keeps_a_reference_a_row_named_after_the_listing(store, record, monkeypatch) -> None:
    """A reference file left by a purged entry is an orphan when the sweep lists it; a new entry reusing that
    reference (content-addressed) commits its row before the sweep reaches the file: the file must stay.
    On a folder and on a bucket, on SQLite and on PostgreSQL (issue 20, item 7)."""
    gone = record(refs=1)
    (ref,) = store.read_references("local", gone.id)
    store.delete("local", gone.id)
    store.purge(older_than_s=-1)  # the row is gone; its reference is young, so the purge's sweep keeps it
    assert f"{ref.sha256}.bin" in " ".join(stored_objects(store))
    listing = store.blobs.listing
    reused: list[Entry] = []

    def listing_then_a_writer():  # another session commits a row naming the file while the sweep walks
        listed = list(listing())
        request = make_request("the same reference again", refs=1)
        assert request.references[0].sha256 == ref.sha256
        reused.append(store.start_entry("local", request, 0, batch_id="other"))
        yield from listed

    monkeypatch.setattr(store.blobs, "listing", listing_then_a_writer)
    store.sweep_orphans(grace_s=-1)  # everything listed counts as old
    (kept,) = store.read_references("local", reused[0].id)
    assert kept.data == ref.data, "the row committed between listing and deleting keeps its file"


def test_spend_ledger_outlives_deletes_purges_and_restarts(store, record, open_store, tmp_path) -> None:
    """Deleting and purging entries lowers no one's spend; the team's is every identity's (issue 20, item 12)."""
    ann = [record("google:ann") for _ in range(3)]
    record("google:bob")
    midnight = time.time() - 60
    per_image = max(ann[0].estimated_cost_usd, ann[0].cost_usd)  # the estimate, or the billed cost when higher
    assert per_image > 0 and store.spent_since(midnight, "google:ann") == pytest.approx(3 * per_image)
    for entry in ann:
        assert store.delete("google:ann", entry.id)
    store.purge(older_than_s=-1)
    assert store.count_entries("google:ann") == 0
    assert store.spent_since(midnight, "google:ann") == pytest.approx(3 * per_image), "deleting refunds nothing"
    assert store.spent_since(midnight) == pytest.approx(4 * per_image), "the team's"
    assert store.spent_since(time.time() + 1, "google:ann") == 0.0
    again = open_store(tmp_path / "data")
    try:
        assert again.spent_since(midnight, "google:ann") == pytest.approx(3 * per_image), "a restart neither"
    finally:
        again.close()


def test_a_private_sessions_spend_counts_in_the_shared_ledger(store) -> None:
    """A private session's attempts are written to the shared ledger (amounts only) and stay when it closes."""
    private = HistoryStore.private(ledger=store.ledger)
    request = make_request("a secret prompt")
    entry = private.record_attempt("google:ann", request, ok_result(request), batch_id="b")
    assert store.count_entries("google:ann") == 0, "the entry itself stays private"
    private.close()
    assert store.spent_since(time.time() - 60, "google:ann") == pytest.approx(max(entry.estimated_cost_usd, entry.cost_usd))
    row = store.db.row("SELECT * FROM spend_ledger")
    assert row is not None and "a secret prompt" not in repr(row), "amounts only"


def test_spend_is_one_aggregate_query(store, record, monkeypatch) -> None:
    """The cap reads one row from the database, however many attempts the day holds."""
    for _ in range(5):
        record("google:ann")
    asked: list[str] = []
    for name in ("row", "rows"):
        real = getattr(store.db, name)
        monkeypatch.setattr(store.db, name, lambda sql, params=(), real=real: asked.append(sql) or real(sql, params))
    assert store.spent_since(time.time() - 60, "google:ann") > 0
    assert len(asked) == 1 and "SUM(" in asked[0]


def test_purge_keeps_deleted_turns_a_later_edit_continues(store, record) -> None:
    """The 7-day purge took a deleted root or middle version, so the next edit sent a conversation starting
    mid-thread; now it waits until nothing continues them, then takes the chain whole (issue 20, item 10b)."""
    root = record(prompt="v1")
    middle = store.record_attempt("local", replace(make_request("v2"), thread_parent_id=root.id),
                                  ok_result(make_request("v2")), batch_id="b")
    leaf = store.record_attempt("local", replace(make_request("v3"), thread_parent_id=middle.id),
                                ok_result(make_request("v3")), batch_id="b")
    assert leaf.thread_root_id == root.id
    for entry in (root, middle):
        store.delete("local", entry.id)
    assert store.purge(older_than_s=-1) == 0
    assert [e.id for e in store.thread_chain("local", leaf.id)] == [root.id, middle.id, leaf.id]
    assert store.get("local", root.id, include_deleted=True), "the turn the next edit sends back is kept"
    assert [e.id for e in store.thread_entries("local", root.id, include_deleted=True)] == [root.id, middle.id,
                                                                                            leaf.id]
    store.delete("local", leaf.id)
    assert store.purge(older_than_s=-1) == 3 and store.count_entries("local") == 0
