"""Google's answers to a valid generateContent request, built as the chunks a stream carries.

A live stream (captured from Nano Banana Pro) sends: thought texts and drafts when asked for,
then the final parts each in a chunk *without* ``finishReason``, then a trailing chunk whose only
part is an empty text carrying ``finishReason: STOP`` (and ``groundingMetadata`` when searched);
``usageMetadata`` rides on every chunk. generateContent answers the chunks merged into one
candidate, without the trailing empty text. Token counting: ``usage.py``.
"""

from __future__ import annotations

import base64
import hashlib

from studio.catalogue import ModelSpec
from studio.emulator import blocked, grounding, regions
from studio.emulator.faults import Fault, strip_markers
from studio.emulator.profiles import caption_kind, profile
from studio.emulator.render import JPEG_QUALITY, render
from studio.emulator.thinking import b64, thought_parts
from studio.emulator.usage import usage
from studio.emulator.validation import ParsedRequest, output_pixels, signed_bytes

CAPTION = "Here is the image you asked for."
INTERLEAVED_TEXT = ("Here is the first take.", "And a second take with a different composition.")
CAPTION_MARKERS = {"no_caption": "none", "empty_caption": "empty", "with_caption": "sentence"}
TRAILER = {"text": ""}


def signature(seed_text: str) -> str:
    """An opaque, deterministic thought signature in padded standard base64, like Google's.

    It carries its own check (``validation.signature_is_genuine``), so a signature sent back altered is
    refused like Google refuses one it cannot verify.
    """
    return b64(signed_bytes(hashlib.sha256(seed_text.encode()).digest()))


def response_id(req: ParsedRequest, nonce: int) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"{req.prompt}|{req.seed}|{nonce}".encode()).digest()[:15]).decode()


def _chunk(parts: list[dict] | None, base: dict, usage_meta: dict, **candidate_extra: object) -> dict:
    candidate: dict = {"content": {"parts": parts, "role": "model"}, **candidate_extra, "index": 0}
    return {"candidates": [candidate], "usageMetadata": usage_meta, **base}


def _output_format(req: ParsedRequest, spec: ModelSpec, wrong_mime: bool) -> tuple[str, str]:
    """(encoded format, declared mime type): the model's own format, or JPEG declared as PNG when mislabelled."""
    if wrong_mime:
        return "JPEG", "image/png"
    fmt = {"image/jpeg": "JPEG", "image/png": "PNG"}.get(req.output_mime or "", profile(spec).output_format)
    return fmt, f"image/{fmt.lower()}"


def _quality(req: ParsedRequest) -> int:
    """Vertex's compressionQuality when asked for, else the emulator's usual JPEG quality."""
    return req.output_quality if req.output_quality is not None else JPEG_QUALITY


def _final_parts(req: ParsedRequest, spec: ModelSpec, names: set[str], prompt: str, size: tuple[int, int],
                 fmt: str, declared: str) -> list[dict]:
    """Caption (per the model's habits) and image, or Flash's text-image-text-image when interleaved."""
    region = regions.region_kind(req.prompt, req.images)

    def image(tag: str = "") -> dict:
        if region is not None:  # a mask or an upscale: the picture sent, changed only where asked (regions.py)
            data = regions.region_answer(region, prompt + tag, req.seed, size, req.images, fmt, _quality(req))
        else:
            data = render(prompt, req.seed, *size, req.images, fmt, tag=tag, quality=_quality(req),
                          base=req.edited_image)
        return {"inlineData": {"mimeType": declared, "data": b64(data)}, "thoughtSignature": signature(prompt + tag)}

    def text(words: str) -> dict:
        return {"text": words, "thoughtSignature": signature(words + prompt)}

    if "interleaved" in names:
        return [text(INTERLEAVED_TEXT[0]), image(), text(INTERLEAVED_TEXT[1]), image(" #take2")]
    kind = next((k for m, k in CAPTION_MARKERS.items() if m in names), None) or caption_kind(spec, req.prompt, req.seed)
    parts = []
    if "TEXT" in req.modalities and kind != "none":
        parts.append(text(CAPTION if kind == "sentence" else ""))
    return [*parts, image()]


def answer_chunks(req: ParsedRequest, spec: ModelSpec, faults: list[Fault], nonce: int,
                  wrong_mime: bool = False) -> list[dict]:
    """The answer as the chunks a stream carries; generateContent merges them (``merge``)."""
    names = {f.name for f in faults}
    base = {"modelVersion": spec.model_id, "responseId": response_id(req, nonce)}
    feedback = blocked.prompt_block(names)
    if feedback:
        return [{"promptFeedback": feedback, "usageMetadata": usage(req, spec, 0, 0, thoughts=0), **base}]
    prompt = strip_markers(req.prompt)
    size = output_pixels(req, spec)
    fmt, declared = _output_format(req, spec, wrong_mime or "wrong_mime" in names)
    interim = usage(req, spec, 0, 0)
    chunks = [_chunk([part], base, interim) for part in thought_parts(req, spec, prompt, *size, fmt)]
    candidate = blocked.blocked_candidate(names, prompt)
    if candidate is not None:
        return [*chunks, {"candidates": [candidate], "usageMetadata": interim, **base}]
    if "text_only" in names:
        words = f"I can describe it instead: {prompt[:200]}"
        finals = [{"text": words, "thoughtSignature": signature(words)}]
        final_usage = usage(req, spec, 0, max(1, len(words) // 4))
    else:
        finals = _final_parts(req, spec, names, prompt, size, fmt, declared)
        images = sum("inlineData" in p for p in finals)
        final_usage = usage(req, spec, images * spec.output_tokens(req.image_size or spec.default_size), 0)
    chunks += [_chunk([part], base, final_usage) for part in finals]
    extra: dict = {"finishReason": "STOP"}
    if req.search or req.image_search:
        extra["groundingMetadata"] = grounding.metadata(prompt, web=req.search, images=req.image_search)
    chunks.append(_chunk([dict(TRAILER)], base, final_usage, **extra))
    return chunks


def merge(chunks: list[dict]) -> dict:
    """What generateContent returns: every chunk's parts in one candidate (without the stream's trailing
    empty text), the last chunk's metadata; a blocked candidate keeps its own content shape."""
    last = chunks[-1]
    if len(chunks) == 1 or not last.get("candidates"):
        return last
    final = last["candidates"][0]
    if not isinstance((final.get("content") or {}).get("parts"), list):
        return last  # blocked or empty: the live shape (no content, {}, role only, parts null) as it is
    parts = [p for c in chunks for cand in c.get("candidates", []) for p in (cand.get("content") or {}).get("parts")
             or [] if p != TRAILER]
    return {**last, "candidates": [{**final, "content": {"parts": parts, "role": "model"}}]}
