"""Edit threads read from History: a thread's turns, the versions tree, and the requests that continue it.

The wire format (turn blobs, contents, signatures) is ``studio.turns``, which imports nothing of History, so
the store, the recorder and the archive use it without a circle; this module sits above the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from studio.history import Entry, HistoryStore
from studio.request import GenerationRequest, ReferenceImage
from studio.turns import Turn, TurnError, conversation, read_turn_blob


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
