"""History export and import: round trip, refused whole, zip bombs, streaming, and the page's plain messages."""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from studio import images, png_bands
from studio.history import ArchiveError, HistoryStore, archive
from studio.images import read_recipe
from studio.results import GeneratedImage, Usage

from .conftest import make_request, ok_result, png

FORMAT = "nano-banana-studio-history/1"


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _files_in(store: HistoryStore) -> list[Path]:
    """Every file the store keeps per identity (the database itself lives beside them)."""
    return [p for p in (store.data_dir / "ns").rglob("*") if p.is_file()]


def _assert_nothing_imported(store: HistoryStore, error: pytest.ExceptionInfo[ArchiveError]) -> None:
    assert type(error.value) is ArchiveError, "a plain ArchiveError, never Pillow's or zipfile's own"
    message = str(error.value)
    assert "Traceback" not in message and "PIL" not in message and "Unidentified" not in message
    assert store.count_entries("local") == 0
    assert _files_in(store) == [], "no orphan file is left behind"


@pytest.fixture
def source(store: HistoryStore, record) -> tuple[dict[str, bytes], dict]:
    """Two good entries exported from a real store: its members and its manifest."""
    root = record(prompt="good one", refs=1)
    record(prompt="good two", parent_id=root.id)
    with zipfile.ZipFile(io.BytesIO(store.export_zip("local"))) as z:
        members = {name: z.read(name) for name in z.namelist()}
    return members, json.loads(members.pop("manifest.json"))


@pytest.fixture
def target(tmp_path: Path) -> Iterator[HistoryStore]:
    """An empty store to import into."""
    other = HistoryStore.open(data_dir=tmp_path / "target")
    yield other
    other.close()


def _with_third(members: dict[str, bytes], manifest: dict, change: Callable[[dict, dict[str, bytes]], object]
                ) -> bytes:
    """The two good entries plus a copy of the first, changed by ``change`` to be bad in one way."""
    third = json.loads(json.dumps(manifest["entries"][0]))
    third["id"] = "third"
    members = dict(members)
    change(third, members)
    if third["id"] == SAME_AS_FIRST:
        third["id"] = manifest["entries"][0]["id"]
    entries = [*manifest["entries"], third]
    return _zip({**members, "manifest.json": json.dumps({**manifest, "entries": entries}).encode()})


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "GIF")
    return out.getvalue()


def _damaged_studio_png() -> bytes:
    """A 4K-ish PNG as the studio writes it (banded, with a thumbnail preview that is still intact), with one
    byte flipped inside a band: its thumbnail alone would not notice."""
    out = io.BytesIO()
    Image.effect_noise((2400, 1350), 60).convert("RGB").save(out, "JPEG")
    data = bytearray(images.encode_output(out.getvalue(), "PNG", 90, {"prompt": "x"}).data)
    frame = png_bands.decode(bytes(data))
    assert frame is not None and images.make_thumbnail(bytes(data))
    start = bytes(data).index(bytes(frame.bands[3].data))
    data[start + 100] ^= 0x5A
    return bytes(data)


SAME_AS_FIRST = "<the first entry's id>"


def _image_member(third: dict, members: dict[str, bytes], data: bytes) -> None:
    third["image"] = "images/third.png"
    members["images/third.png"] = data


