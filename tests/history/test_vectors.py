"""Entry vectors in History (migration 11) on SQLite and PostgreSQL: compact float32 rows per identity, the
cache stamp, what is not yet indexed, purge, and export/import carrying vectors."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable

import numpy as np
import pytest

from studio.embedding_spec import default_spec
from studio.history import HistoryStore
from studio.history.archive import ArchiveError
from studio.history.vectors import decode, encode

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"])
SPEC = default_spec()
MODEL = SPEC.model_id


def _vec(seed: int, dims: int = 768) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
    return v / np.linalg.norm(v)


def test_vectors_round_trip_as_compact_bytes_per_identity(store: HistoryStore, record: Callable, backend: str) -> None:
    ann = [record("google:ann", f"prompt {i}") for i in range(3)]
    bob = record("google:bob", "bob's")
    assert len(encode(_vec(1))) == 768 * 4
    assert store.vectors.put_many("google:ann", MODEL, [(e.id, _vec(i)) for i, e in enumerate(ann)]) == 3
    assert store.vectors.put_many("google:ann", MODEL, [(bob.id, _vec(9))]) == 0, "not ann's entry"
    assert np.array_equal(store.vectors.get("google:ann", ann[1].id), _vec(1))
    assert store.vectors.get("google:bob", ann[1].id) is None
    loaded = store.vectors.load("google:ann", MODEL, 768)
    assert sorted(loaded.ids) == sorted(e.id for e in ann) and loaded.matrix.shape == (3, 768)
    assert loaded.matrix.dtype == np.float32
    assert store.vectors.load("google:bob", MODEL, 768).ids == []
    raw = store.db.row("SELECT vector FROM entry_vectors WHERE entry_id = ?", (ann[0].id,))
    assert raw is not None and len(bytes(raw[0])) == 768 * 4, "stored as float32 bytes"


def test_stamp_changes_when_vectors_change_and_counts_say_what_is_missing(store: HistoryStore, record: Callable,
                                                                        backend: str) -> None:
    entries = [record("local", f"p{i}") for i in range(4)]
    record("local", "blocked one", ok=False)
    assert store.vectors.counts("local", MODEL) == (0, 4), "only successful entries are indexed"
    assert store.vectors.missing("local", MODEL) == [e.id for e in entries], "oldest first"
    empty = store.vectors.stamp("local")
    store.vectors.put_many("local", MODEL, [(entries[0].id, _vec(0))])
    first = store.vectors.stamp("local")
    assert first != empty
    time.sleep(0.01)
    store.vectors.put_many("local", MODEL, [(entries[0].id, _vec(5))])
    assert store.vectors.stamp("local") != first, "a replaced vector changes the stamp too"
    assert store.vectors.counts("local", MODEL) == (1, 3)
    store.delete("local", entries[1].id)
    assert store.vectors.counts("local", MODEL) == (1, 2), "deleted entries are not waiting"


def test_purge_takes_the_vector_with_its_entry(store: HistoryStore, record: Callable, backend: str) -> None:
    entry = record("local", "gone soon")
    store.vectors.put_many("local", MODEL, [(entry.id, _vec(3))])
    store.delete("local", entry.id)
    store.db.run("UPDATE entries SET deleted_at = ? WHERE id = ?", (time.time() - 30 * 86400, entry.id))
    assert store.purge() == 1
    assert store.vectors.get("local", entry.id) is None and store.vectors.stamp("local")[0] == 0


def test_export_and_import_carry_vectors(store: HistoryStore, record: Callable, backend: str) -> None:
    a, _b = record("local", "a red scooter"), record("local", "a bowl of lemons")
    store.vectors.put_many("local", MODEL, [(a.id, _vec(1))])
    data = store.export_zip("local")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    by_prompt = {r["prompt"]: r for r in manifest["entries"]}
    assert by_prompt["a red scooter"]["vector_dims"] == 768 and "vector" not in by_prompt["a bowl of lemons"]
    imported = store.import_zip("google:new", data)
    new_a = next(e for e in imported if e.prompt == "a red scooter")
    assert np.array_equal(store.vectors.get("google:new", new_a.id), _vec(1))
    assert store.vectors.counts("google:new", MODEL) == (1, 1), "the one without a vector waits for indexing"


def test_a_damaged_vector_refuses_the_whole_import(store: HistoryStore, record: Callable, backend: str) -> None:
    a = record("local", "a red scooter")
    store.vectors.put_many("local", MODEL, [(a.id, _vec(1))])
    data = store.export_zip("local")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info.filename, body[:100] if info.filename.startswith("vectors/") else body)
    with pytest.raises(ArchiveError, match="search vector of the wrong size"):
        store.import_zip("google:new", out.getvalue())
    assert store.count_entries("google:new") == 0


def test_decode_refuses_wrong_lengths(backend: str) -> None:
    with pytest.raises(ValueError):
        decode(b"\0" * 10, 768)


def test_load_copies_each_row_into_one_matrix_in_the_order_of_its_ids(store: HistoryStore, record: Callable,
                                                                      backend: str) -> None:
    entries = [record("google:ann", f"prompt {i}") for i in range(7)]
    stored = {e.id: _vec(i) for i, e in enumerate(entries)}
    store.vectors.put_many("google:ann", MODEL, stored.items())
    other = record("google:ann", "made by another model")  # counted by the stamp, not loaded with these
    store.vectors.put_many("google:ann", "other-embedding", [(other.id, _vec(99, 256))])
    record("google:bob", "bob's")
    assert store.vectors.stamp("google:ann")[0] == 8
    # the count the caller read before: right, too many (rows deleted or of another model since), too few (rows
    # written since the count: the buffer grows), none (load counts itself)
    for expected in (8, 50, 3, 0, None):
        loaded = store.vectors.load("google:ann", MODEL, 768, expected=expected)
        assert sorted(loaded.ids) == sorted(stored), f"expected={expected}"
        assert loaded.matrix.shape == (7, 768) and loaded.matrix.dtype == np.float32
        assert loaded.matrix.flags.c_contiguous
        for row, entry_id in zip(loaded.matrix, loaded.ids, strict=True):
            assert np.array_equal(row, stored[entry_id]), f"row of {entry_id} (expected={expected})"
    small = store.vectors.load("google:ann", "other-embedding", 256, expected=8)
    assert small.ids == [other.id] and np.array_equal(small.matrix, _vec(99, 256)[None, :])
    empty = store.vectors.load("google:bob", MODEL, 768)
    assert empty.ids == [] and empty.matrix.shape == (0, 768)


def test_a_damaged_stored_vector_is_named_when_loading(store: HistoryStore, record: Callable, backend: str) -> None:
    a, b = record("local", "a red scooter"), record("local", "a bowl of lemons")
    store.vectors.put_many("local", MODEL, [(a.id, _vec(1)), (b.id, _vec(2))])
    store.db.run("UPDATE entry_vectors SET vector = ? WHERE entry_id = ?", (b"\0" * 10, a.id))
    with pytest.raises(ValueError, match="a stored vector has 10 bytes, not 3072"):
        store.vectors.load("local", MODEL, 768)


def test_streamed_rows_give_raw_bytes_and_leave_the_connection_as_it_was(store: HistoryStore, record: Callable,
                                                                         backend: str) -> None:
    entries = [record("local", f"p{i}") for i in range(3)]
    store.vectors.put_many("local", MODEL, [(e.id, _vec(i)) for i, e in enumerate(entries)])
    with store.db.streamed("SELECT entry_id, vector FROM entry_vectors WHERE namespace = ?", ("local",)) as rows:
        got = {entry_id: vector for entry_id, vector in rows}
    assert {k: type(v) for k, v in got.items()} == {e.id: bytes for e in entries}, "bytes on both databases"
    assert got == {e.id: encode(_vec(i)) for i, e in enumerate(entries)}
    with pytest.raises(RuntimeError), store.db.streamed("SELECT entry_id FROM entry_vectors", ()) as rows:
        for _ in rows:
            raise RuntimeError("the reader stopped half way")
    if backend == "sqlite":
        assert store.db.row("PRAGMA mmap_size") == (0,), "the memory map lives for the read only"
    assert store.vectors.counts("local", MODEL) == (3, 0), "the connection still answers after both reads"
