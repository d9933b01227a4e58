"""The history store: records, search, isolation, crash safety, migrations, export and import."""

from __future__ import annotations

import gc
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import weakref
from dataclasses import replace
from pathlib import Path

import pytest

from studio.credentials import Connection
from studio.history import HistoryStore, namespace_for
from studio.history.diff import word_diff
from studio.history.schema import MIGRATIONS, migrate
from studio.images import read_recipe
from studio.results import Usage

from .conftest import make_request, ok_result


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
    entry = record(namespace="../../etc")
    files = [p for p in store.data_dir.rglob("*") if p.is_file() and p.suffix in (".png", ".jpg", ".bin")]
    assert files and all(p.resolve().is_relative_to(store.data_dir.resolve()) for p in files)
    assert all(entry.id in p.name or len(p.stem) == 64 for p in files)


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


def test_survives_reopening(tmp_path: Path, record, store) -> None:
    entry = record()
    store.close()
    again = HistoryStore.open(data_dir=tmp_path / "data")
    assert again.get("local", entry.id).prompt == entry.prompt
    assert again.read_image("local", entry.id) is not None


def test_interrupted_write_leaves_no_half_entry(tmp_path: Path) -> None:
    """A process killed between writing the files and committing the row: no row, and no orphan files after reopen."""
    data = tmp_path / "data"
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from tests.history.conftest import make_request, ok_result
        from studio.history import HistoryStore
        store = HistoryStore.open(data_dir=__import__('pathlib').Path({str(data)!r}))
        original = store._insert
        def die(*args, **kwargs):
            os._exit(9)  # the process dies with the transaction open
        store._insert = die
        request = make_request(refs=1)
        store.record_attempt("local", request, ok_result(request), batch_id="b")
    """)
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 9
    files_before = [p for p in (data / "ns").rglob("*") if p.is_file()]
    assert files_before, "the files were written before the row"
    store = HistoryStore.open(data_dir=data)
    assert store.count_entries("local") == 0
    assert [p for p in (data / "ns").rglob("*") if p.is_file()], "young files are kept: a writer may be mid-commit"
    store.close()
    an_hour_ago = time.time() - 3600
    for path in files_before:
        os.utime(path, (an_hour_ago, an_hour_ago))
    store = HistoryStore.open(data_dir=data)
    assert not [p for p in (data / "ns").rglob("*") if p.is_file()], "orphans past the grace period are swept"
    store.close()


def test_migration_from_a_v1_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(data / "history.sqlite3")
    assert migrate(db, target=1) == 1
    db.execute("INSERT INTO entries (id, namespace, batch_id, created_at, prompt, model_id, aspect_ratio, image_size, "
               "output_format, settings_json, status) VALUES ('abc', 'local', 'b', 1.0, 'old prompt', "
               "'gemini-3-pro-image', '1:1', '1K', 'PNG', '{}', 'ok')")
    db.execute("INSERT INTO entry_references VALUES ('abc', 0, 'f00d', 'r.png', 'image/png')")
    db.commit()
    db.close()
    store = HistoryStore.open(data_dir=data)
    entry = store.get("local", "abc")
    assert entry.prompt == "old prompt" and entry.favorite is False and entry.references_count == 1
    assert store.count_entries("local", query="old") == 1, "search works on migrated rows"
    version = store._db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    assert version == MIGRATIONS[-1][0]


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
