"""Turns a generateContent request into Google's answer: validation, image, usage, faults."""

from __future__ import annotations

import base64
import hashlib
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from PIL import Image

from studio.catalogue import Catalogue, ModelSpec
from studio.emulator import errors
from studio.emulator.faults import Fault, strip_markers
from studio.emulator.render import render

INPUT_IMAGE_TOKENS = 560  # tokens billed per reference image (Gemini 3 default media resolution)
THOUGHT_TOKENS = 196  # thinking models always think a little, even when thoughts are not returned
_BLOCK_MESSAGE = ("Unable to show the generated image. The image was filtered out because it violated "
                  "Google's Generative AI Prohibited Use policy. You will not be charged for blocked images. "
                  "Try rephrasing the prompt. If you think this was an error, send feedback.")
_NO_IMAGE_MESSAGE = "Unable to generate an image for this prompt. Try rephrasing the prompt to ask for an image."


def pick(obj: Mapping | None, camel: str) -> object:
    """A field by its camelCase or snake_case name: Google's parser accepts both."""
    if not obj:
        return None
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake)


@dataclass
class ParsedRequest:
    """The parts of a generateContent body the emulator acts on."""

    prompt: str
    images: list[bytes]
    aspect_ratio: str | None
    image_size: str | None
    seed: int | None
    include_thoughts: bool
    candidate_count: int
    output_mime: str | None
    contents: list = field(default_factory=list)


def parse(body: Mapping) -> ParsedRequest:
    contents = pick(body, "contents") or []
    if isinstance(contents, dict):
        contents = [contents]
    if not contents:
        raise errors.bad_request("* GenerateContentRequest.contents: contents is not specified", "contents")
    last = contents[-1]
    texts, images = [], []
    for part in pick(last, "parts") or []:
        if pick(part, "thought"):
            continue
        if (text := pick(part, "text")) is not None:
            texts.append(str(text))
        inline = pick(part, "inlineData")
        if inline:
            try:
                images.append(decode_base64(str(pick(inline, "data") or "")))
            except (ValueError, TypeError) as exc:
                raise errors.bad_request("Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), "
                                         "Base64 decoding failed.") from exc
    config = pick(body, "generationConfig") or {}
    image_config = pick(config, "imageConfig") or {}
    thinking = pick(config, "thinkingConfig") or {}
    output_options = pick(image_config, "imageOutputOptions") or {}
    seed = pick(config, "seed")
    return ParsedRequest(
        prompt="\n".join(texts), images=images,
        aspect_ratio=pick(image_config, "aspectRatio"), image_size=pick(image_config, "imageSize"),
        seed=int(seed) if seed is not None else None,
        include_thoughts=bool(pick(thinking, "includeThoughts")),
        candidate_count=int(pick(config, "candidateCount") or 1),
        output_mime=pick(output_options, "mimeType"), contents=list(contents),
    )


def validate(req: ParsedRequest, spec: ModelSpec) -> None:
    """Refuse what Google refuses, with Google's wording."""
    if req.candidate_count > 1:
        raise errors.bad_request("Multiple candidates is not enabled for this model.",
                                 "generation_config.candidate_count")
    if req.aspect_ratio is not None and req.aspect_ratio not in spec.ratios:
        raise errors.bad_request(
            f"* GenerateContentRequest.generation_config.image_config.aspect_ratio: unsupported aspect ratio "
            f"'{req.aspect_ratio}'. Supported values are: {', '.join(spec.ratios)}.",
            "generation_config.image_config.aspect_ratio")
    if req.image_size is not None and not spec.size_is_ignored and req.image_size not in spec.sizes:
        raise errors.bad_request(
            f"* GenerateContentRequest.generation_config.image_config.image_size: unsupported image size "
            f"'{req.image_size}'. Supported values are: {', '.join(spec.sizes)} (case-sensitive).",
            "generation_config.image_config.image_size")
    if len(req.images) > spec.max_references:
        raise errors.bad_request(
            f"Too many input images: {len(req.images)}. The maximum number of images for "
            f"models/{spec.model_id} is {spec.max_references}.", "contents.parts")
    if spec.supports_thoughts:
        _check_signatures(req.contents)


def _check_signatures(contents: list) -> None:
    """Gemini 3 needs every image part of an earlier model turn sent back with its signature."""
    for ci, content in enumerate(contents):
        if pick(content, "role") != "model":
            continue
        for pi, part in enumerate(pick(content, "parts") or []):
            if pick(part, "inlineData") and not pick(part, "thoughtSignature") and not pick(part, "thought"):
                raise errors.bad_request(
                    f"Image part is missing a thought_signature in content position {ci + 1}, "
                    f"part position {pi + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
                    "for more details.")


def output_pixels(req: ParsedRequest, spec: ModelSpec) -> tuple[int, int]:
    """Official pixels; with no ratio, follow the first input image, else 1:1."""
    size = req.image_size if req.image_size in spec.sizes else spec.default_size
    ratio = req.aspect_ratio
    if ratio is None:
        ratio = _nearest_ratio(req.images[0], spec) if req.images else "1:1"
    return spec.pixel_size(ratio, size)


def _nearest_ratio(data: bytes, spec: ModelSpec) -> str:
    try:
        with Image.open(io.BytesIO(data)) as img:
            actual = img.width / img.height
    except Exception:
        return "1:1"

    def distance(ratio: str) -> float:
        w, h = (int(x) for x in ratio.split(":"))
        return abs(math.log(actual / (w / h)))

    return min(spec.ratios, key=distance)


