"""Google's answers to a valid generateContent request: parts, thoughts, signatures, usage.

An answer is built as the list of chunks a stream carries (thought text, drafts, text,
then the image with finishReason and usageMetadata); generateContent merges them into one.

Token counts (documented so tests and cost estimates agree):
- ``candidatesTokenCount`` is the catalogue's output tokens for the model and size (the short
  caption is not counted, so the per-image price matches Google's table); text-only answers
  count their text at one token per 4 characters.
- ``promptTokenCount`` is one token per 4 characters of every turn's text (at least 1) plus
  ``INPUT_IMAGE_TOKENS`` per input image in any turn.
- ``thoughtsTokenCount`` is ``THOUGHT_TOKENS`` for thinking models (Gemini 3 always thinks, and
  bills it, whether or not thoughts are returned); absent for Nano Banana.
- ``totalTokenCount = promptTokenCount + candidatesTokenCount + thoughtsTokenCount``.
"""

from __future__ import annotations

import base64
import hashlib
import math

from studio.catalogue import Catalogue, ModelSpec
from studio.emulator.faults import Fault, strip_markers
from studio.emulator.render import render
from studio.emulator.validation import ParsedRequest, output_pixels

INPUT_IMAGE_TOKENS = 258  # tokens per input image (Gemini's classic per-image count)
THOUGHT_TOKENS = 196
DRAFT_SIDE = 256  # drafts are small previews, like the real interim images
CAPTION = "Here is the image you asked for."
BLOCK_MESSAGE = ("Unable to show the generated image. The image was filtered out because it violated "
                 "Google's Generative AI Prohibited Use policy. You will not be charged for blocked images. "
                 "Try rephrasing the prompt. If you think this was an error, send feedback.")
NO_IMAGE_MESSAGE = "Unable to generate an image for this prompt. Try rephrasing the prompt to ask for an image."


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signature(seed_text: str) -> str:
    """An opaque, deterministic thought signature in padded standard base64, like Google's."""
    return b64(hashlib.sha256(seed_text.encode()).digest() + b"emulator-thought-signature")


def response_id(req: ParsedRequest, nonce: int) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"{req.prompt}|{req.seed}|{nonce}".encode()).digest()[:15]).decode()


def usage(req: ParsedRequest, spec: ModelSpec, image_tokens: int, text_tokens: int) -> dict:
    """usageMetadata with Google's field names; see the module docstring for the counting."""
    prompt_details = [{"modality": "TEXT", "tokenCount": max(1, math.ceil(len(req.all_text) / 4))}]
    if req.all_images:
        prompt_details.append({"modality": "IMAGE", "tokenCount": INPUT_IMAGE_TOKENS * req.all_images})
    prompt_tokens = sum(d["tokenCount"] for d in prompt_details)
    candidate_details = [d for d in ({"modality": "IMAGE", "tokenCount": image_tokens},
                                     {"modality": "TEXT", "tokenCount": text_tokens}) if d["tokenCount"]]
    candidates = sum(d["tokenCount"] for d in candidate_details)
    thoughts = THOUGHT_TOKENS if spec.supports_thoughts else 0
    out: dict = {"promptTokenCount": prompt_tokens}
    if candidates:
        out["candidatesTokenCount"] = candidates
    out["totalTokenCount"] = prompt_tokens + candidates + thoughts
    out["promptTokensDetails"] = prompt_details
    if candidate_details:
        out["candidatesTokensDetails"] = candidate_details
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    return out


