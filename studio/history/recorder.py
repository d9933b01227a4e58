"""The recorder: what History will hold for an attempt, built before anything is persisted.

Pure functions from a request and a result to the row, its blobs and its draft rows. The store then
writes the blobs first and the row after, in one transaction, whatever database and blob store it has.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from PIL import Image

from studio import images, turns
from studio.catalogue import Catalogue
from studio.history import files
from studio.request import GenerationRequest
from studio.results import ImageResult

if TYPE_CHECKING:
    from studio.history.entry import Entry

RUNNING = "running"  # queued or in flight; the job runner's live state says which
MAX_DRAFTS = 9


def started_row(catalogue: Catalogue, entry_id: str, namespace: str, request: GenerationRequest, index: int, *,
                batch_id: str, parent_id: str | None, job_id: str | None, owner: str | None,
                now: float | None = None) -> dict:
    """The row of an image about to be made: visible at once as running, with its recipe and its estimate.

    Image ``index`` of a set of prompts is recorded with its own prompt (a new prompt version: ``parent_id``
    links it to the version it varies) and the prompt the set came from as ``variation_of``."""
    now = time.time() if now is None else now
    variation_of = {"variation_of": request.prompt} if request.prompts else {}
    request = request.for_image(index)
    return {
        "id": entry_id, "namespace": namespace, "batch_id": batch_id, "parent_id": parent_id,
        "created_at": now, "prompt": request.prompt, "model_id": request.model_id,
        "aspect_ratio": request.aspect_ratio, "image_size": request.image_size,
        "output_format": request.output_format,
        "settings_json": json.dumps({**request.recipe(), "include_thoughts": request.include_thoughts,
                                     "index": index, "seed": request.seed_for(index), "batch_seed": request.seed,
                                     **({"lane": request.lane} if request.lane != "now" else {}),
                                     **variation_of}),
        "status": RUNNING, "latency_s": 0.0, "attempts": 0, "prompt_tokens": 0, "output_tokens": 0,
        "total_tokens": 0, "cost_usd": 0.0, "request_json": "{}", "response_json": "{}",
        "estimated_cost_usd": round(_lane_cost(catalogue, request, catalogue.resolve(request.model_id).estimate_cost(
            request.image_size, 1, _input_images(request))), 6),
        "favorite": 0, "deleted_at": None, "references_count": len(request.references),
        "job_id": job_id, "owner": owner, "heartbeat_at": now,
        # a region edit's mask, written before the row (``mask_blob``): kept whatever becomes of the attempt
        # (failed, cancelled, interrupted), so Retry repeats the same region
        "mask_file": f"{entry_id}.mask.png" if request.region is not None and request.region.mask_png else None,
    }


def mask_blob(row: dict, request: GenerationRequest) -> tuple[str, bytes] | None:
    """The (name, bytes) of a started row's mask blob, or None when the request paints no region."""
    if not row.get("mask_file") or request.region is None:
        return None
    return str(row["mask_file"]), request.region.mask_png


def _input_images(request: GenerationRequest) -> int:
    """Images the request sends: its references, and a region edit's picture and mask."""
    return len(request.references) + (len(request.region.images()) if request.region is not None else 0)


def _lane_cost(catalogue: Catalogue, request: GenerationRequest, interactive: float) -> float:
    """The interactive price at the lane's share, as the model's spec gives it (batch half, flex its own)."""
    return interactive * catalogue.resolve(request.model_id).price_share(request.lane)


@dataclass(frozen=True)
class FinishedRecord:
    """What finishing an entry writes: blobs (name → bytes), the row's new values, and the draft rows."""

    blobs: dict[str, bytes] = field(repr=False)
    values: dict
    drafts: list[tuple]


