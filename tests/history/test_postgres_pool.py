"""PostgreSQL holds up (issue 20, item 8): a pool of connections, a statement timeout and TCP keepalives.

Against the real PostgreSQL server the tests start (tests/history/postgres.py). Before, every session shared one
connection under one lock, so one statement that never came back (a half-open link, a stuck query) stalled
every page of every person.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from studio.history import HistoryStore
from studio.history.database import DatabaseError

from .conftest import make_request, ok_result
from .postgres import PostgresServer


@pytest.fixture
def pg_store(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore.open(url=postgres_server.create_database(), data_dir=tmp_path / "data")
    yield store
    store.close()


def _backends_running(admin_url: str, query: str) -> list[int]:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        return [r[0] for r in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query = %s", (query,)).fetchall()]


def test_a_stuck_statement_does_not_block_another_sessions_reads(pg_store: HistoryStore,
                                                                 postgres_server: PostgresServer) -> None:
    request = make_request("a lighthouse")
    pg_store.record_attempt("google:ann", request, ok_result(request), batch_id="b")
    stuck = "SELECT pg_sleep(600)"
    outcome: list[BaseException | None] = []

    def hang() -> None:  # one session's statement that does not come back
        try:
            pg_store.db.row(stuck)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=hang, daemon=True)
    worker.start()
    try:
        pids: list[int] = []
        while not pids:  # the statement is on the server (no sleep: polling the server's own view)
            pids = _backends_running(postgres_server.admin_url, stuck)
            assert worker.is_alive()
        listed: list[str] = []
        reader = threading.Thread(target=lambda: listed.extend(  # another session's page
            e.prompt for e in pg_store.list_entries("google:ann")), daemon=True)
        reader.start()
        reader.join(20)  # a bound for the old code, where the read waited for the stuck statement's lock
        assert not reader.is_alive() and listed == ["a lighthouse"], "the read did not wait for the stuck one"
        assert pg_store.count_entries("google:ann") == 1
        assert worker.is_alive() and _backends_running(postgres_server.admin_url, stuck) == pids, \
            "read while the stuck statement still held its connection"
        pg_store.start_entry("google:bob", request, 0, batch_id="c")  # and writes go through too
    finally:
        with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = %s", (stuck,))
        worker.join(30)
    assert isinstance(outcome[0], DatabaseError), "the cancelled statement fails plainly"
    assert pg_store.count_entries("google:bob") == 1, "its connection went back to the pool in working order"


def test_the_statement_timeout_fires_and_the_store_goes_on(postgres_server: PostgresServer, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_DB_STATEMENT_TIMEOUT_S", "0.5")
    store = HistoryStore.open(url=postgres_server.create_database(), data_dir=tmp_path / "data")
    try:  # the migrations above ran with the timeout lifted; a page's statement gets half a second
        assert store.db.row("SHOW statement_timeout") == ("500ms",)
        with pytest.raises(DatabaseError, match="statement timeout") as error:
            store.db.row("SELECT pg_sleep(30)")
        assert "Traceback" not in str(error.value)
        with pytest.raises(DatabaseError, match="statement timeout"), store.db.transaction():
            store.db.run("SELECT pg_sleep(30)")
        request = make_request()
        entry = store.record_attempt("local", request, ok_result(request), batch_id="b")
        assert store.get("local", entry.id) is not None, "the store works on after both"
    finally:
        store.close()


def test_connections_ask_for_keepalives_and_the_pool_stays_small(pg_store: HistoryStore,
                                                                 postgres_server: PostgresServer) -> None:
    """A half-open link (the other end gone without a word) is noticed by TCP keepalives and a user timeout."""
    conn = pg_store.db._borrow()
    try:
        params = conn.info.get_parameters()
    finally:
        assert pg_store.db._pool is not None
        pg_store.db._pool.release(conn)
    assert params.get("keepalives") == "1" and params.get("keepalives_idle") == "30"
    assert params.get("tcp_user_timeout") == "60000"
    done = threading.Barrier(9)

    def read() -> None:
        pg_store.count_entries("local")
        done.wait(30)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    done.wait(30)
    for thread in threads:
        thread.join()
    database = pg_store.db.target.conninfo.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        (opened,) = admin.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND application_name = "
                                  "'nano-banana-studio'", (database,)).fetchone()  # type: ignore[misc]
    assert 1 <= opened <= 4, "eight threads share at most the pool's four connections"