BAD_THIRDS: dict[str, tuple[Callable[[dict, dict[str, bytes]], object], str]] = {
    "not an image": (lambda t, m: _image_member(t, m, b"hello, I am a text file"), "not an image"),
    "html as image": (lambda t, m: _image_member(t, m, b"<html><body>hi</body></html>"), "not an image"),
    "truncated image": (lambda t, m: _image_member(t, m, png(size=(300, 200))[:400]), "not a readable image"),
    "damaged studio PNG": (lambda t, m: _image_member(t, m, _damaged_studio_png()), "not a readable image"),
    "a GIF": (lambda t, m: _image_member(t, m, _gif()), "PNG and JPEG only"),
    "missing image member": (lambda t, m: t.update(image="images/gone.png"), "not in the ZIP"),
    "missing reference member": (lambda t, m: t.update(references=["references/gone.png"]), "not in the ZIP"),
    "reference not an image": (lambda t, m: (t.update(references=["references/x.png"]),
                                             m.update({"references/x.png": b"%PDF-1.4"})), "not an image"),
    "created_at not a number": (lambda t, m: t.update(created_at="yesterday"), "created_at"),
    "prompt of the wrong type": (lambda t, m: t.update(prompt=["a", "list"]), "prompt"),
    "settings of the wrong type": (lambda t, m: t.update(settings="{not json"), "settings"),
    "draft not an image": (lambda t, m: (t.update(drafts=["drafts/x.png"]),
                                         m.update({"drafts/x.png": b"<svg></svg>"})), "not an image"),
    "missing draft member": (lambda t, m: t.update(drafts=["drafts/gone.png"]), "not in the ZIP"),
    "too many drafts": (lambda t, m: t.update(drafts=["drafts/x.png"] * 10), "drafts"),
    "references not a list": (lambda t, m: t.update(references="references/x.png"), "references"),
    "attempts a bool": (lambda t, m: t.update(attempts=True), "attempts"),
    "missing prompt": (lambda t, m: t.pop("prompt"), "no prompt"),
    "unknown status": (lambda t, m: t.update(status="exploded"), "status"),
    "duplicate id": (lambda t, m: t.update(id=SAME_AS_FIRST), "twice"),
    "created_at not finite": (lambda t, m: t.update(created_at=float("nan")), "out of range"),
    "created_at not a date": (lambda t, m: t.update(created_at=1e15), "not a date"),
    "tokens too large for SQLite": (lambda t, m: t.update(total_tokens=2**70), "out of range"),
    "negative attempts": (lambda t, m: t.update(attempts=-1), "out of range"),
    "its own parent": (lambda t, m: t.update(parent_id="third"), "loop"),
}


@pytest.mark.parametrize("case", list(BAD_THIRDS))
def test_one_bad_entry_among_good_ones_refuses_the_whole_zip(source, target: HistoryStore, case: str) -> None:
    members, manifest = source
    change, message = BAD_THIRDS[case]
    data = _with_third(members, manifest, change)
    with pytest.raises(ArchiveError, match=message) as error:
        target.import_zip("local", data)
    _assert_nothing_imported(target, error)


def test_the_good_export_alone_imports(source, target: HistoryStore) -> None:
    """The control for the test above: without the bad third the same ZIP imports both entries."""
    members, manifest = source
    imported = target.import_zip("local", _zip({**members, "manifest.json": json.dumps(manifest).encode()}))
    assert sorted(e.prompt for e in imported) == ["good one", "good two"]


