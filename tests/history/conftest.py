"""Fixtures for the history store: real images, real requests and results, no emulator needed.

The store contract runs on both databases and both kinds of blob store: the ``store`` fixture (and
``database_url``, ``media_url``) is parametrized over ``sqlite`` and ``postgres`` with image files in a folder,
and ``sqlite+s3`` and ``postgres+s3`` with them in a bucket (a team's deployment), in the modules named in
``BOTH_DATABASES``; elsewhere it is SQLite and a folder only. A test may pick its own backends with
``@pytest.mark.parametrize("backend", [...])``. The PostgreSQL server is real (tests/history/postgres.py) and the
S3 server is moto's, one each per session; when PostgreSQL cannot start, those tests fail, unless
STUDIO_SKIP_POSTGRES=1 says to skip them.

Tests look at stored files through ``stored_objects(store)``, which reads whichever medium the store writes to
from outside the store, so the same assertions hold on a folder and on a bucket.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from PIL import Image

from studio.history import HistoryStore
from studio.history.blobs import LocalBlobs
from studio.history.blobs_s3 import S3Blobs
from studio.history.database import Database
from studio.history.schema import migrate
from studio.images import encode_output
from studio.request import GenerationRequest, ReferenceImage
from studio.results import Failure, FailureKind, ImageResult, Usage

from .postgres import PostgresServer

# Modules whose `store` runs on SQLite and on PostgreSQL. test_archive stays SQLite only: its ZIP checks do
# not touch the database, and the import/export round trip and all-or-nothing import run on both in test_store.
BOTH_DATABASES = {"test_store", "test_reference_roles", "test_region_history"}
BACKENDS = ["sqlite", "postgres", "sqlite+s3", "postgres+s3"]  # database, + s3: image files in a bucket
S3_KEY_ID = "AKIATESTSTUDIO"
S3_SECRET = "s3cr3t-Value-that-must-never-show"
S3_PREFIX = "studio/media"
IMAGE_SUFFIXES = (".png", ".jpg", ".bin")


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
    chosen = any("backend" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if "backend" in metafunc.fixturenames and not chosen:
        both = metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_DATABASES
        metafunc.parametrize("backend", BACKENDS if both else ["sqlite"], scope="function")


_admin: dict[str, Any] = {}


def s3_admin(endpoint: str) -> Any:
    """A plain boto3 client to look into a bucket from outside the store (made once: clients are slow to build)."""
    if endpoint not in _admin:
        _admin[endpoint] = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                        aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET)
    return _admin[endpoint]


@pytest.fixture
def media_url(backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Where the store keeps image files: None (the data folder), or a fresh bucket on the session's moto server."""
    monkeypatch.delenv("STUDIO_MEDIA_URL", raising=False)
    if not backend.endswith("+s3"):
        return None
    endpoint = request.getfixturevalue("s3_endpoint")
    for name, value in (("AWS_ENDPOINT_URL", endpoint), ("AWS_ACCESS_KEY_ID", S3_KEY_ID),
                        ("AWS_SECRET_ACCESS_KEY", S3_SECRET), ("AWS_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)  # subprocesses the test starts inherit them too
    bucket = f"history-{uuid.uuid4().hex[:12]}"
    s3_admin(endpoint).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/{S3_PREFIX}"


def stored_objects(store: HistoryStore) -> list[str]:
    """Every object in the store's blob medium, read from outside the store, as its path from the medium's root
    (``ns/<namespace key>/<name>`` for what the store made), sorted.

    A folder: every file below it (the database and salt files at its top level are not blobs). A bucket: every
    key in it (a key outside the store's prefix keeps its whole name), plus any image file on the local data
    folder, which must never hold one when a bucket is configured.
    """
    blobs = store.blobs
    if isinstance(blobs, LocalBlobs):
        root = blobs.root
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.parent != root)
    assert isinstance(blobs, S3Blobs) and blobs.endpoint, "a local folder or the test's S3 server"
    head = f"{blobs.prefix}/" if blobs.prefix else ""
    found = []
    for page in s3_admin(blobs.endpoint).get_paginator("list_objects_v2").paginate(Bucket=blobs.bucket):
        found += [o["Key"].removeprefix(head) if o["Key"].startswith(head) else o["Key"]
                  for o in page.get("Contents", ())]
    if store.data_dir is not None:
        found += [f"local disk: {p}" for p in store.data_dir.rglob("*") if p.is_file() and p.suffix in IMAGE_SUFFIXES]
    return sorted(found)


@pytest.fixture(scope="session")
def postgres_shared_url(postgres_server: PostgresServer) -> str:
    """One migrated database the store tests share, emptied before each test (much faster than one per test)."""
    url = postgres_server.create_database()
    db = Database.connect(url)
    migrate(db)
    db.close()
    return url


TABLES = "entries, entry_references, entry_drafts, spend_ledger"


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The store's database URL: an SQLite file in the data folder, or the shared PostgreSQL database, empty."""
    if backend.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'data' / 'history.sqlite3'}"
    url = request.getfixturevalue("postgres_shared_url")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} CASCADE")  # and tables that reference them (entry_vectors)
    return url


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new, empty (unmigrated) database of the backend."""
    if backend.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'fresh' / 'history.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def open_store(database_url: str, media_url: str | None) -> Callable[[Path], HistoryStore]:
    """Open another store on the same database and media as ``store`` (a reopen, a second process); its data
    folder (files, unless a bucket is configured) is ``data_dir``."""
    def opener(data_dir: Path) -> HistoryStore:
        return HistoryStore.open(url=database_url, data_dir=data_dir, media_url=media_url)

    return opener


@pytest.fixture
def store(database_url: str, media_url: str | None, tmp_path: Path) -> Iterator[HistoryStore]:
    s = HistoryStore.open(url=database_url, data_dir=tmp_path / "data", media_url=media_url)
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
