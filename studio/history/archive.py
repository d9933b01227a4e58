"""Export history as a ZIP of images (recipe inside) plus manifest.json, and import it back safely.

Import never extracts by name: members are read into memory, names are checked, and files are
written under names the store makes itself.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from typing import TYPE_CHECKING

from studio.request import ReferenceImage

if TYPE_CHECKING:
    from studio.history.store import Entry, HistoryStore

MANIFEST = "manifest.json"
FORMAT = "nano-banana-studio-history/1"
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 20_000


class ArchiveError(ValueError):
    """A ZIP the studio refuses to import; the message says why in plain words."""


def _entry_record(entry: Entry, image_name: str | None, reference_names: list[str]) -> dict:
    return {
        "id": entry.id, "batch_id": entry.batch_id, "parent_id": entry.parent_id, "created_at": entry.created_at,
        "prompt": entry.prompt, "model_id": entry.model_id, "aspect_ratio": entry.aspect_ratio,
        "image_size": entry.image_size, "output_format": entry.output_format, "settings": entry.settings,
        "status": entry.status, "failure_kind": entry.failure_kind, "failure_message": entry.failure_message,
        "failure_detail": entry.failure_detail, "finish_reason": entry.finish_reason,
        "block_reason": entry.block_reason, "latency_s": entry.latency_s, "attempts": entry.attempts,
        "prompt_tokens": entry.prompt_tokens, "output_tokens": entry.output_tokens,
        "total_tokens": entry.total_tokens, "cost_usd": entry.cost_usd, "model_version": entry.model_version,
        "response_id": entry.response_id, "text": entry.text, "request_json": entry.request_json,
        "response_json": entry.response_json, "width": entry.width, "height": entry.height,
        "mime_type": entry.mime_type, "favorite": entry.favorite, "image": image_name,
        "references": reference_names,
    }


def export_zip(store: HistoryStore, namespace: str, entry_ids: list[str] | None = None) -> bytes:
    """The chosen entries (or all) as a ZIP: images/…, references/…, manifest.json."""
    if entry_ids is None:
        total = store.count_entries(namespace)
        entries = store.list_entries(namespace, limit=max(total, 1), sort="oldest")
    else:
        entries = store.get_many(namespace, entry_ids)
    out = io.BytesIO()
    records = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for entry in entries:
            image_name = None
            data = store.read_image(namespace, entry.id)
            if data is not None:
                image_name = f"images/{entry.created.strftime('%Y%m%d-%H%M%S')}-{entry.id[:8]}.{entry.extension}"
                archive.writestr(image_name, data)
            ref_names = []
            for ref in store.read_references(namespace, entry.id):
                name = f"references/{ref.sha256}.{'png' if ref.mime_type == 'image/png' else 'jpg'}"
                if name not in archive.namelist():
                    archive.writestr(name, ref.data)
                ref_names.append(name)
            records.append(_entry_record(entry, image_name, ref_names))
        manifest = {"format": FORMAT, "exported_at": time.time(), "entries": records}
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return out.getvalue()


def _safe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return not (name.startswith(("/", "\\")) or ".." in parts or ":" in name or not name)


def _read_members(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ArchiveError("This file is not a ZIP archive, or it is damaged.") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ArchiveError(f"This ZIP holds {len(infos):,} files; a studio export holds at most {MAX_MEMBERS:,}.")
        unsafe = [i.filename for i in infos if not _safe_member(i.filename)]
        if unsafe:
            raise ArchiveError(f"This ZIP contains unsafe paths (like {unsafe[0]!r}); nothing was imported.")
        members = {}
        for info in infos:
            if info.is_dir():
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise ArchiveError(f"{info.filename} in the ZIP is too large to import.")
            try:
                members[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
                raise ArchiveError(f"{info.filename} in the ZIP is damaged; nothing was imported.") from exc
    return members


def import_zip(store: HistoryStore, namespace: str, data: bytes) -> list[Entry]:
    """Import a studio export into this namespace, as new entries; refuse anything odd, whole."""
    members = _read_members(data)
    if MANIFEST not in members:
        raise ArchiveError("This ZIP has no manifest.json: it is not a Nano Banana Pro studio export.")
    try:
        manifest = json.loads(members[MANIFEST])
        records = manifest["entries"]
        if manifest.get("format") != FORMAT or not isinstance(records, list):
            raise ValueError
    except (ValueError, KeyError, TypeError) as exc:
        raise ArchiveError("The manifest.json in this ZIP is not a studio history manifest.") from exc
    new_ids = {str(r.get("id")): uuid.uuid4().hex for r in records if isinstance(r, dict)}
    imported = []
    for record in records:
        row, refs, image = _row_from_record(record, namespace, new_ids, members)
        store.import_row(row, refs, image)
        imported.append(row["id"])
    return store.get_many(namespace, imported)


def _row_from_record(record: dict, namespace: str, new_ids: dict[str, str], members: dict[str, bytes]) -> tuple:
    try:
        entry_id = new_ids[str(record["id"])]
        image_name = record.get("image")
        image = members.get(image_name) if image_name else None
        if image_name and image is None:
            raise ArchiveError(f"The manifest names {image_name}, which is not in the ZIP.")
        mime = record.get("mime_type") or ""
        ext = {"image/png": "png", "image/jpeg": "jpg"}.get(mime, "bin")
        refs = []
        for position, ref_name in enumerate(record.get("references") or []):
            ref_data = members.get(ref_name)
            if ref_data is None:
                raise ArchiveError(f"The manifest names {ref_name}, which is not in the ZIP.")
            ref_mime = "image/png" if ref_name.endswith(".png") else "image/jpeg"
            refs.append(ReferenceImage(name=f"reference-{position + 1}", data=ref_data, mime_type=ref_mime))
        row = {
            "id": entry_id, "namespace": namespace, "batch_id": str(record.get("batch_id") or entry_id),
            "parent_id": new_ids.get(str(record.get("parent_id"))) if record.get("parent_id") else None,
            "created_at": float(record["created_at"]), "prompt": str(record["prompt"]),
            "model_id": str(record["model_id"]), "aspect_ratio": str(record["aspect_ratio"]),
            "image_size": str(record["image_size"]), "output_format": str(record["output_format"]),
            "settings_json": json.dumps(record.get("settings") or {}), "status": str(record["status"]),
            "failure_kind": record.get("failure_kind"), "failure_message": record.get("failure_message"),
            "failure_detail": record.get("failure_detail"), "finish_reason": record.get("finish_reason"),
            "block_reason": record.get("block_reason"), "latency_s": float(record.get("latency_s") or 0),
            "attempts": int(record.get("attempts") or 1), "prompt_tokens": int(record.get("prompt_tokens") or 0),
            "output_tokens": int(record.get("output_tokens") or 0), "total_tokens": int(record.get("total_tokens") or 0),
            "cost_usd": float(record.get("cost_usd") or 0), "model_version": record.get("model_version"),
            "response_id": record.get("response_id"), "text": record.get("text"),
            "request_json": json.dumps(record.get("request_json") or {}),
            "response_json": json.dumps(record.get("response_json") or {}),
            "image_file": f"{entry_id}.{ext}" if image is not None else None,
            "thumb_file": f"{entry_id}.thumb.jpg" if image is not None else None,
            "width": record.get("width"), "height": record.get("height"), "mime_type": mime or None,
            "favorite": int(bool(record.get("favorite"))), "deleted_at": None, "references_count": len(refs),
        }
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ArchiveError):
            raise
        raise ArchiveError("An entry in manifest.json is incomplete; nothing more was imported.") from exc
    return row, refs, image
