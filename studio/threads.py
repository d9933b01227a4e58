"""Edit threads read from History: a thread's turns, the versions tree, and the requests that continue it.

The wire format (turn blobs, contents, signatures) is ``studio.turns``, which imports nothing of History, so
the store, the recorder and the archive use it without a circle; this module sits above the store.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace

from PIL import Image

from studio.history import Entry, HistoryStore
from studio.regions.edit import RegionEdit, region_from_recipe
from studio.regions.frame import ExtendPlan, extend_canvas
from studio.regions.masks import check_mask
from studio.request import GenerationRequest, ReferenceImage
from studio.turns import Turn, TurnError, conversation, read_turn_blob

MISSING_IMAGE = ("The image of this version is missing from History, so its region cannot be edited. "
                 "Choose another version, or start again from a copy of the image.")


class RegionError(ValueError):
    """A region edit that cannot be built (the version's image file is gone): the message is for a person."""


def turns_from_store(store: HistoryStore, namespace: str, entry_id: str) -> list[Turn]:
    """The finished turns an edit of ``entry_id`` continues, root first (TurnError when one is not kept)."""
    chain = store.thread_chain(namespace, entry_id)
    if chain and chain[0].thread_parent_id:  # the chain stops at a row that is gone: never send half a thread
        raise TurnError("An earlier version of this thread is no longer in History, so the thread cannot "
                        "continue as a conversation. Start fresh from this image instead.")
    turns = []
    for entry in chain:
        data = store.read_turn(namespace, entry.id)
        if data is None:
            raise TurnError("The model's answer for an earlier version of this thread was not kept, so the "
                            "thread cannot continue from it. Start fresh from this image instead.")
        references = tuple(store.read_references(namespace, entry.id))
        turns.append(Turn(entry.prompt, references, read_turn_blob(data)))
    return turns


def edit_request(base: GenerationRequest, leaf: Entry, turns: Sequence[Turn], instruction: str, *,
                 aspect_ratio: str | None = None, image_size: str | None = None,
                 references: Sequence[ReferenceImage] = ()) -> GenerationRequest:
    """One edit of ``leaf``: the thread's earlier turns, then the instruction with this turn's references.

    Ratio and size may change per turn; the model stays the thread's (its signatures are the model's own).
    """
    return replace(base, prompt=instruction, count=1, seed=None, references=tuple(references),
                   aspect_ratio=aspect_ratio or base.aspect_ratio, image_size=image_size or base.image_size,
                   conversation=conversation(turns), thread_parent_id=leaf.id)


def fresh_request(base: GenerationRequest, image: ReferenceImage, instruction: str) -> GenerationRequest:
    """Start fresh from an image (Google's advice when edits drift): a new conversation with just that image."""
    return replace(base, prompt=instruction, count=1, seed=None, references=(image,), conversation=(),
                   thread_parent_id=None)


def version_tree(versions: Sequence[Entry]) -> list[tuple[Entry, int]]:
    """The versions of a thread as a tree, depth first (each with its depth): branches under the turn they
    continue, oldest first. A version whose parent is gone (deleted) shows at the top level."""
    by_id = {v.id: v for v in versions}
    children: dict[str | None, list[Entry]] = {}
    for version in sorted(versions, key=lambda v: v.created_at):
        parent = version.thread_parent_id if version.thread_parent_id in by_id else None
        children.setdefault(parent, []).append(version)
    ordered: list[tuple[Entry, int]] = []
    stack = [(v, 0) for v in reversed(children.get(None, []))]
    while stack:
        version, depth = stack.pop()
        ordered.append((version, depth))
        stack += [(child, depth + 1) for child in reversed(children.get(version.id, []))]
    return ordered


# ---- region edits (issue 23, studio/regions) ---------------------------------------------------------------

def base_image(store: HistoryStore, namespace: str, entry: Entry) -> bytes:
    """The version's image as History keeps it (the composite keeps its decoded pixels); RegionError if gone."""
    data = store.read_image(namespace, entry.id) if entry.image_file else None
    if not data:
        raise RegionError(MISSING_IMAGE)
    return data


def region_request(base: GenerationRequest, leaf: Entry, turns: Sequence[Turn], instruction: str,
                   region: RegionEdit, *, aspect_ratio: str | None = None) -> GenerationRequest:
    """A region edit of ``leaf``: the same thread path as Apply edit, with the region's preamble, picture and
    mask after the instruction; the runner blends the answer into ``region.base`` inside the mask.

    Paint keeps the version's ratio and size; Extend asks for the canvas' ratio (``aspect_ratio``); Upscale
    asks for ``region.target_size``. ``turns`` may be empty (a version that cannot continue its thread).
    A painted mask over the whole image sends a whole-image edit (the page shows ``edit.WHOLE_IMAGE_NOTE``).
    """
    size = region.target_size if region.mode == "upscale" else leaf.image_size
    if region.mode == "paint" and check_mask(region.mask_png).state == "whole":  # said so: WHOLE_IMAGE_NOTE
        return edit_request(base, leaf, turns, instruction, aspect_ratio=aspect_ratio, image_size=size)
    request = edit_request(base, leaf, turns, instruction, aspect_ratio=aspect_ratio or leaf.aspect_ratio,
                           image_size=size or base.image_size)
    return replace(request, region=region)


def region_of(store: HistoryStore, namespace: str, entry: Entry) -> RegionEdit | None:
    """The region edit ``entry`` was made with, rebuilt for Re-run and Retry (same mask, same feather, same
    margins), from its recipe, its mask blob and the image of the version it edited; None for a whole-image edit.
    RegionError when the edited version's image is gone."""
    recipe = entry.settings.get("region")
    if not isinstance(recipe, dict):
        return None
    parent = store.get(namespace, entry.thread_parent_id, include_deleted=True) if entry.thread_parent_id else None
    if parent is None:
        raise RegionError(MISSING_IMAGE)
    picture = base_image(store, namespace, parent)
    mask = store.read_mask(namespace, entry.id) or b""
    region = region_from_recipe(recipe, picture, mask)
    if region.mode == "extend" and region.margins is not None:
        with Image.open(io.BytesIO(picture)) as header:  # its size from the header: no pixels decoded
            width, height = header.size
        left, top, right, bottom = region.margins
        plan = ExtendPlan((width + left + right, height + top + bottom), region.margins, entry.aspect_ratio)
        canvas, _ = extend_canvas(picture, plan)
        region = replace(region, base=canvas)
    return region


def use_whole_image(store: HistoryStore, namespace: str, entry_id: str) -> Entry:
    """"Use the model's whole image": the raw answer of a region edit as a version of its own, beside the
    composite in the same thread (same parent, same model turn, so the thread can continue from it; not billed
    again). RegionError when the entry kept no raw answer."""
    try:
        return store.adopt_raw(namespace, entry_id)
    except ValueError as exc:
        raise RegionError(str(exc)) from exc