def test_a_failed_write_removes_every_file_and_row(source, target: HistoryStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """All files go first, then all rows in one transaction: a failure on the last row undoes everything."""
    members, manifest = source
    data = _zip({**members, "manifest.json": json.dumps(manifest).encode()})
    insert = target._insert
    calls = []

    def fail_on_second(row: dict, references: list, **kwargs: bool) -> None:
        calls.append(row["id"])
        if len(calls) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        insert(row, references, **kwargs)

    monkeypatch.setattr(target, "_insert", fail_on_second)
    with pytest.raises(ArchiveError, match="could not be written") as error:
        target.import_zip("local", data)
    assert len(calls) == 2
    _assert_nothing_imported(target, error)


def test_export_then_import_gives_the_same_entries(store, record, tmp_path: Path) -> None:
    root = record(prompt="first version", refs=1)
    record(prompt="second version", parent_id=root.id)
    record(ok=False, prompt="blocked one")
    data = store.export_zip("local")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert len(manifest["entries"]) == 3
        image_names = [n for n in z.namelist() if n.startswith("images/")]
        assert len(image_names) == 2 and read_recipe(z.read(image_names[0])) is not None
    other = HistoryStore.open(data_dir=tmp_path / "other")
    imported = other.import_zip("google:me", data)
    assert sorted(e.prompt for e in imported) == ["blocked one", "first version", "second version"]
    by_prompt = {e.prompt: e for e in imported}
    assert by_prompt["second version"].parent_id == by_prompt["first version"].id
    assert other.read_image("google:me", by_prompt["first version"].id) == store.read_image("local", root.id)
    assert (other.read_thumbnail("google:me", by_prompt["first version"].id) or b"")[:2] == b"\xff\xd8"
    assert len(other.read_references("google:me", by_prompt["first version"].id)) == 1
    other.close()


def test_unfinished_entries_travel_and_arrive_finished(store, record, tmp_path: Path) -> None:
    """Cancelled and running entries export too; a running one arrives interrupted, since nothing will end it."""
    record(prompt="done")
    request = make_request("stopped")
    cancelled = store.start_entry("local", request, 0, batch_id="b")
    store.end_entry("local", cancelled.id, "cancelled", "cancelled", "You cancelled it.")
    store.start_entry("local", make_request("in flight"), 0, batch_id="b")
    other = HistoryStore.open(data_dir=tmp_path / "other")
    imported = other.import_zip("local", store.export_zip("local"))
    assert {e.prompt: e.status for e in imported} == {"done": "ok", "stopped": "cancelled",
                                                       "in flight": "interrupted"}
    other.close()


def test_thoughts_and_drafts_travel_with_their_entry(store, tmp_path: Path) -> None:
    request = make_request("with thoughts")
    drafts = tuple(GeneratedImage(data=png(colour, (40, 30)), mime_type="image/png", width=40, height=30)
                   for colour in ("red", "blue"))
    result = replace(ok_result(request), drafts=drafts, thought_text="first a sketch, then colour",
                     usage=Usage(10, 1120, 250, 1380))
    store.record_attempt("local", request, result, batch_id="b")
    other = HistoryStore.open(data_dir=tmp_path / "other")
    (imported,) = other.import_zip("local", store.export_zip("local"))
    assert imported.thought_text == "first a sketch, then colour" and imported.thoughts_tokens == 250
    assert [d.data for d in other.read_drafts("local", imported.id)] == [d.data for d in drafts]
    other.close()


def test_export_streams_into_a_file_and_import_reads_a_file(store, record, tmp_path: Path) -> None:
    """``export_zip_to`` writes into any binary file; ``import_zip`` takes an open file (an upload) too."""
    record(prompt="to a file", refs=2)
    path = tmp_path / "history.zip"
    with path.open("wb") as fh:
        store.export_zip_to(fh, "local")
    assert path.read_bytes()[:4] == b"PK\x03\x04"
    other = HistoryStore.open(data_dir=tmp_path / "other")
    with path.open("rb") as fh:
        imported = other.import_zip("local", fh)
    assert [e.prompt for e in imported] == ["to a file"]
    assert len(other.read_references("local", imported[0].id)) == 2
    other.close()


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04 this is not really a zip", "not a ZIP archive"),
    (b"", "not a ZIP archive"),
    (_zip({"../evil.png": b"x", "manifest.json": b"{}"}), "unsafe paths"),
    (_zip({"/etc/passwd": b"x"}), "unsafe paths"),
    (_zip({"readme.txt": b"hi"}), "no manifest.json"),
    (_zip({"manifest.json": b"{not json"}), "not a studio history manifest"),
    (_zip({"manifest.json": b"[1, 2]"}), "not a studio history manifest"),
    (_zip({"manifest.json": json.dumps({"format": FORMAT, "entries": {"not": "a list"}}).encode()}),
     "not a studio history manifest"),
    (_zip({"manifest.json": json.dumps({"format": FORMAT, "entries": ["not an entry"]}).encode()}),
     "Entry 1 in manifest.json is not an entry"),
], ids=["not a zip", "empty file", "parent path", "absolute path", "no manifest", "manifest not json",
        "manifest a list", "entries not a list", "entry not a dict"])
def test_bad_zips_are_refused_whole(store, data: bytes, message: str) -> None:
    with pytest.raises(ArchiveError, match=message) as error:
        store.import_zip("local", data)
    _assert_nothing_imported(store, error)


