"""Export history as a ZIP of images (recipe inside) plus manifest.json, and import it back safely.

Import never extracts by name, and it is refused whole: every size, name, manifest field and image is
checked first (members stream through one spooled temp file, so a big or hostile ZIP never sits in
memory whole), and only then does the store write all the files and all the rows in one transaction.
Export streams the same way: the ZIP is written to a file object, and bytes exist only at the edge.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import sqlite3
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol

import numpy as np

from studio import images, roles, turns
from studio.history import files
from studio.history.entry import Entry, StoredDraft
from studio.history.vectors import VectorBook
from studio.history.vectors import decode as decode_vector
from studio.history.vectors import encode as encode_vector
from studio.request import ReferenceImage

MANIFEST = "manifest.json"
MAX_VECTOR_DIMS = 4096  # an embedding longer than any Gemini model makes is refused
FORMAT = "nano-banana-studio-history/1"
# Limits an import checks on the ZIP's own directory before expanding anything (tests lower them).
MAX_MEMBERS = 20_000
MAX_ENTRIES = 10_000  # entries per import: a bigger History is exported and imported in parts
MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # manifest.json, uncompressed (a studio export's takes ~2 kB per entry)
MAX_MEMBER_BYTES = 200 * 1024 * 1024  # one member, uncompressed (images are also held to images.MAX_UPLOAD_BYTES)
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # all members together, uncompressed
MAX_RATIO = 100  # uncompressed / compressed; studio exports are stored PNG/JPEG, close to 1
RATIO_FLOOR_BYTES = 1024 * 1024  # a member smaller than this may compress as well as it likes
SPOOL_MEMORY_BYTES = 16 * 1024 * 1024  # the staging file stays in memory up to this, then moves to disk
CHUNK_BYTES = 1024 * 1024
MAX_DRAFTS = 9  # what the store keeps per entry
STATUSES = ("ok", "blocked", "failed", "cancelled", "interrupted", "running")
IMPORTED_STATUS = {"running": "interrupted"}  # nothing here will ever finish an imported running entry
IMAGE_MIME = {"PNG": "image/png", "JPEG": "image/jpeg"}


class HistoryStore(Protocol):
    """What export and import need of the store (``studio.history.store.HistoryStore``, which calls them)."""

    def count_entries(self, namespace: str) -> int: ...
    def list_entries(self, namespace: str, *, sort: str = ..., limit: int = ...) -> list[Entry]: ...
    def get_many(self, namespace: str, entry_ids: list[str]) -> list[Entry]: ...
    def read_image(self, namespace: str, entry_id: str) -> bytes | None: ...
    def read_references(self, namespace: str, entry_id: str) -> list[ReferenceImage]: ...
    def read_drafts(self, namespace: str, entry_id: str) -> list[StoredDraft]: ...
    def read_turn(self, namespace: str, entry_id: str) -> bytes | None: ...
    def read_mask(self, namespace: str, entry_id: str) -> bytes | None: ...
    def read_raw(self, namespace: str, entry_id: str) -> bytes | None: ...
    def import_rows(self, namespace: str, rows: list[tuple[dict, list, list[tuple]]],
                    blobs: Iterable[tuple[str, Callable[[], bytes]]]) -> None: ...
    @property
    def vectors(self) -> VectorBook: ...


class ArchiveError(ValueError):
    """A ZIP the studio refuses to import; the message says why in plain words."""


@dataclass(frozen=True)
class ImportedReference:
    """What a reference row needs (its bytes stay in the staging file until they are written)."""

    name: str
    mime_type: str
    sha256: str
    role: str = roles.DEFAULT_ROLE


# ---- export ---------------------------------------------------------------------------------------------------
def _entry_record(entry: Entry, image_name: str | None, reference_names: list[str], draft_names: list[str],
                  reference_roles: list[str], turn_name: str | None = None,
                  region_names: tuple[str | None, str | None] = (None, None)) -> dict:
    return {
        "id": entry.id, "batch_id": entry.batch_id, "parent_id": entry.parent_id, "created_at": entry.created_at,
        "prompt": entry.prompt, "model_id": entry.model_id, "aspect_ratio": entry.aspect_ratio,
        "image_size": entry.image_size, "output_format": entry.output_format, "settings": entry.settings,
        "status": entry.status, "failure_kind": entry.failure_kind, "failure_message": entry.failure_message,
        "failure_detail": entry.failure_detail, "finish_reason": entry.finish_reason,
        "block_reason": entry.block_reason, "latency_s": entry.latency_s, "attempts": entry.attempts,
        "prompt_tokens": entry.prompt_tokens, "output_tokens": entry.output_tokens,
        "total_tokens": entry.total_tokens, "cost_usd": entry.cost_usd,
        "estimated_cost_usd": entry.estimated_cost_usd, "model_version": entry.model_version,
        "response_id": entry.response_id, "text": entry.text, "request_json": entry.request_json,
        "response_json": entry.response_json, "width": entry.width, "height": entry.height,
        "mime_type": entry.mime_type, "favorite": entry.favorite, "image": image_name,
        "references": reference_names, "reference_roles": reference_roles, "thought_text": entry.thought_text,
        "thoughts_tokens": entry.thoughts_tokens, "drafts": draft_names,
        # edit threads: the model's raw turn (what an edit sends back) and the turn this one continues
        "turn": turn_name, "thread_parent_id": entry.thread_parent_id, "thread_root_id": entry.thread_root_id,
        # region edits: the mask (white = may change) and the model's whole answer beside the composite
        "mask": region_names[0], "raw": region_names[1], "region_note": entry.region_note,
    }


def export_zip_to(store: HistoryStore, namespace: str, fileobj: IO[bytes], entry_ids: list[str] | None = None) -> None:
    """Write the chosen entries (or all) as a ZIP into ``fileobj``: one image in memory at a time."""
    if entry_ids is None:
        total = store.count_entries(namespace)
        entries = store.list_entries(namespace, limit=max(total, 1), sort="oldest")
    else:
        entries = store.get_many(namespace, entry_ids)
    records = []
    written: set[str] = set()
    vectors = store.vectors.get_many(namespace, [e.id for e in entries])
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED) as archive:
        for entry in entries:
            image_name = None
            data = store.read_image(namespace, entry.id)
            if data is not None:
                image_name = f"images/{entry.created.strftime('%Y%m%d-%H%M%S')}-{entry.id[:8]}.{entry.extension}"
                archive.writestr(image_name, data)
            ref_names, ref_roles = [], []
            for ref in store.read_references(namespace, entry.id):
                ref_roles.append(ref.role)
                name = f"references/{ref.sha256}.{'png' if ref.mime_type == 'image/png' else 'jpg'}"
                if name not in written:
                    archive.writestr(name, ref.data)
                    written.add(name)
                ref_names.append(name)
            draft_names = []
            for position, draft in enumerate(store.read_drafts(namespace, entry.id)):
                draft_names.append(f"drafts/{entry.id}-{position}.{files.extension(draft.mime_type)}")
                archive.writestr(draft_names[-1], draft.data)
            turn, turn_name = store.read_turn(namespace, entry.id), None
            if turn is not None:
                turn_name = f"turns/{entry.id}.json"
                archive.writestr(turn_name, turn)
            region_names = _write_region(store, namespace, entry, archive)
            records.append(_entry_record(entry, image_name, ref_names, draft_names, ref_roles, turn_name,
                                         region_names))
            if entry.id in vectors:  # search by meaning: the vector travels with its entry (float32 bytes)
                model_id, vector = vectors[entry.id]
                records[-1].update(vector=f"vectors/{entry.id}.f32", vector_model=model_id, vector_dims=len(vector))
                archive.writestr(records[-1]["vector"], encode_vector(vector))
        manifest = {"format": FORMAT, "exported_at": time.time(), "entries": records}
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))


def _write_region(store: HistoryStore, namespace: str, entry: Entry,
                  archive: zipfile.ZipFile) -> tuple[str | None, str | None]:
    """A region edit's mask and raw answer into the ZIP (their names), so an import keeps both."""
    names: list[str | None] = []
    for folder, data in (("masks", store.read_mask(namespace, entry.id)), ("raw", store.read_raw(namespace, entry.id))):
        if data is None:
            names.append(None)
            continue
        name = f"{folder}/{entry.id}.{files.extension(images.MIME.get(images.detect_format(data) or '', ''))}"
        archive.writestr(name, data)
        names.append(name)
    return names[0], names[1]


