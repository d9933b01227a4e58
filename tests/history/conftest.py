"""Fixtures for the history store: real images, real requests and results, no emulator needed.

The store contract runs on both databases: the ``store`` fixture (and ``database_url``) is parametrized over
``sqlite`` and ``postgres`` in the modules named in ``BOTH_DATABASES``; elsewhere it is SQLite only. The
PostgreSQL server is real (tests/history/postgres.py), one per session; when it cannot start, those tests
fail, unless STUDIO_SKIP_POSTGRES=1 says to skip them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from PIL import Image

from studio.history import HistoryStore
from studio.history.database import Database
from studio.history.schema import migrate
from studio.images import encode_output
from studio.request import GenerationRequest, ReferenceImage
from studio.results import Failure, FailureKind, ImageResult, Usage

from .postgres import PostgresServer

# Modules whose `store` runs on SQLite and on PostgreSQL. test_archive stays SQLite only: its ZIP checks do
# not touch the database, and the import/export round trip and all-or-nothing import run on both in test_store.
BOTH_DATABASES = {"test_store", "test_reference_roles"}


def png(colour: str = "teal", size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def make_request(prompt: str = "a lighthouse at dawn", refs: int = 0, **kw: object) -> GenerationRequest:
    references = tuple(ReferenceImage(name=f"ref{i}.png", data=png(size=(30 + i, 20)), mime_type="image/png")
                       for i in range(refs))
    return GenerationRequest(prompt=prompt, model_id=str(kw.pop("model_id", "gemini-3-pro-image")),
                             references=references, **kw)  # type: ignore[arg-type]


def ok_result(request: GenerationRequest, index: int = 0) -> ImageResult:
    image = encode_output(png(), request.output_format, 90, {**request.recipe(), "index": index})
    return ImageResult(index=index, image=image, usage=Usage(10, 1120, 0, 1130), latency_s=1.25,
                       model_version="gemini-3-pro-image", response_id=f"resp-{index}",
                       request_json={"model": request.model_id}, response_json={"candidates": []})


def failed_result(kind: FailureKind = FailureKind.OUTPUT_BLOCKED, index: int = 0) -> ImageResult:
    return ImageResult(index=index, failure=Failure(kind, "blocked plainly", "IMAGE_SAFETY"),
                       finish_reason="IMAGE_SAFETY")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        both = metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_DATABASES
        metafunc.parametrize("backend", ["sqlite", "postgres"] if both else ["sqlite"], scope="function")


@pytest.fixture(scope="session")
def postgres_shared_url(postgres_server: PostgresServer) -> str:
    """One migrated database the store tests share, emptied before each test (much faster than one per test)."""
    url = postgres_server.create_database()
    db = Database.connect(url)
    migrate(db)
    db.close()
    return url


TABLES = "entries, entry_references, entry_drafts"


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The store's database URL: an SQLite file in the data folder, or the shared PostgreSQL database, empty."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'history.sqlite3'}"
    url = request.getfixturevalue("postgres_shared_url")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES}")
    return url


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new, empty (unmigrated) database of the backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh' / 'history.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def open_store(database_url: str) -> Callable[[Path], HistoryStore]:
    """Open another store on the same database as ``store`` (a reopen, a second process), files in ``data_dir``."""
    def opener(data_dir: Path) -> HistoryStore:
        return HistoryStore.open(url=database_url, data_dir=data_dir)

    return opener


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[HistoryStore]:
    s = HistoryStore.open(url=database_url, data_dir=tmp_path / "data")
    yield s
    s.close()


@pytest.fixture
def record(store: HistoryStore) -> Callable[..., object]:
    def add(namespace: str = "local", prompt: str = "a lighthouse at dawn", ok: bool = True, refs: int = 0,
            parent_id: str | None = None, **kw: object):
        request = make_request(prompt, refs, **kw)
        result = ok_result(request) if ok else failed_result()
        return store.record_attempt(namespace, request, result, batch_id="batch", parent_id=parent_id)

    return add
