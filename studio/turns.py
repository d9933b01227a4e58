"""Edit threads on the wire: the multi-turn request Google's image models expect, and the model turn History keeps.

An edit is a conversation: the earlier user turns (instruction text, then that turn's references) and the
model turns exactly as the API returned them. Gemini 3 refuses a model image sent back without its
``thoughtSignature`` (400) and refuses an altered one, so a model turn is kept verbatim (every final part,
in order, signatures byte-for-byte) in its own History blob, apart from the re-encoded file a person
downloads. Thought parts (thinking text and draft images) carry no signature and are never sent back:
Google's thought-signature rules only ask for the final parts, and drafts would double the request.

Pure functions only, importing nothing of History: the recorder and the archive write and check turns with
them, the engine sends what ``sdk_contents`` builds, and ``studio.threads`` reads a thread's turns from the store.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from google.genai import types

from studio import roles
from studio.regions.edit import RegionEdit
from studio.request import GenerationRequest, ReferenceImage

TURN_FORMAT = 1  # the blob's own version, so a later studio can still read today's turns
INLINE_REQUEST_LIMIT = 100_000_000  # Google's inline request payload limit, 100 MB since 2026-01 (decimal: the safe reading)


class TurnError(ValueError):
    """A stored model turn that cannot be sent back (missing, unreadable): the thread cannot continue from it."""


def model_turn_parts(parts: Sequence[object]) -> list[dict]:
    """The parts of an answer an edit sends back: every final part verbatim, in order; thought parts left out."""
    return [dict(p) for p in parts if isinstance(p, dict) and not p.get("thought")]


def turn_blob(parts: Sequence[dict]) -> bytes:
    """The model's turn as History keeps it (JSON, image data and signatures as the API sent them)."""
    return json.dumps({"format": TURN_FORMAT, "role": "model", "parts": list(parts)},
                      separators=(",", ":")).encode()


def read_turn_blob(data: bytes) -> dict:
    """The stored model turn as a ``{"role": "model", "parts": [...]}`` content; TurnError when unreadable."""
    try:
        stored = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TurnError("The model's earlier answer in this thread cannot be read.") from exc
    parts = stored.get("parts") if isinstance(stored, dict) else None
    if not isinstance(parts, list) or not parts:
        raise TurnError("The model's earlier answer in this thread is empty.")
    return {"role": "model", "parts": parts}


def user_content(prompt: str, references: Sequence[ReferenceImage], region: RegionEdit | None = None) -> dict:
    """A user turn in Google's wire shape: the text first, then the references in the person's order
    (the same order as a single request, ``engine.build_contents``), with the roles' preamble when tagged.
    A region edit puts its preamble, the picture and the mask right after the instruction."""
    parts: list[dict] = [{"text": prompt}]
    if region is not None:
        parts += region.wire_parts()
    preamble = roles.preamble([ref.role for ref in references])
    if preamble:
        parts.append({"text": preamble})
    parts += [{"inlineData": {"mimeType": r.mime_type, "data": base64.b64encode(r.data).decode()}}
              for r in references]
    return {"role": "user", "parts": parts}


@dataclass(frozen=True)
class Turn:
    """One finished turn of a thread: what the person asked, and the model's answer as returned."""

    prompt: str
    references: tuple[ReferenceImage, ...] = field(default=(), repr=False)
    model: dict = field(default_factory=dict, repr=False)  # {"role": "model", "parts": [...]}


def conversation(turns: Sequence[Turn]) -> tuple[dict, ...]:
    """The earlier turns of an edit, root first: user, model, user, model, ... (the new instruction follows)."""
    contents: list[dict] = []
    for turn in turns:
        contents.append(user_content(turn.prompt, turn.references))
        contents.append({"role": "model", "parts": [dict(p) for p in turn.model.get("parts", [])]})
    return tuple(contents)


def decode_b64(text: str) -> bytes:
    """Google's base64 in either alphabet, padded or not (the SDK sends URL-safe)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TurnError("A stored part of this thread is not valid base64.") from exc


def sdk_part(part: dict) -> types.Part:
    """A wire part as the SDK's Part, bytes decoded so the SDK sends back exactly the bytes Google sent."""
    converted = dict(part)
    inline = converted.get("inlineData") or converted.pop("inline_data", None)
    if isinstance(inline, dict):
        converted["inlineData"] = {"mimeType": inline.get("mimeType") or inline.get("mime_type"),
                                   "data": decode_b64(str(inline.get("data") or ""))}
    signature = converted.pop("thoughtSignature", None) or converted.pop("thought_signature", None)
    if signature is not None:
        converted["thoughtSignature"] = signature if isinstance(signature, bytes) else decode_b64(str(signature))
    try:
        return types.Part.model_validate(converted)
    except ValueError as exc:
        raise TurnError("A stored part of this thread has a shape the studio cannot send back.") from exc


def sdk_contents(earlier: Sequence[dict], request: GenerationRequest) -> list[types.Content]:
    """The whole multi-turn request: the earlier turns, then the new instruction with this turn's references."""
    last = user_content(request.prompt, request.references, request.region)
    return [types.Content(role=str(c.get("role") or "user"), parts=[sdk_part(p) for p in c.get("parts", [])])
            for c in [*earlier, last]]


def request_body_size(earlier: Sequence[dict], request: GenerationRequest) -> int:
    """Bytes of the ``contents`` as sent (JSON with base64 images): what counts against Google's inline limit."""
    contents = [c.model_dump(mode="json", exclude_none=True, by_alias=True) for c in sdk_contents(earlier, request)]
    return len(json.dumps({"contents": contents}, separators=(",", ":")).encode())


def signatures(contents: Sequence[dict]) -> list[bytes]:
    """Every thought signature of the model turns, decoded, in order (tests and checks compare bytes)."""
    found = []
    for content in contents:
        if content.get("role") != "model":
            continue
        for part in content.get("parts", []):
            sig = part.get("thoughtSignature") or part.get("thought_signature")
            if sig:
                found.append(sig if isinstance(sig, bytes) else decode_b64(str(sig)))
    return found


def estimated_body_size(earlier: Sequence[dict], request: GenerationRequest) -> int:
    """Bytes the request's ``contents`` take on the wire, from the stored base64 (no decoding): cheap enough to
    check before every edit against Google's inline limit (``request_body_size`` measures what the SDK sends)."""
    contents = [*earlier, user_content(request.prompt, request.references, request.region)]
    return len(json.dumps({"contents": contents}, separators=(",", ":")).encode())


def too_large_message(size: int) -> str:
    return (f"This thread has grown too large for one request ({size / 1e6:.0f} MB of Google's "
            f"{INLINE_REQUEST_LIMIT / 1e6:.0f} MB limit). Start fresh from this image: nothing in the thread is lost.")
