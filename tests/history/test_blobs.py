"""The blob store contract on a folder, in memory and on an S3-compatible server (moto) on loopback.

Plus the media URL factory, HistoryStore on s3:// with nothing on local disk, the plain messages for a
missing bucket, refused credentials and an unreachable endpoint, and a 4K-sized PUT without a second copy.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.history import HistoryStore, files
from studio.history import store as store_module
from studio.history.blobs import BlobStore, LocalBlobs, MemoryBlobs
from studio.history.blobs_s3 import BlobStoreError, S3Blobs
from studio.history.media import open_blobs, parse_media_url

from .conftest import S3_KEY_ID, S3_PREFIX, S3_SECRET, make_request, ok_result, s3_admin

SECRET = S3_SECRET
KEY_ID = S3_KEY_ID
PREFIX = S3_PREFIX
NAME = "0123456789abcdef0123456789abcdef.png"
OTHER = "fedcba9876543210fedcba9876543210.thumb.jpg"


# ---- servers ------------------------------------------------------------------------
@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("STUDIO_MEDIA_URL", raising=False)
    return s3_endpoint


_s3 = s3_admin  # a plain client to look into the bucket from outside the store


@pytest.fixture
def bucket(s3_env: str) -> str:
    """A fresh bucket per test, so listings and sweeps see only that test's objects."""
    name = f"studio-{uuid.uuid4().hex[:12]}"
    _s3(s3_env).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "memory", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    store: BlobStore
    if request.param == "local":
        store = LocalBlobs(tmp_path / "media")
    elif request.param == "memory":
        store = MemoryBlobs()
    else:
        store = S3Blobs.from_env(request.getfixturevalue("bucket"), PREFIX)
    yield store
    store.close()


class Sink(threading.Thread):
    """A minimal HTTP server on loopback: answers HEAD with a chosen status and drains bodies into one buffer.

    It allocates almost nothing per request, so tracemalloc sees the client's memory, not a server's.
    """

    def __init__(self, head_status: int = 200) -> None:
        super().__init__(daemon=True)
        self.head_status = head_status
        self.received = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def run(self) -> None:
        buffer = memoryview(bytearray(1 << 16))
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                self._serve(conn, buffer)

    def _serve(self, conn: socket.socket, buffer: memoryview) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        header, _, rest = head.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if fields.get("expect", "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        remaining = int(fields.get("content-length", "0")) - len(rest)
        while remaining > 0:
            n = conn.recv_into(buffer[:min(remaining, len(buffer))])
            if not n:
                return
            remaining -= n
        self.received += int(fields.get("content-length", "0"))
        status = self.head_status if lines[0].startswith("HEAD ") else 200
        conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nETag: \"0\"\r\nConnection: close\r\n\r\n"
                     .encode())

    def stop(self) -> None:
        self.listener.close()


@pytest.fixture
def sink() -> Iterator[Callable[..., Sink]]:
    made: list[Sink] = []

    def start(head_status: int = 200) -> Sink:
        server = Sink(head_status)
        server.start()
        made.append(server)
        return server

    yield start
    for server in made:
        server.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the contract, on every blob store ------------------------------------------------
def test_put_get_exists_delete(blobs: BlobStore) -> None:
    data = os.urandom(5000)
    assert blobs.get("alice", NAME) is None and not blobs.exists("alice", NAME)
    blobs.put("alice", NAME, data)
    assert blobs.get("alice", NAME) == data and blobs.exists("alice", NAME)
    blobs.put("alice", NAME, b"replaced")
    assert blobs.get("alice", NAME) == b"replaced"
    blobs.delete("alice", NAME)
    assert blobs.get("alice", NAME) is None and not blobs.exists("alice", NAME)
    blobs.delete("alice", NAME)  # deleting what is gone is not an error


def test_identities_are_kept_apart(blobs: BlobStore) -> None:
    blobs.put("alice", NAME, b"alice's")
    blobs.put("bob", NAME, b"bob's")
    assert blobs.get("alice", NAME) == b"alice's" and blobs.get("bob", NAME) == b"bob's"
    listed = {(info.namespace_key, info.name) for info in blobs.listing()}
    assert listed == {(files.namespace_key("alice"), NAME), (files.namespace_key("bob"), NAME)}
    blobs.delete("bob", NAME)
    assert blobs.get("alice", NAME) == b"alice's"