def export_zip(store: HistoryStore, namespace: str, entry_ids: list[str] | None = None) -> bytes:
    """The ZIP as bytes, for callers that need bytes (a download button); built in a spooled temp file."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
        export_zip_to(store, namespace, spool, entry_ids)
        spool.seek(0)
        return spool.read()


# ---- import: the ZIP's directory ------------------------------------------------------------------------------
def _safe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return not (name.startswith(("/", "\\")) or ".." in parts or ":" in name or not name)


def _shown(name: object) -> str:
    """A member name as messages show it: short, and only characters that cannot format a page."""
    text = "".join(c if c.isalnum() or c in "._-/ " else "?" for c in str(name))
    return text if len(text) <= 80 else text[:77] + "..."


def _open_archive(source: bytes | IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveError("This file is not a ZIP archive, or it is damaged.") from exc


def _check_directory(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Refuse on the declared sizes alone, before a single byte is expanded."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > MAX_MEMBERS:
        raise ArchiveError(f"This ZIP holds {len(infos):,} files; a studio export holds at most {MAX_MEMBERS:,}.")
    unsafe = [i.filename for i in infos if not _safe_member(i.filename)]
    if unsafe:
        raise ArchiveError(f"This ZIP contains unsafe paths (like '{_shown(unsafe[0])}'); nothing was imported.")
    total = compressed = 0
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveError(f"{_shown(info.filename)} in the ZIP is too large to import; nothing was imported.")
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveError(
                f"{_shown(info.filename)} in the ZIP expands more than {MAX_RATIO} times, the signature of a "
                "ZIP bomb, not of a studio export; nothing was imported.")
        total += info.file_size
        compressed += info.compress_size
    if total > MAX_TOTAL_BYTES:
        raise ArchiveError(
            f"This ZIP would expand to {total / 1e6:,.0f} MB; the studio imports at most "
            f"{MAX_TOTAL_BYTES / 1e6:,.0f} MB at once. Export fewer entries; nothing was imported.")
    if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * max(compressed, 1):
        raise ArchiveError(f"This ZIP expands more than {MAX_RATIO} times, the signature of a ZIP bomb, not of a "
                           "studio export; nothing was imported.")
    return {i.filename: i for i in infos}


class _Staging:
    """Every member the import reads, one after another in one spooled temp file: memory stays bounded."""

    def __init__(self, archive: zipfile.ZipFile, spool: IO[bytes]) -> None:
        self.archive = archive
        self.spool = spool
        self.expanded = 0

    def copy(self, info: zipfile.ZipInfo) -> tuple[int, int]:
        """Stream one member in, counting real bytes, since the sizes a ZIP declares can lie."""
        self.spool.seek(0, io.SEEK_END)
        start = self.spool.tell()
        try:
            with self.archive.open(info) as member:
                while chunk := member.read(CHUNK_BYTES):
                    self.expanded += len(chunk)
                    if self.spool.tell() - start + len(chunk) > info.file_size or self.expanded > MAX_TOTAL_BYTES:
                        raise ArchiveError(f"{_shown(info.filename)} in the ZIP expands beyond its declared size; "
                                           "nothing was imported.")
                    self.spool.write(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile, NotImplementedError,
                RuntimeError, ValueError) as exc:
            if isinstance(exc, ArchiveError):
                raise
            raise ArchiveError(f"{_shown(info.filename)} in the ZIP is damaged; nothing was imported.") from exc
        return start, self.spool.tell() - start

    def add(self, data: bytes) -> tuple[int, int]:
        self.spool.seek(0, io.SEEK_END)
        start = self.spool.tell()
        self.spool.write(data)
        return start, len(data)

    def read(self, span: tuple[int, int]) -> bytes:
        self.spool.seek(span[0])
        return self.spool.read(span[1])

    def reader(self, span: tuple[int, int]) -> Callable[[], bytes]:
        return lambda: self.read(span)


# ---- import: the manifest -------------------------------------------------------------------------------------
_STR, _NUM, _INT, _DICT = (str,), (int, float), (int,), (dict,)
_LARGEST = 2**63  # SQLite's integers; no count, time or price in a real export comes near
# field -> (accepted types, required); None is accepted for every optional field
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": (_STR, True), "batch_id": (_STR, False), "parent_id": (_STR, False), "created_at": (_NUM, True),
    "prompt": (_STR, True), "model_id": (_STR, True), "aspect_ratio": (_STR, True), "image_size": (_STR, True),
    "output_format": (_STR, True), "settings": (_DICT, False), "status": (_STR, True),
    "failure_kind": (_STR, False), "failure_message": (_STR, False), "failure_detail": (_STR, False),
    "finish_reason": (_STR, False), "block_reason": (_STR, False), "latency_s": (_NUM, False),
    "attempts": (_INT, False), "prompt_tokens": (_INT, False), "output_tokens": (_INT, False),
    "total_tokens": (_INT, False), "cost_usd": (_NUM, False), "estimated_cost_usd": (_NUM, False),
    "model_version": (_STR, False),
    "response_id": (_STR, False), "text": (_STR, False), "request_json": (_DICT, False),
    "response_json": (_DICT, False), "favorite": ((bool, int), False), "image": (_STR, False),
    "references": ((list,), False), "thought_text": (_STR, False), "thoughts_tokens": (_INT, False),
    "drafts": ((list,), False), "reference_roles": ((list,), False), "turn": (_STR, False),
    "thread_parent_id": (_STR, False), "thread_root_id": (_STR, False),
    "mask": (_STR, False), "raw": (_STR, False), "region_note": (_STR, False),
}


def _check_record(position: int, record: object) -> dict[str, Any]:
    where = f"Entry {position + 1} in manifest.json"
    if not isinstance(record, dict):
        raise ArchiveError(f"{where} is not an entry; nothing was imported.")
    for name, (types, required) in _FIELDS.items():
        value = record.get(name)
        if value is None:
            if required:
                raise ArchiveError(f"{where} has no {name}; nothing was imported.")
            continue
        bad_bool = isinstance(value, bool) and bool not in types
        if bad_bool or not isinstance(value, types):
            raise ArchiveError(f"{where} has a {name} of the wrong kind ({type(value).__name__}); "
                               "nothing was imported.")
        if isinstance(value, int | float) and not (math.isfinite(value) and 0 <= value < _LARGEST):
            raise ArchiveError(f"{where} has a {name} out of range; nothing was imported.")
    try:
        datetime.fromtimestamp(record["created_at"])
    except (ValueError, OverflowError, OSError) as exc:
        raise ArchiveError(f"{where} has a created_at that is not a date; nothing was imported.") from exc
    if record["status"] not in STATUSES:
        raise ArchiveError(f"{where} has an unknown status; nothing was imported.")
    if not all(isinstance(name, str) for name in record.get("references") or []):
        raise ArchiveError(f"{where} lists a reference that is not a file name; nothing was imported.")
    drafts = record.get("drafts") or []
    if len(drafts) > MAX_DRAFTS or not all(isinstance(name, str) for name in drafts):
        raise ArchiveError(f"{where} lists drafts that are not {MAX_DRAFTS} file names or fewer; "
                           "nothing was imported.")
    return record


_NOT_A_MANIFEST = "The manifest.json in this ZIP is not a studio history manifest."
_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


class _Cursor:
    """A position in the manifest's text for the streaming reader: one JSON value at a time."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def skip(self) -> str:
        """Skip white space; the next character ("" at the end)."""
        while self.at < len(self.text) and self.text[self.at] in _SPACE:
            self.at += 1
        return self.text[self.at:self.at + 1]

    def expect(self, char: str) -> None:
        if self.skip() != char:
            raise ValueError(f"expected {char!r}")
        self.at += 1

    def value(self) -> object:
        self.skip()
        found, self.at = _DECODER.raw_decode(self.text, self.at)
        return found