def answer_chunks(req: ParsedRequest, spec: ModelSpec, faults: list[Fault], nonce: int,
                  wrong_mime: bool = False) -> list[dict]:
    """The answer as the chunks a stream would carry; generateContent merges them."""
    names = {f.name for f in faults}
    base = {"modelVersion": spec.model_id, "responseId": response_id(req, nonce)}
    if "prompt_blocked" in names:
        return [{"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]},
                 "usageMetadata": usage(req, spec, 0, 0), **base}]
    for name, reason, message in (("image_safety", "IMAGE_SAFETY", BLOCK_MESSAGE),
                                  ("no_image", "NO_IMAGE", NO_IMAGE_MESSAGE)):
        if name in names:
            return [{"candidates": [{"content": {"role": "model"}, "finishReason": reason,
                                     "finishMessage": message, "index": 0}],
                     "usageMetadata": usage(req, spec, 0, 0), **base}]
    drawn_prompt = strip_markers(req.prompt)
    width, height = output_pixels(req, spec)
    chunks = _thought_chunks(req, spec, drawn_prompt, width, height, base)
    if "text_only" in names:
        text = f"I can describe it instead: {drawn_prompt[:200]}"
        chunks.append(_chunk([{"text": text, "thoughtSignature": signature(text)}], base, finish="STOP",
                             usage_meta=usage(req, spec, 0, max(1, len(text) // 4))))
        return chunks
    wrong_mime = wrong_mime or "wrong_mime" in names
    fmt = "JPEG" if (req.output_mime == "image/jpeg" or wrong_mime) else "PNG"
    declared = "image/png" if wrong_mime else f"image/{fmt.lower()}"
    data = render(drawn_prompt, req.seed, width, height, req.images, fmt)
    if "TEXT" in req.modalities:
        chunks.append(_chunk([{"text": CAPTION, "thoughtSignature": signature(CAPTION + drawn_prompt)}], base))
    image_part = {"inlineData": {"mimeType": declared, "data": b64(data)}, "thoughtSignature": signature(drawn_prompt)}
    chunks.append(_chunk([image_part], base, finish="STOP",
                         usage_meta=usage(req, spec, spec.output_tokens(req.image_size or spec.default_size), 0)))
    return chunks


def _thought_chunks(req: ParsedRequest, spec: ModelSpec, prompt: str, width: int, height: int,
                    base: dict) -> list[dict]:
    """Interim thinking text and two small drafts (``thought: true``), when asked and supported."""
    if not (req.include_thoughts and spec.supports_thoughts):
        return []
    text = (f"**Planning the picture**\nComposing \"{prompt[:80]}\" at {width}x{height} "
            f"with {len(req.images)} reference image(s).")
    chunks = [_chunk([{"text": text, "thought": True}], base)]
    scale = DRAFT_SIDE / max(width, height)
    draft_w, draft_h = max(16, round(width * scale)), max(16, round(height * scale))
    for i in range(2):
        draft = render(prompt, req.seed, draft_w, draft_h, req.images, "PNG", tag=f" #draft{i + 1}")
        chunks.append(_chunk([{"inlineData": {"mimeType": "image/png", "data": b64(draft)}, "thought": True}], base))
    return chunks


def _chunk(parts: list[dict], base: dict, finish: str | None = None, usage_meta: dict | None = None) -> dict:
    candidate: dict = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out = {"candidates": [candidate]}
    if usage_meta:
        out["usageMetadata"] = usage_meta
    return {**out, **base}


def merge(chunks: list[dict]) -> dict:
    """What generateContent returns: every chunk's parts in one candidate, the last chunk's metadata."""
    if len(chunks) == 1:
        return chunks[0]
    parts = [p for c in chunks for cand in c.get("candidates", []) for p in cand["content"].get("parts", [])]
    last = chunks[-1]
    candidate = {**last["candidates"][0], "content": {"parts": parts, "role": "model"}}
    return {**last, "candidates": [candidate]}


def model_resource(spec: ModelSpec) -> dict:
    """One entry of ``GET /v1beta/models`` as Google lists it."""
    return {"name": f"models/{spec.model_id}", "version": "001", "displayName": spec.label,
            "description": f"{spec.label} image generation and editing.",
            "inputTokenLimit": 131072 if spec.supports_thoughts else 32768, "outputTokenLimit": 32768,
            "supportedGenerationMethods": ["generateContent", "countTokens", "batchGenerateContent"],
            "temperature": 1.0, "topP": 0.95, "maxTemperature": 2.0, "thinking": spec.supports_thoughts}


def list_models(catalogue: Catalogue, extra: tuple[str, ...] = ()) -> dict:
    models = [model_resource(m) for m in catalogue]
    models += [model_resource(catalogue.resolve(mid)) for mid in extra if not catalogue.is_known(mid)]
    return {"models": models}