def decode_base64(text: str) -> bytes:
    """Google's parser takes standard and URL-safe base64, padded or not (the SDK sends URL-safe)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _signature(seed_text: str) -> str:
    return _b64(hashlib.sha256(seed_text.encode()).digest() + b"emulator-thought-signature")


def _response_id(req: ParsedRequest, nonce: int) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"{req.prompt}|{req.seed}|{nonce}".encode()).digest()[:15]).decode()


def usage(req: ParsedRequest, spec: ModelSpec, image_tokens: int, text_tokens: int) -> dict:
    prompt_text_tokens = max(1, math.ceil(len(req.prompt) / 4))
    prompt_details = [{"modality": "TEXT", "tokenCount": prompt_text_tokens}]
    if req.images:
        prompt_details.append({"modality": "IMAGE", "tokenCount": INPUT_IMAGE_TOKENS * len(req.images)})
    prompt_tokens = sum(d["tokenCount"] for d in prompt_details)
    candidate_details = [d for d in ({"modality": "IMAGE", "tokenCount": image_tokens},
                                     {"modality": "TEXT", "tokenCount": text_tokens}) if d["tokenCount"]]
    candidates = sum(d["tokenCount"] for d in candidate_details)
    thoughts = THOUGHT_TOKENS if spec.supports_thoughts else 0
    out = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": candidates,
           "totalTokenCount": prompt_tokens + candidates + thoughts,
           "promptTokensDetails": prompt_details}
    if candidate_details:
        out["candidatesTokensDetails"] = candidate_details
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    return out


def answer_chunks(req: ParsedRequest, spec: ModelSpec, faults: list[Fault], nonce: int) -> list[dict]:
    """The answer as the chunks a stream would carry; generateContent merges them."""
    names = {f.name for f in faults}
    base = {"modelVersion": spec.model_id, "responseId": _response_id(req, nonce)}
    if "prompt_blocked" in names:
        return [{"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]},
                 "usageMetadata": usage(req, spec, 0, 0), **base}]
    for name, reason, message in (("image_safety", "IMAGE_SAFETY", _BLOCK_MESSAGE),
                                  ("no_image", "NO_IMAGE", _NO_IMAGE_MESSAGE)):
        if name in names:
            return [{"candidates": [{"content": {"role": "model"}, "finishReason": reason,
                                     "finishMessage": message, "index": 0}],
                     "usageMetadata": usage(req, spec, 0, 0), **base}]
    drawn_prompt = strip_markers(req.prompt)
    chunks: list[dict] = []
    if req.include_thoughts and spec.supports_thoughts:
        chunks.append(_chunk([{"text": f"**Planning the picture**\nComposing \"{drawn_prompt[:80]}\" "
                                       f"with {len(req.images)} reference image(s).", "thought": True}], base))
        for i in range(2):
            draft = render(drawn_prompt, req.seed, 256, 256, req.images, "PNG", tag=f"#draft{i}")
            chunks.append(_chunk([{"inlineData": {"mimeType": "image/png", "data": _b64(draft)},
                                   "thought": True}], base))
    if "text_only" in names:
        text = f"I can describe it instead: {drawn_prompt[:200]}"
        chunks.append(_chunk([{"text": text, "thoughtSignature": _signature(text)}], base, finish="STOP",
                             usage_meta=usage(req, spec, 0, max(1, len(text) // 4))))
        return chunks
    width, height = output_pixels(req, spec)
    fmt = "JPEG" if (req.output_mime == "image/jpeg" or "wrong_mime" in names) else "PNG"
    declared = "image/png" if "wrong_mime" in names else f"image/{fmt.lower()}"
    data = render(drawn_prompt, req.seed, width, height, req.images, fmt)
    text = "Here is the image you asked for."
    chunks.append(_chunk([{"text": text, "thoughtSignature": _signature(text)}], base))
    chunks.append(_chunk([{"inlineData": {"mimeType": declared, "data": _b64(data)},
                           "thoughtSignature": _signature(drawn_prompt)}], base, finish="STOP",
                         usage_meta=usage(req, spec, spec.output_tokens(req.image_size or spec.default_size),
                                          len(text) // 4)))
    return chunks


def _chunk(parts: list[dict], base: dict, finish: str | None = None, usage_meta: dict | None = None) -> dict:
    candidate: dict = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out = {"candidates": [candidate], **base}
    if usage_meta:
        out["usageMetadata"] = usage_meta
    return out


def merge(chunks: list[dict]) -> dict:
    """What generateContent returns: every chunk's parts in one candidate."""
    if len(chunks) == 1:
        return chunks[0]
    parts = [p for c in chunks for cand in c.get("candidates", []) for p in cand["content"].get("parts", [])]
    last = chunks[-1]
    candidate = {**last["candidates"][0], "content": {"parts": parts, "role": "model"}}
    return {**last, "candidates": [candidate]}


def list_models(catalogue: Catalogue, extra: tuple[str, ...] = ()) -> dict:
    models = [{"name": f"models/{m.model_id}", "version": "001", "displayName": m.label,
               "description": f"{m.label} image generation and editing.",
               "inputTokenLimit": 131072 if m.key != "flash" else 32768, "outputTokenLimit": 32768,
               "supportedGenerationMethods": ["generateContent", "countTokens", "batchGenerateContent"],
               "temperature": 1.0, "topP": 0.95, "maxTemperature": 2.0, "thinking": m.supports_thoughts}
              for m in catalogue]
    models += [{"name": f"models/{mid}", "version": "001", "displayName": mid,
                "supportedGenerationMethods": ["generateContent"]} for mid in extra]
    return {"models": models}