def finished_record(catalogue: Catalogue, entry_id: str, request: GenerationRequest,
                    result: ImageResult) -> FinishedRecord:
    """The answer as History keeps it: cost from recorded usage, the file, its thumbnail and the drafts."""
    blobs: dict[str, bytes] = {}
    image_file = thumb_file = None
    if result.image is not None:
        image_file = f"{entry_id}.{files.extension(result.image.mime_type)}"
        thumb_file = f"{entry_id}.thumb.jpg"
        blobs[image_file] = result.image.data
        blobs[thumb_file] = result.thumbnail or images.make_thumbnail(result.image.data)
    turn_file = None
    if result.image is not None and result.model_parts:
        turn_file = f"{entry_id}.turn.json"  # kept apart from the re-encoded file: an edit sends this back
        blobs[turn_file] = turns.turn_blob(result.model_parts)
    raw_file = None
    if result.raw_image is not None:  # the model's whole answer, beside the composite
        raw_file = f"{entry_id}.raw.{files.extension(result.raw_image.mime_type)}"
        blobs[raw_file] = result.raw_image.data
    drafts = []
    for position, draft in enumerate(result.drafts[:MAX_DRAFTS]):
        if not draft.data or files.extension(draft.mime_type) == "bin":
            continue
        name = f"{entry_id}.d{position}.{files.extension(draft.mime_type)}"
        blobs[name] = draft.data
        drafts.append((entry_id, position, name, draft.mime_type, draft.width, draft.height))
    spec = catalogue.resolve(request.model_id)
    billed_answer = result.raw_image is not None  # a region answer that could not be aligned was still billed
    prompt_tokens = result.usage.prompt_tokens + result.usage.tool_tokens  # search results are billed as input
    cost = spec.cost_from_usage(request.image_size, prompt_tokens, result.usage.output_tokens,
                                result.usage.thoughts_tokens, images=1 if result.ok or billed_answer else 0)
    cost = _lane_cost(catalogue, request, cost)
    failure = result.failure
    values = {
        "status": result.status, "failure_kind": failure.kind.value if failure else None,
        "failure_message": failure.message if failure else None,
        "failure_detail": failure.detail if failure else None, "finish_reason": result.finish_reason,
        "block_reason": result.block_reason, "latency_s": result.latency_s, "attempts": result.attempts,
        "prompt_tokens": result.usage.prompt_tokens, "output_tokens": result.usage.output_tokens,
        "total_tokens": result.usage.total_tokens, "thoughts_tokens": result.usage.thoughts_tokens,
        "cost_usd": round(cost, 6), "model_version": result.model_version, "response_id": result.response_id,
        "text": result.text, "thought_text": result.thought_text or None,
        "request_json": json.dumps(result.request_json), "response_json": json.dumps(result.response_json),
        "image_file": image_file, "thumb_file": thumb_file, "turn_file": turn_file,
        "raw_file": raw_file, "region_note": result.region_note or None,
        "width": result.image.width if result.image else None,
        "height": result.image.height if result.image else None,
        "mime_type": result.image.mime_type if result.image else None, "heartbeat_at": None,
    }
    return FinishedRecord(blobs=blobs, values=values, drafts=drafts)


def adopted_record(entry: Entry, new_id: str, raw: bytes, turn: bytes | None,
                   now: float | None = None) -> tuple[dict, dict[str, bytes]]:
    """"Use the model's whole image": a region edit's raw answer as a version of its own (row and blobs).

    A sibling of the composite in the thread (same thread parent, the same model turn, so the thread can
    continue from it), made from it (``parent_id``), not billed again (no cost, no estimate).
    """
    fmt = images.detect_format(raw) or "PNG"  # the model's own format (Gemini 3 answers JPEG), not the composite's
    ext = files.extension(images.MIME.get(fmt, "image/png"))
    with Image.open(io.BytesIO(raw)) as picture:
        width, height = picture.size
    row = {key: value for key, value in asdict(entry).items() if key not in ("settings", "favorite")}
    settings = {k: v for k, v in entry.settings.items() if k != "region"}
    blobs = {f"{new_id}.{ext}": raw, f"{new_id}.thumb.jpg": images.make_thumbnail(raw)}
    row.update({
        "id": new_id, "created_at": time.time() if now is None else now, "parent_id": entry.id,
        "settings_json": json.dumps({**settings, "adopted_from": entry.id}), "favorite": 0, "deleted_at": None,
        "request_json": json.dumps(entry.request_json), "response_json": json.dumps(entry.response_json),
        "image_file": f"{new_id}.{ext}", "thumb_file": f"{new_id}.thumb.jpg", "turn_file": None,
        "mask_file": None, "raw_file": None, "region_note": None, "width": width, "height": height,
        "mime_type": images.MIME.get(fmt, "image/png"), "output_format": fmt, "status": "ok",
        "cost_usd": 0.0, "estimated_cost_usd": 0.0, "prompt_tokens": 0, "output_tokens": 0, "total_tokens": 0,
        "thoughts_tokens": 0, "job_id": None, "owner": None, "heartbeat_at": None,
    })
    if turn is not None:
        row["turn_file"] = f"{new_id}.turn.json"
        blobs[row["turn_file"]] = turn
    return row, blobs