# ---- zip bombs ------------------------------------------------------------------------------------------------
def _bomb(expanded_mib: int) -> bytes:
    """A ZIP of ``expanded_mib`` MiB of zeros that takes a few tens of KB: built a chunk at a time."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("images/bomb.png", "w") as member:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(expanded_mib):
                member.write(chunk)
        z.writestr("manifest.json", json.dumps({"format": FORMAT, "entries": []}))
    return out.getvalue()


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of every member opened for reading, so a test can prove a bomb was never expanded."""
    names: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: str | zipfile.ZipInfo, mode: Any = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "r":
            names.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return real_open(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return names


def test_a_high_ratio_member_is_refused_without_expanding_it(store, opened: list[str]) -> None:
    data = _bomb(64)
    assert len(data) < 200_000, "small on disk"
    with pytest.raises(ArchiveError, match="ZIP bomb") as error:
        store.import_zip("local", data)
    _assert_nothing_imported(store, error)
    assert opened == [], "refused on the ZIP's directory alone"


def test_many_small_members_are_refused_by_the_overall_ratio(store, opened: list[str]) -> None:
    members = {f"images/{i}.png": b"\x00" * (512 * 1024) for i in range(8)}  # each under the per-member floor
    data = _zip({**members, "manifest.json": json.dumps({"format": FORMAT, "entries": []}).encode()},
                zipfile.ZIP_DEFLATED)
    with pytest.raises(ArchiveError, match="ZIP bomb") as error:
        store.import_zip("local", data)
    _assert_nothing_imported(store, error)
    assert opened == []


def test_the_total_expanded_size_is_capped(source, target: HistoryStore, opened: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    members, manifest = source
    data = _zip({**members, "manifest.json": json.dumps(manifest).encode()})
    total = sum(len(v) for v in members.values())
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", total)  # the manifest tips it over
    with pytest.raises(ArchiveError, match="would expand to") as error:
        target.import_zip("local", data)
    _assert_nothing_imported(target, error)
    assert opened == []


def test_too_many_members_are_refused(store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 2)
    data = _zip({"a.png": b"a", "b.png": b"b", "manifest.json": b"{}"})
    with pytest.raises(ArchiveError, match="holds 3 files") as error:
        store.import_zip("local", data)
    _assert_nothing_imported(store, error)


def test_a_member_that_lies_about_its_size_is_read_no_further(source, target: HistoryStore) -> None:
    """The central directory claims 100 bytes for a larger image: reading stops there and the ZIP is refused."""
    members, manifest = source
    data = bytearray(_zip({**members, "manifest.json": json.dumps(manifest).encode()}, zipfile.ZIP_DEFLATED))
    name = manifest["entries"][0]["image"].encode()
    at = data.index(b"PK\x01\x02")  # central directory entries: the name starts 46 bytes in
    while data[at + 46:at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    struct.pack_into("<I", data, at + 24, 100)  # uncompressed size in the central directory entry
    with pytest.raises(ArchiveError, match=r"damaged|readable") as error:
        target.import_zip("local", bytes(data))
    _assert_nothing_imported(target, error)


def test_members_stream_through_one_spooled_file(source, target: HistoryStore,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With a tiny in-memory budget the staging file moves to disk, and the import still works."""
    members, manifest = source
    spools: list[tempfile.SpooledTemporaryFile] = []

    class Spy(tempfile.SpooledTemporaryFile):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            spools.append(self)

    monkeypatch.setattr(archive.tempfile, "SpooledTemporaryFile", Spy)
    monkeypatch.setattr(archive, "SPOOL_MEMORY_BYTES", 1024)
    monkeypatch.setattr(archive, "CHUNK_BYTES", 4096)
    imported = target.import_zip("local", _zip({**members, "manifest.json": json.dumps(manifest).encode()}))
    assert sorted(e.prompt for e in imported) == ["good one", "good two"]
    assert len(spools) == 1 and getattr(spools[0], "_rolled", False) and spools[0].closed, "one staging file, on disk, closed"


# ---- the page -------------------------------------------------------------------------------------------------
def _import_panel(data_dir: str) -> None:
    from pathlib import Path

    from components.history_views import render_export_import
    from studio.history import HistoryStore

    render_export_import(HistoryStore.open(data_dir=Path(data_dir)), "local", [])


@pytest.mark.parametrize(("upload", "message"), [
    (_zip({"manifest.json": json.dumps({"format": FORMAT, "entries": [
        {"id": "a", "created_at": 1.0, "prompt": "p", "model_id": "m", "aspect_ratio": "1:1", "image_size": "1K",
         "output_format": "PNG", "status": "ok", "image": "images/a.png"}]}).encode(),
        "images/a.png": b"not a picture at all"}), "not an image"),
    (b"not a zip", "not a ZIP archive"),
], ids=["member not an image", "not a zip"])
def test_the_page_shows_a_plain_message_and_keeps_the_file(tmp_path: Path, upload: bytes, message: str) -> None:
    at = AppTest.from_function(_import_panel, args=(str(tmp_path / "data"),), default_timeout=30).run()
    at.file_uploader(key="import_zip").upload("history.zip", upload, "application/zip").run()
    at.button(key="import_go").click().run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value.replace("\\", "")
    assert at.file_uploader(key="import_zip").value is not None, "the file stays selected for another try"
    at.button(key="import_go").click().run()
    assert not at.exception and len(at.error) == 1, "a retry answers the same plain way"


def test_the_page_turns_an_unexpected_failure_into_a_plain_message(tmp_path: Path) -> None:
    def panel(data_dir: str) -> None:
        from pathlib import Path

        from components.history_views import render_export_import
        from studio.history import HistoryStore

        store = HistoryStore.open(data_dir=Path(data_dir))

        def broken(namespace: str, data: object) -> list:
            raise RuntimeError("something deep broke")

        store.import_zip = broken  # type: ignore[method-assign]
        render_export_import(store, "local", [])

    at = AppTest.from_function(panel, args=(str(tmp_path / "data"),), default_timeout=30).run()
    at.file_uploader(key="import_zip").upload("history.zip", b"PK", "application/zip").run()
    at.button(key="import_go").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "nothing was imported" in at.error[0].value.replace("\\", "")
    assert "something deep broke" not in at.error[0].value


# ---- how many entries (issue 20, item 17) --------------------------------------------------------------------
def _tiny_entries(count: int) -> bytes:
    """A ZIP whose manifest lists ``count`` minimal entries without images (100,000 take 0.3 MB compressed)."""
    record = {"created_at": 1.7e9, "prompt": "p", "model_id": "gemini-3-pro-image", "aspect_ratio": "1:1",
              "image_size": "1K", "output_format": "png", "status": "failed"}
    entries = [{"id": f"e{i}", **record} for i in range(count)]
    return _zip({"manifest.json": json.dumps({"format": FORMAT, "entries": entries}).encode()},
                zipfile.ZIP_DEFLATED)


def test_an_import_at_the_entry_cap_goes_in_and_one_more_is_refused(store, monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_ENTRIES", 40)
    assert len(store.import_zip("local", _tiny_entries(40))) == 40, "at the cap"
    other = HistoryStore.open(data_dir=store.data_dir.parent / "other")
    try:
        with pytest.raises(ArchiveError, match="more than 40 entries") as error:
            other.import_zip("local", _tiny_entries(41))
        _assert_nothing_imported(other, error)
    finally:
        other.close()


def test_a_manifest_of_100000_tiny_entries_is_refused_while_it_is_read(store, monkeypatch) -> None:
    """The reported ZIP: 0.29 MB, 100,000 entries, 11.4 s and +450 MB to import. The manifest is read one entry
    at a time and refused at the first past the cap, before the rest is built and before anything is written."""
    data = _tiny_entries(100_000)
    assert len(data) < 400_000
    checked: list[int] = []
    real_check = archive._check_record
    monkeypatch.setattr(archive, "_check_record", lambda i, r: checked.append(i) or real_check(i, r))
    with pytest.raises(ArchiveError, match=f"more than {archive.MAX_ENTRIES:,} entries") as error:
        store.import_zip("local", data)
    _assert_nothing_imported(store, error)
    assert "Export fewer entries" in str(error.value)
    assert len(checked) == archive.MAX_ENTRIES, "entries past the cap are never parsed"


def test_a_manifest_over_its_size_cap_is_refused_unread(source, target: HistoryStore, opened: list[str],
                                                        monkeypatch) -> None:
    members, manifest = source
    text = json.dumps(manifest).encode()
    monkeypatch.setattr(archive, "MAX_MANIFEST_BYTES", len(text) - 1)
    with pytest.raises(ArchiveError, match=r"manifest.json in this ZIP is .* MB") as error:
        target.import_zip("local", _zip({**members, "manifest.json": text}))
    _assert_nothing_imported(target, error)
    assert opened == [], "refused on the declared size"
    monkeypatch.setattr(archive, "MAX_MANIFEST_BYTES", len(text))
    assert len(target.import_zip("local", _zip({**members, "manifest.json": text}))) == 2, "at the cap"


HEAD = '{"format": "' + FORMAT + '"'


@pytest.mark.parametrize("text", [
    HEAD + ', "entries": [], "entries": []}',
    HEAD + ', "entries": []} trailing',
    HEAD + ' "entries": []}',
    '{"entries": []}',
    HEAD + ', "entries": [{"id": "x"},]}',
    HEAD + ', "deep": ' + "[" * 100_000,
])
def test_the_streaming_reader_refuses_what_is_not_a_manifest(store, text: str) -> None:
    with pytest.raises(ArchiveError, match=r"not a studio history manifest|Entry 1") as error:
        store.import_zip("local", _zip({"manifest.json": text.encode()}))
    _assert_nothing_imported(store, error)