def _stream_manifest(text: str) -> list[dict[str, Any]]:
    """The manifest's entries, each checked as soon as it is parsed; refused at the first entry past
    MAX_ENTRIES, so a manifest of 100,000 tiny entries is never built whole. ValueError: not a manifest."""
    cursor = _Cursor(text)
    records: list[dict[str, Any]] = []
    fields: dict[str, object] = {}
    cursor.expect("{")
    while cursor.skip() != "}":
        if fields:
            cursor.expect(",")
        key = cursor.value()
        cursor.expect(":")
        if not isinstance(key, str) or key in fields:
            raise ValueError("a key that is not a name, or twice")
        if key == "entries":
            fields[key] = records
            cursor.expect("[")
            while cursor.skip() != "]":
                if records:
                    cursor.expect(",")
                if len(records) == MAX_ENTRIES:
                    raise ArchiveError(
                        f"This ZIP holds more than {MAX_ENTRIES:,} entries; the studio imports at most "
                        f"{MAX_ENTRIES:,} at once. Export fewer entries at a time; nothing was imported.")
                records.append(_check_record(len(records), cursor.value()))
            cursor.expect("]")
        else:
            fields[key] = cursor.value()
    cursor.expect("}")
    if cursor.skip() or fields.get("format") != FORMAT or "entries" not in fields:
        raise ValueError("not a studio manifest")
    return records


