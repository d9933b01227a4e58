"""Reads a generateContent body the way Google's parser does, and refuses what Google refuses.

Google accepts both camelCase and snake_case field names (the SDK sends some of each), and
standard or URL-safe base64. Messages and field paths copy the live API's wording.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from PIL import Image

from studio.catalogue import ModelSpec
from studio.emulator import errors

PAYLOAD_LIMIT = 100 * 1024 * 1024  # inline request limit since 2026-01


def pick(obj: object, camel: str) -> object:
    """A field by its camelCase or snake_case name: Google's parser accepts both."""
    if not isinstance(obj, Mapping):
        return None
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake)


@dataclass
class ParsedRequest:
    """The parts of a generateContent body the emulator acts on."""

    prompt: str  # text of the last (current) turn
    images: list[bytes]  # inline images of the last turn, in order: the references
    aspect_ratio: str | None
    image_size: str | None
    seed: int | None
    include_thoughts: bool
    candidate_count: int
    output_mime: str | None
    modalities: tuple[str, ...] = ("TEXT", "IMAGE")
    all_text: str = ""  # every turn's text: what promptTokenCount is counted from
    all_images: int = 0  # every turn's input images (model turns' images are input too)
    contents: list = field(default_factory=list)


def decode_base64(text: str) -> bytes:
    """Google's parser takes standard and URL-safe base64, padded or not (the SDK sends URL-safe)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _parts(content: object) -> list:
    parts = pick(content, "parts") or []
    return parts if isinstance(parts, list) else []


def parse(body: Mapping) -> ParsedRequest:
    """Turn the JSON body into a ParsedRequest; 400 for what Google could not parse."""
    contents = pick(body, "contents") or []
    if isinstance(contents, Mapping):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise errors.bad_request("* GenerateContentRequest.contents: contents is not specified", "contents")
    texts, images, all_texts, all_images = [], [], [], 0
    for ci, content in enumerate(contents):
        current = ci == len(contents) - 1
        for part in _parts(content):
            if pick(part, "thought"):
                continue
            if (text := pick(part, "text")) is not None:
                all_texts.append(str(text))
                if current:
                    texts.append(str(text))
            inline = pick(part, "inlineData")
            if inline:
                all_images += 1
                if current:
                    images.append(_decode_inline(inline, ci, len(images)))
    config = pick(body, "generationConfig") or {}
    image_config = pick(config, "imageConfig") or {}
    thinking = pick(config, "thinkingConfig") or {}
    output_options = pick(image_config, "imageOutputOptions") or {}
    seed = pick(config, "seed")
    modalities = pick(config, "responseModalities") or ("TEXT", "IMAGE")
    try:
        return ParsedRequest(
            prompt="\n".join(texts), images=images,
            aspect_ratio=_opt_str(pick(image_config, "aspectRatio")),
            image_size=_opt_str(pick(image_config, "imageSize")),
            seed=int(seed) if seed is not None else None,  # type: ignore[call-overload]
            include_thoughts=bool(pick(thinking, "includeThoughts")),
            candidate_count=int(pick(config, "candidateCount") or 1),  # type: ignore[call-overload]
            output_mime=_opt_str(pick(output_options, "mimeType")),
            modalities=tuple(str(m).upper() for m in modalities),  # type: ignore[union-attr]
            all_text="\n".join(all_texts), all_images=all_images, contents=list(contents),
        )
    except (TypeError, ValueError) as exc:
        raise errors.bad_request(f"Invalid value in generation_config: {exc}", "generation_config") from exc


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _decode_inline(inline: object, content_index: int, image_index: int) -> bytes:
    try:
        return decode_base64(str(pick(inline, "data") or ""))
    except (ValueError, TypeError) as exc:
        raise errors.bad_request(
            f"Invalid value at 'contents[{content_index}].parts[{image_index}].inline_data.data' (TYPE_BYTES), "
            "Base64 decoding failed.", "contents.parts.inline_data.data") from exc


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
        check_signatures(req.contents)


def check_signatures(contents: list) -> None:
    """Gemini 3 needs every image part of an earlier model turn sent back with its signature."""
    for ci, content in enumerate(contents):
        if pick(content, "role") != "model":
            continue
        for pi, part in enumerate(_parts(content)):
            if pick(part, "inlineData") and not pick(part, "thoughtSignature") and not pick(part, "thought"):
                raise errors.missing_signature(ci + 1, pi + 1)


def output_pixels(req: ParsedRequest, spec: ModelSpec) -> tuple[int, int]:
    """Official pixels; with no ratio, follow the first input image's nearest ratio, else 1:1."""
    size = req.image_size if req.image_size in spec.sizes else spec.default_size
    ratio = req.aspect_ratio
    if ratio is None:
        ratio = nearest_ratio(req.images[0], spec) if req.images else "1:1"
    return spec.pixel_size(ratio, size)


def nearest_ratio(data: bytes, spec: ModelSpec) -> str:
    """The model's ratio closest (in log space, so 2:1 and 1:2 are equally far) to an image's."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            actual = img.width / img.height
    except Exception:  # an unreadable reference: Google answers square
        return "1:1"

    def distance(ratio: str) -> float:
        w, h = (int(x) for x in ratio.split(":"))
        return abs(math.log(actual / (w / h)))

    return min(spec.ratios, key=distance)