@pytest.mark.parametrize("name", ["../../etc/passwd", "photo.png", "0123456789abcdef/../x.png", "", "A" * 32 + ".png"])
def test_only_store_made_names_are_accepted(blobs: BlobStore, name: str) -> None:
    with pytest.raises(ValueError, match="did not make"):
        blobs.put("alice", name, b"x")
    try:
        found = blobs.get("alice", name)  # refused, or at least never read from outside the store's folder
    except ValueError:
        found = None
    assert found is None and list(blobs.listing()) == []


def test_listing_says_when_each_blob_was_written(blobs: BlobStore) -> None:
    before = time.time()
    blobs.put("alice", NAME, b"one")
    blobs.put("alice", OTHER, b"two")
    listed = sorted(blobs.listing(), key=lambda info: info.name)
    assert [info.name for info in listed] == [NAME, OTHER]
    for info in listed:
        assert before - 2 <= info.modified_at <= time.time() + 2  # S3 keeps whole seconds


def test_delete_listed_removes_that_blob_only(blobs: BlobStore) -> None:
    blobs.put("alice", NAME, b"one")
    blobs.put("alice", OTHER, b"two")
    target = next(info for info in blobs.listing() if info.name == NAME)
    blobs.delete_listed(target)
    assert blobs.get("alice", NAME) is None and blobs.get("alice", OTHER) == b"two"