def _read_manifest(staging: _Staging, members: dict[str, zipfile.ZipInfo]) -> list[dict[str, Any]]:
    if MANIFEST not in members:
        raise ArchiveError("This ZIP has no manifest.json: it is not a Nano Banana Pro studio export.")
    info = members[MANIFEST]
    if info.file_size > MAX_MANIFEST_BYTES:  # declared; the copy below stops at the declared size
        raise ArchiveError(f"The manifest.json in this ZIP is {info.file_size / 1e6:,.0f} MB; a studio export's "
                           f"stays under {MAX_MANIFEST_BYTES / 1e6:,.0f} MB. Export fewer entries at a time; "
                           "nothing was imported.")
    raw = staging.read(staging.copy(info))
    try:
        checked = _stream_manifest(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        if isinstance(exc, ArchiveError):
            raise
        raise ArchiveError(_NOT_A_MANIFEST) from exc
    ids = [r["id"] for r in checked]
    if len(set(ids)) != len(ids):
        raise ArchiveError("manifest.json lists the same entry twice; nothing was imported.")
    _refuse_version_loops(checked)
    return checked


def _refuse_version_loops(records: list[dict[str, Any]]) -> None:
    """Prompt versions form trees; a loop (A's parent is B, B's is A) is no export the studio made."""
    parent = {r["id"]: r.get("parent_id") for r in records}
    settled: set[str] = set()
    for start in parent:
        path: set[str] = set()
        node: str | None = start
        while node is not None and node in parent and node not in settled:
            if node in path:
                raise ArchiveError("manifest.json has prompt versions that loop back on themselves; "
                                   "nothing was imported.")
            path.add(node)
            node = parent[node]
        settled |= path


# ---- import: the images ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Picture:
    span: tuple[int, int]
    mime_type: str
    width: int
    height: int
    sha256: str
    thumb: tuple[int, int] | None  # entry images only


def _check_picture(staging: _Staging, info: zipfile.ZipInfo, with_thumbnail: bool) -> _Picture:
    """Decode the member with the studio's safe loaders: a PNG or JPEG, not a bomb, not truncated."""
    span = staging.copy(info)
    data = staging.read(span)
    shown = _shown(info.filename)
    try:
        picture = images.inspect(data, f"{shown} in the ZIP")  # the header: format, size, pixel bomb
    except images.ImageInputError as exc:
        raise ArchiveError(f"{exc} Nothing was imported.") from exc
    mime = IMAGE_MIME.get(images.detect_format(data) or "")
    if mime is None:
        raise ArchiveError(f"{shown} in the ZIP is a {picture.format} image; a studio export holds PNG and JPEG "
                           "only. Nothing was imported.")
    try:
        images.check_pixels(data)  # decodes every pixel, so a truncated or damaged file fails here
        thumbnail = images.make_thumbnail(data)
    except Exception as exc:  # Pillow has many ways to say "damaged"; the person gets one
        raise ArchiveError(f"{shown} in the ZIP is not a readable image; nothing was imported.") from exc
    return _Picture(span=span, mime_type=mime, width=picture.width, height=picture.height,
                    sha256=hashlib.sha256(data).hexdigest(),
                    thumb=staging.add(thumbnail) if with_thumbnail else None)


def _member(members: dict[str, zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    if name not in members:
        raise ArchiveError(f"The manifest names {_shown(name)}, which is not in the ZIP; nothing was imported.")
    return members[name]


def _plan(records: list[dict[str, Any]], members: dict[str, zipfile.ZipInfo], staging: _Staging, namespace: str
          ) -> tuple[list[tuple[dict, list[ImportedReference], list[tuple]]], dict[str, Callable[[], bytes]]]:
    """Every row and every file the import will write, all checked; nothing written yet."""
    new_ids = {r["id"]: uuid.uuid4().hex for r in records}
    pictures: dict[tuple[str, bool], _Picture] = {}

    def picture(name: str, with_thumbnail: bool) -> _Picture:
        if (name, with_thumbnail) not in pictures:
            pictures[name, with_thumbnail] = _check_picture(staging, _member(members, name), with_thumbnail)
        return pictures[name, with_thumbnail]

    rows: list[tuple[dict, list[ImportedReference], list[tuple]]] = []
    blobs: dict[str, Callable[[], bytes]] = {}
    for record in records:
        entry_id = new_ids[record["id"]]
        image = picture(record["image"], True) if record.get("image") else None
        refs = []
        roles_given = record.get("reference_roles") or []
        for position, ref_name in enumerate(record.get("references") or []):
            ref = picture(ref_name, False)
            role = roles.normalized(roles_given[position] if position < len(roles_given) else None)
            refs.append(ImportedReference(name=f"reference-{position + 1}", mime_type=ref.mime_type, sha256=ref.sha256,
                                          role=role))
            blobs[f"{ref.sha256}.bin"] = staging.reader(ref.span)
        image_file = thumb_file = None
        if image is not None and image.thumb is not None:
            image_file = f"{entry_id}.{'png' if image.mime_type == 'image/png' else 'jpg'}"
            thumb_file = f"{entry_id}.thumb.jpg"
            blobs[image_file] = staging.reader(image.span)
            blobs[thumb_file] = staging.reader(image.thumb)
        drafts = []
        for position, draft_name in enumerate(record.get("drafts") or []):
            draft = picture(draft_name, False)
            file_name = f"{entry_id}.d{position}.{files.extension(draft.mime_type)}"
            blobs[file_name] = staging.reader(draft.span)
            drafts.append((entry_id, position, file_name, draft.mime_type, draft.width, draft.height))
        turn_file = None
        if record.get("turn") and image_file is not None:
            span = staging.copy(_member(members, record["turn"]))
            try:
                turns.read_turn_blob(staging.read(span))
            except turns.TurnError as exc:
                raise ArchiveError(f"{_shown(record['turn'])} in the ZIP is not a model turn the studio kept; "
                                   "nothing was imported.") from exc
            turn_file = f"{entry_id}.turn.json"
            blobs[turn_file] = staging.reader(span)
        region_files: dict[str, str | None] = {"mask_file": None, "raw_file": None}
        for key, column, suffix in (("mask", "mask_file", "mask"), ("raw", "raw_file", "raw")):
            if record.get(key):  # checked like any picture: a PNG or JPEG, not a bomb
                kept = picture(record[key], False)
                region_files[column] = f"{entry_id}.{suffix}.{files.extension(kept.mime_type)}"
                blobs[str(region_files[column])] = staging.reader(kept.span)
        parent = record.get("parent_id")
        thread_parent, thread_root = record.get("thread_parent_id"), record.get("thread_root_id")
        row = {
            "id": entry_id, "namespace": namespace, "batch_id": record.get("batch_id") or entry_id,
            "parent_id": new_ids.get(parent) if parent else None,
            "created_at": float(record["created_at"]), "prompt": record["prompt"],
            "model_id": record["model_id"], "aspect_ratio": record["aspect_ratio"],
            "image_size": record["image_size"], "output_format": record["output_format"],
            "settings_json": json.dumps(record.get("settings") or {}),
            "status": IMPORTED_STATUS.get(record["status"], record["status"]),
            "failure_kind": record.get("failure_kind"), "failure_message": record.get("failure_message"),
            "failure_detail": record.get("failure_detail"), "finish_reason": record.get("finish_reason"),
            "block_reason": record.get("block_reason"), "latency_s": float(record.get("latency_s") or 0),
            "attempts": int(record.get("attempts") or 1), "prompt_tokens": int(record.get("prompt_tokens") or 0),
            "output_tokens": int(record.get("output_tokens") or 0),
            "total_tokens": int(record.get("total_tokens") or 0), "cost_usd": float(record.get("cost_usd") or 0),
            "estimated_cost_usd": float(record.get("estimated_cost_usd") or record.get("cost_usd") or 0),
            "model_version": record.get("model_version"), "response_id": record.get("response_id"),
            "text": record.get("text"), "request_json": json.dumps(record.get("request_json") or {}),
            "response_json": json.dumps(record.get("response_json") or {}),
            "image_file": image_file, "thumb_file": thumb_file,
            "width": image.width if image else None, "height": image.height if image else None,
            "mime_type": image.mime_type if image else None,
            "favorite": int(bool(record.get("favorite"))), "deleted_at": None, "references_count": len(refs),
            "thought_text": record.get("thought_text"), "thoughts_tokens": int(record.get("thoughts_tokens") or 0),
            **region_files, "region_note": record.get("region_note"),
            "turn_file": turn_file,  # a thread link to an entry outside the import is dropped: it could not resend
            "thread_parent_id": new_ids.get(thread_parent) if thread_parent else None,
            "thread_root_id": (new_ids.get(thread_root) or new_ids[thread_parent]) if thread_parent in new_ids
            else None,
        }
        rows.append((row, refs, drafts))
    return rows, blobs


def _plan_vectors(records: list[dict[str, Any]], new_ids: list[str], members: dict[str, zipfile.ZipInfo],
                  staging: _Staging) -> dict[str, list[tuple[str, Any]]]:
    """The exported vectors by model, each checked (size, finite values); nothing written yet."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for position, (record, entry_id) in enumerate(zip(records, new_ids, strict=True)):
        name, model_id, dims = record.get("vector"), record.get("vector_model"), record.get("vector_dims")
        if name is None:
            continue
        where = f"Entry {position + 1} in manifest.json"
        if not (isinstance(name, str) and isinstance(model_id, str) and isinstance(dims, int)
                and 0 < dims <= MAX_VECTOR_DIMS):
            raise ArchiveError(f"{where} has a search vector the studio cannot read; nothing was imported.")
        try:
            vector = decode_vector(staging.read(staging.copy(_member(members, name))), dims)
        except ValueError as exc:
            raise ArchiveError(f"{where} has a search vector of the wrong size; nothing was imported.") from exc
        if not bool(np.isfinite(vector).all()):
            raise ArchiveError(f"{where} has a search vector that is not numbers; nothing was imported.")
        found.setdefault(model_id, []).append((entry_id, vector))
    return found


def import_zip(store: HistoryStore, namespace: str, source: bytes | IO[bytes]) -> list[Entry]:
    """Import a studio export into this namespace as new entries: everything checked, then all or nothing."""
    with _open_archive(source) as archive, tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
        members = _check_directory(archive)
        staging = _Staging(archive, spool)
        records = _read_manifest(staging, members)
        rows, blobs = _plan(records, members, staging, namespace)
        vectors = _plan_vectors(records, [row["id"] for row, _, _ in rows], members, staging)
        try:
            store.import_rows(namespace, rows, blobs.items())
        except (OSError, sqlite3.Error) as exc:
            raise ArchiveError("The import could not be written (is the disk full?); nothing was imported.") from exc
        for model_id, pairs in vectors.items():  # an import without vectors is indexed on request
            store.vectors.put_many(namespace, model_id, pairs)
    return store.get_many(namespace, [row["id"] for row, _, _ in rows])