def test_sweep_removes_only_unreferenced_blobs_past_the_grace(blobs: BlobStore, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3", None, blobs=blobs)
    request = make_request(refs=1)
    result = ok_result(request)
    entry = store.record_attempt("alice", request, result, batch_id="b")
    orphan = "00000000000000000000000000000000.png"  # a crash between the blob and its row
    blobs.put("alice", orphan, b"orphan")

    assert store.sweep_orphans() == 0  # young: another writer may be about to commit its row
    assert blobs.exists("alice", orphan)

    real_time = time.time
    monkeypatch.setattr(store_module, "time", SimpleNamespace(
        time=lambda: real_time() + store_module.ORPHAN_GRACE_S + 60, monotonic=time.monotonic))
    assert store.sweep_orphans() == 1
    assert not blobs.exists("alice", orphan)
    assert store.read_image("alice", entry.id) == result.image.data  # type: ignore[union-attr]
    assert store.read_thumbnail("alice", entry.id)
    assert [r.data for r in store.read_references("alice", entry.id)] == [request.references[0].data]
    store.close()


# ---- S3 specifics ------------------------------------------------------------------
def test_keys_are_prefix_ns_namespace_key_name(bucket: str, s3_env: str) -> None:
    blobs = S3Blobs.from_env(bucket, "/team/media/")
    blobs.put("alice", NAME, b"x")
    keys = [o["Key"] for o in _s3(s3_env).list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"team/media/ns/{files.namespace_key('alice')}/{NAME}"]
    blobs.close()


def test_listing_pages_through_list_objects_v2(bucket: str) -> None:
    blobs = S3Blobs.from_env(bucket, PREFIX, page_size=2)
    calls: list[str] = []
    blobs._client.meta.events.register("before-call.s3.ListObjectsV2", lambda **kw: calls.append("list"))
    names = [f"{i:032x}.png" for i in range(5)]
    for name in names:
        blobs.put("alice", name, b"x")
    assert sorted(info.name for info in blobs.listing()) == names
    assert len(calls) == 3  # 2 + 2 + 1
    blobs.close()


def test_listing_and_sweep_leave_keys_the_store_did_not_make(bucket: str, s3_env: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    client = _s3(s3_env)
    foreign = [f"{PREFIX}/README.txt", f"{PREFIX}/ns/{files.namespace_key('alice')}/notes.txt",
               f"{PREFIX}/ns/not-a-key/{NAME}", f"other/ns/{files.namespace_key('alice')}/{NAME}"]
    for key in foreign:
        client.put_object(Bucket=bucket, Key=key, Body=b"theirs")
    store = HistoryStore(None, None, blobs=S3Blobs.from_env(bucket, PREFIX))
    assert list(store.blobs.listing()) == []
    real_time = time.time
    monkeypatch.setattr(store_module, "time", SimpleNamespace(time=lambda: real_time() + 10**6,
                                                              monotonic=time.monotonic))
    assert store.sweep_orphans() == 0
    assert sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(foreign)
    store.close()


def test_history_on_s3_keeps_no_image_on_local_disk(bucket: str, s3_env: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = HistoryStore.open(data_dir=data_dir, media_url=f"s3://{bucket}/team")
    assert isinstance(store.blobs, S3Blobs)
    request = make_request("a lighthouse on s3", refs=1)
    result = ok_result(request)
    entry = store.record_attempt("alice", request, result, batch_id="b")
    assert store.read_image("alice", entry.id) == result.image.data  # type: ignore[union-attr]
    assert store.read_thumbnail("alice", entry.id)[:3] == b"\xff\xd8\xff"  # type: ignore[index]
    assert [r.data for r in store.read_references("alice", entry.id)] == [request.references[0].data]
    store.close()

    on_disk = sorted(p.name for p in data_dir.rglob("*") if p.is_file())
    assert on_disk and all(name.startswith("history.sqlite3") for name in on_disk), on_disk
    keys = sorted(o["Key"] for o in _s3(s3_env).list_objects_v2(Bucket=bucket)["Contents"])
    folder = f"team/ns/{files.namespace_key('alice')}/"
    assert keys == sorted(f"{folder}{name}" for name in (entry.image_file, entry.thumb_file,
                                                         f"{request.references[0].sha256}.bin"))

    # another process on the same database and bucket (a second replica) reads the same image
    again = HistoryStore.open(data_dir=data_dir, media_url=f"s3://{bucket}/team")
    assert again.read_image("alice", entry.id) == result.image.data  # type: ignore[union-attr]
    again.close()


def test_history_takes_the_media_url_from_the_environment(bucket: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_MEDIA_URL", f"s3://{bucket}")
    store = HistoryStore.open(data_dir=tmp_path / "data")
    assert isinstance(store.blobs, S3Blobs) and store.blobs.bucket == bucket and store.blobs.prefix == ""
    store.close()


def _assert_plain(exc: BaseException) -> str:
    message = str(exc)
    assert SECRET not in message and SECRET not in repr(exc)
    assert "Traceback" not in message and "botocore" not in message
    # shown alone, with no chained botocore traceback under it
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
    return message


def test_missing_bucket_is_one_plain_message_and_no_local_fallback(s3_env: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with pytest.raises(BlobStoreError) as caught:
        HistoryStore.open(data_dir=data_dir, media_url="s3://no-such-studio-bucket/team")
    message = _assert_plain(caught.value)
    assert "no-such-studio-bucket" in message and "does not exist" in message
    assert not (data_dir / "ns").exists()


def test_a_bucket_gone_mid_batch_fails_writes_plainly_and_keeps_the_record(bucket: str, s3_env: str,
                                                                           tmp_path: Path) -> None:
    store = HistoryStore.open(data_dir=tmp_path / "data", media_url=f"s3://{bucket}")
    request = make_request()
    first = store.record_attempt("alice", request, ok_result(request), batch_id="b")
    client = _s3(s3_env)
    for item in client.list_objects_v2(Bucket=bucket)["Contents"]:
        client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)
    with pytest.raises(BlobStoreError) as caught:
        store.record_attempt("alice", request, ok_result(request, 1), batch_id="b")
    assert "does not exist" in _assert_plain(caught.value)
    with pytest.raises(BlobStoreError):
        store.read_image("alice", first.id)
    # the row written before still stands, and no row names files that were never written
    assert store.get("alice", first.id) is not None
    assert all(e.image_file is None for e in store.list_entries("alice") if e.id != first.id)
    store.close()


def test_refused_credentials_are_one_plain_message(sink: Callable[..., Sink]) -> None:
    server = sink(head_status=403)
    with pytest.raises(BlobStoreError) as caught:
        S3Blobs.from_env("studio-media", environ={"AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": KEY_ID,
                                                  "AWS_SECRET_ACCESS_KEY": SECRET})
    assert "refused the credentials" in _assert_plain(caught.value)


def test_unreachable_endpoint_is_one_plain_message() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(BlobStoreError) as caught:
        S3Blobs.from_env("studio-media", max_attempts=1, environ={
            "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    assert "Could not reach" in _assert_plain(caught.value)


@pytest.mark.parametrize("environ, expected", [
    ({"AWS_ENDPOINT_URL": "http://s3.example.com", "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET},
     "plain http"),
    ({"AWS_ENDPOINT_URL": "https://127.0.0.1:1", "AWS_ACCESS_KEY_ID": KEY_ID}, "both"),
    ({"AWS_ENDPOINT_URL": f"https://user:{SECRET}@s3.example.com"}, "must not carry credentials"),
])
def test_unsafe_settings_are_refused_before_any_connection(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(BlobStoreError, match=expected) as caught:
        S3Blobs.from_env("studio-media", environ=environ)
    _assert_plain(caught.value)


def test_a_4k_original_is_sent_without_a_second_copy(sink: Callable[..., Sink]) -> None:
    server = sink()
    blobs = S3Blobs("studio-media", endpoint_url=server.url, access_key_id=KEY_ID, secret_access_key=SECRET)
    data = os.urandom(24 * 1024 * 1024)  # about a 4K PNG
    tracemalloc.start()
    try:
        blobs.put("alice", NAME, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert server.received >= len(data)
    assert peak < len(data) // 8, f"{peak / 2**20:.1f} MB extra for a {len(data) / 2**20:.0f} MB image"
    blobs.close()


# ---- the media URL ------------------------------------------------------------------
def test_media_url_defaults_to_the_data_folder(tmp_path: Path) -> None:
    for url in (None, "", "  "):
        store = open_blobs(url, tmp_path / "data")
        assert isinstance(store, LocalBlobs) and store.root == tmp_path / "data"
    assert (tmp_path / "data").is_dir()


def test_media_url_takes_folders_and_file_urls(tmp_path: Path) -> None:
    folder = open_blobs(str(tmp_path / "media"), tmp_path / "data")
    assert isinstance(folder, LocalBlobs) and folder.root == tmp_path / "media"
    as_url = open_blobs(f"file://{tmp_path}/media%20two", tmp_path / "data")
    assert isinstance(as_url, LocalBlobs) and as_url.root == tmp_path / "media two"
    as_url.put("alice", NAME, b"x")
    assert (tmp_path / "media two" / "ns" / files.namespace_key("alice") / NAME).read_bytes() == b"x"


def test_s3_and_gs_urls(tmp_path: Path) -> None:
    s3 = parse_media_url("s3://studio-media/team/history/", tmp_path)
    assert (s3.kind, s3.bucket, s3.prefix, s3.endpoint_url) == ("s3", "studio-media", "team/history", None)
    gs = parse_media_url("gs://studio-media", tmp_path)
    assert (gs.kind, gs.bucket, gs.prefix, gs.endpoint_url) == ("gs", "studio-media", "",
                                                                "https://storage.googleapis.com")


def test_gs_goes_through_the_interoperability_endpoint(bucket: str, s3_env: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """gs:// uses GCS's S3 endpoint (here moto standing in for it), whatever AWS_ENDPOINT_URL says."""
    monkeypatch.setattr("studio.history.blobs_s3.GCS_ENDPOINT", s3_env)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    store = open_blobs(f"gs://{bucket}/team", Path("/nonexistent"))
    assert isinstance(store, S3Blobs) and store.endpoint == s3_env
    store.put("alice", NAME, b"via gcs")
    assert store.get("alice", NAME) == b"via gcs"
    store.close()


@pytest.mark.parametrize("url, expected", [
    ("http://example.com/media", "not supported"),
    ("postgresql://db/x", "not supported"),
    ("s3://", "bucket name"),
    ("s3://UPPER/x", "bucket name"),
    ("s3://ab/x", "bucket name"),
    (f"s3://{KEY_ID}:{SECRET}@studio-media/x", "credentials go in"),
    ("s3://studio-media/x?region=eu", "bucket/prefix only"),
    ("s3://studio-media/../x", "prefix"),
    ("s3://studio-media/a b", "prefix"),
    ("file://server/share", "absolute local path"),
])
def test_bad_media_urls_are_plain_value_errors(url: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=expected) as caught:
        open_blobs(url, tmp_path)
    assert SECRET not in str(caught.value)
    assert not any(tmp_path.iterdir())


def test_thumbnails_from_a_bucket_are_read_once_then_from_memory(bucket: str, s3_env: str, tmp_path: Path) -> None:
    store = HistoryStore.open(data_dir=tmp_path / "data", media_url=f"s3://{bucket}/cached")
    request = make_request("a cached thumbnail")
    entry = store.record_attempt("alice", request, ok_result(request), batch_id="b")
    reads: list[str] = []
    original = store.blobs.get

    def counting(namespace: str, name: str) -> bytes | None:
        reads.append(name)
        return original(namespace, name)

    store.blobs.get = counting  # type: ignore[method-assign]
    first = store.read_thumbnail("alice", entry.id)
    assert first and [store.read_thumbnail("alice", entry.id) for _ in range(5)] == [first] * 5
    assert reads == [entry.thumb_file], "one read from the bucket, then memory"
    store.close()


def test_plain_http_to_a_private_host_only_when_the_deployment_says_so() -> None:
    from studio.history.blobs_s3 import check_endpoint

    with pytest.raises(BlobStoreError, match="plain http"):
        check_endpoint("http://minio:9000")
    assert check_endpoint("http://minio:9000", allow_http=True) == "http://minio:9000"
