"""Reads a generateContent body the way Google's parser does, and refuses what Google refuses.

Google accepts both camelCase and snake_case field names (the SDK sends some of each), and
standard or URL-safe base64; it refuses unknown fields (``schema.py``), empty turns and parts,
images it cannot decode, and modalities an image model cannot answer in. Messages and field
paths copy the live API's wording.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from studio.catalogue import ModelSpec
from studio.emulator import errors, schema
from studio.emulator.input_images import check_image, decode_base64, is_image_mime, nearest_ratio

MODALITIES = ("TEXT", "IMAGE", "AUDIO", "MODALITY_UNSPECIFIED")
_DATA_FIELDS = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
                "codeExecutionResult", "toolCall", "toolResponse")
_SIGNATURE_MARK = b"emulator-thought-signature"
_SIGNATURE_KEY = b"emulator-signature-check|"
_MODALITY_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality"


def pick(obj: object, camel: str) -> object:
    """A field by its camelCase or snake_case name: Google's parser accepts both."""
    if not isinstance(obj, Mapping):
        return None
    if camel in obj:
        return obj[camel]
    return obj.get(schema.snake(camel))


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
    output_quality: int | None = None  # Vertex's imageOutputOptions.compressionQuality (JPEG)
    modalities: tuple[str, ...] = ("TEXT", "IMAGE")
    all_text: str = ""  # every turn's text: what promptTokenCount is counted from
    all_images: int = 0  # every turn's input images (model turns' images are input too)
    contents: list = field(default_factory=list)
    search: bool = False  # tools ask for Google Search grounding (web search)
    image_search: bool = False  # googleSearch.searchTypes asks for image search
    thinking_level: str | None = None  # thinkingConfig.thinkingLevel, lower case ("minimal" … "high")
    service_tier: str = "standard"  # serviceTier: "standard", "flex" or "priority"
    store: bool | None = None  # store: whether Google keeps the request (None: not sent)
    edited_image: bytes | None = None  # the last model turn's final image: what an edit draws on


def _parts(content: object) -> list:
    parts = pick(content, "parts") or []
    return parts if isinstance(parts, list) else []


def _contents(body: Mapping) -> list:
    contents = pick(body, "contents") or []
    if isinstance(contents, Mapping):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise errors.bad_request("* GenerateContentRequest.contents: contents is not specified", "contents")
    for ci, content in enumerate(contents):
        if not _parts(content):
            raise errors.bad_request(f"* GenerateContentRequest.contents[{ci}].parts: contents.parts must not be "
                                     "empty.", f"contents[{ci}].parts")
        user = pick(content, "role") != "model"
        for pi, part in enumerate(_parts(content)):
            given = [f for f in _DATA_FIELDS if pick(part, f) is not None]
            if not given or (user and given == ["text"] and pick(part, "text") == ""):
                raise errors.bad_request(f"* GenerateContentRequest.contents[{ci}].parts[{pi}].data: required oneof "
                                         "field 'data' must have one initialized field", f"contents[{ci}].parts[{pi}].data")
    return contents


def parse(body: Mapping, vertex: bool = False, read_file: Callable[[str], bytes] | None = None) -> ParsedRequest:
    """Turn the JSON body into a ParsedRequest; 400 for what Google could not parse.

    ``read_file`` gives the bytes of an uploaded file a ``fileData.fileUri`` names (403 when unknown).
    """
    schema.check(body, vertex=vertex)
    contents = _contents(body)
    texts, images, all_texts, all_images = [], [], [], 0
    edited: bytes | None = None
    for ci, content in enumerate(contents):
        current, user = ci == len(contents) - 1, pick(content, "role") != "model"
        for pi, part in enumerate(_parts(content)):
            if pick(part, "thought"):
                continue
            if (text := pick(part, "text")) is not None:
                all_texts.append(str(text))
                if current:
                    texts.append(str(text))
            inline, file_data = pick(part, "inlineData"), pick(part, "fileData")
            if not (inline or file_data):
                continue
            mime = str(pick(inline or file_data, "mimeType") or "")
            if inline:
                data = _decode_inline(inline, ci, pi)
            elif read_file is not None:
                data = read_file(str(pick(file_data, "fileUri") or ""))
            else:
                continue
            all_images += 1
            if user and is_image_mime(mime):
                check_image(data)
            if not user and is_image_mime(mime):
                edited = data  # the latest model image: an edit of it is drawn on it
            if current:
                images.append(data)
    config = pick(body, "generationConfig") or {}
    image_config = pick(config, "imageConfig") or {}
    thinking = pick(config, "thinkingConfig") or {}
    output_options = pick(image_config, "imageOutputOptions") or {}
    seed = pick(config, "seed")
    try:
        return ParsedRequest(
            prompt="\n".join(texts), images=images,
            aspect_ratio=_opt_str(pick(image_config, "aspectRatio")),
            image_size=_opt_str(pick(image_config, "imageSize")),
            seed=int(seed) if seed is not None else None,  # type: ignore[call-overload]
            include_thoughts=bool(pick(thinking, "includeThoughts")),
            candidate_count=int(pick(config, "candidateCount") or 1),  # type: ignore[call-overload]
            output_mime=_opt_str(pick(output_options, "mimeType")),
            output_quality=_opt_int(pick(output_options, "compressionQuality")),
            modalities=_modalities(pick(config, "responseModalities")),
            all_text="\n".join(all_texts), all_images=all_images, contents=list(contents),
            search=_wants_search(pick(body, "tools")), edited_image=edited,
            image_search=_wants_image_search(pick(body, "tools")),
            thinking_level=_thinking_level(pick(thinking, "thinkingLevel")),
            service_tier=_service_tier(pick(body, "serviceTier")), store=_store(pick(body, "store")),
        )
    except (TypeError, ValueError) as exc:
        raise errors.bad_request(f"Invalid value in generation_config: {exc}", "generation_config") from exc


def _modalities(value: object) -> tuple[str, ...]:
    """Enum names in any case: peers send ``["Text", "Image"]`` (the cookbook did) and Google takes them."""
    if not value:
        return ("TEXT", "IMAGE")
    values = value if isinstance(value, list) else [value]
    for i, item in enumerate(values):
        if str(item).upper() not in MODALITIES:
            raise errors.bad_request(f"Invalid value at 'generation_config.response_modalities[{i}]' "
                                     f"({_MODALITY_TYPE}), \"{item}\"", f"generation_config.response_modalities[{i}]")
    return tuple(str(v).upper() for v in values)


def _search_types(tools: object) -> list[Mapping]:
    tools = tools if isinstance(tools, list) else [tools]
    found = []
    for tool in tools:
        search = pick(tool, "googleSearch")
        if isinstance(search, Mapping):
            types = pick(search, "searchTypes")
            found.append(types if isinstance(types, Mapping) else {})
    return found


def _wants_search(tools: object) -> bool:
    """Web search: googleSearch without searchTypes, or with webSearch in it (googleSearchRetrieval too)."""
    tools = tools if isinstance(tools, list) else [tools]
    if any(pick(tool, "googleSearchRetrieval") is not None for tool in tools if isinstance(tool, Mapping)):
        return True
    return any(not types or pick(types, "webSearch") is not None for types in _search_types(tools))


def _wants_image_search(tools: object) -> bool:
    return any(pick(types, "imageSearch") is not None for types in _search_types(tools))


_LEVEL_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig.ThinkingLevel"
_TIERS = ("unspecified", "standard", "flex", "priority")


def _thinking_level(value: object) -> str | None:
    """The enum by name, any case (the SDK sends "HIGH"); unknown names are Google's 400."""
    if value is None:
        return None
    name = str(value).upper()
    if name not in ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"):
        raise errors.bad_request(f"Invalid value at 'generation_config.thinking_config.thinking_level' "
                                 f"({_LEVEL_TYPE}), \"{value}\"", "generation_config.thinking_config.thinking_level")
    return None if name == "THINKING_LEVEL_UNSPECIFIED" else name.lower()


def _service_tier(value: object) -> str:
    if value is None:
        return "standard"
    tier = str(value).lower()
    if tier not in _TIERS:
        raise errors.bad_request(f"Invalid value at 'service_tier' (type.googleapis.com/google.ai.generativelanguage."
                                 f"v1beta.ServiceTier), \"{value}\"", "service_tier")
    return "standard" if tier == "unspecified" else tier


def _store(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise errors.bad_request(f"Invalid value at 'store' (TYPE_BOOL), {json.dumps(value)}", "store")


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _decode_inline(inline: object, content_index: int, part_index: int) -> bytes:
    try:
        return decode_base64(str(pick(inline, "data") or ""))
    except (ValueError, TypeError) as exc:
        raise errors.bad_request(
            f"Invalid value at 'contents[{content_index}].parts[{part_index}].inline_data.data' (TYPE_BYTES), "
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
    asked = [m for m in req.modalities if m != "MODALITY_UNSPECIFIED"]
    unsupported = "audio" if "AUDIO" in asked else "text" if asked and "IMAGE" not in asked else ""
    if unsupported:
        raise errors.bad_request(f"Model does not support the requested response modalities: {unsupported}",
                                 "generation_config.response_modalities")
    if req.search and "web_search" not in spec.grounding:
        raise errors.bad_request("Search Grounding is not supported.", "tools")
    if req.image_search and "image_search" not in spec.grounding:
        raise errors.bad_request("Image Search grounding is not supported for this model.",
                                 "tools.google_search.search_types.image_search")
    check_thinking_level(req, spec)
    if req.service_tier == "flex" and "flex" not in spec.lanes:
        raise errors.bad_request(f"Service tier flex is not supported for models/{spec.model_id}.", "service_tier")
    if len(req.images) > spec.max_references:
        raise errors.bad_request(
            f"Too many input images: {len(req.images)}. The maximum number of images for "
            f"models/{spec.model_id} is {spec.max_references}.", "contents.parts")
    if spec.supports_thoughts:
        check_signatures(req.contents)


def check_thinking_level(req: ParsedRequest, spec: ModelSpec) -> None:
    """A thinking level the model lacks is 400 (Lite takes minimal or high; Pro and Nano Banana take none)."""
    if req.thinking_level is None:
        return
    field = "generation_config.thinking_config.thinking_level"
    if not spec.thinking_levels:
        raise errors.bad_request(f"* GenerateContentRequest.{field}: thinking level is not supported by "
                                 f"models/{spec.model_id}.", field)
    if req.thinking_level not in spec.thinking_levels:
        supported = ", ".join(level.upper() for level in spec.thinking_levels)
        raise errors.bad_request(f"* GenerateContentRequest.{field}: unsupported thinking level "
                                 f"'{req.thinking_level.upper()}'. Supported values are: {supported}.", field)


def check_signatures(contents: list) -> None:
    """Gemini 3 needs every image part of an earlier model turn sent back with its signature, unaltered."""
    for ci, content in enumerate(contents):
        if pick(content, "role") != "model":
            continue
        for pi, part in enumerate(_parts(content)):
            sent = pick(part, "thoughtSignature")
            if pick(part, "inlineData") and not sent and not pick(part, "thought"):
                raise errors.missing_signature(ci + 1, pi + 1)
            if sent and not signature_is_genuine(sent):
                raise errors.corrupted_signature()


def signed_bytes(payload: bytes) -> bytes:
    """A signature's bytes: the payload, a check over it and a mark (66 bytes: base64 without unused bits,
    so changing any character of the text changes the bytes)."""
    check = hashlib.sha256(_SIGNATURE_KEY + payload[:32]).digest()[:8]
    return payload[:32] + check + _SIGNATURE_MARK


def signature_is_genuine(sent: object) -> bool:
    """True for a signature the emulator issued, in either base64 alphabet (the SDK sends URL-safe)."""
    try:
        data = decode_base64(str(sent))
    except (ValueError, TypeError):
        return False
    return len(data) == 66 and signed_bytes(data[:32]) == data


def output_pixels(req: ParsedRequest, spec: ModelSpec) -> tuple[int, int]:
    """Official pixels; with no ratio, follow the first input image's nearest ratio, else 1:1."""
    size = req.image_size if req.image_size in spec.sizes else spec.default_size
    ratio = req.aspect_ratio
    if ratio is None:
        ratio = nearest_ratio(req.images[0], spec) if req.images else "1:1"
    return spec.pixel_size(ratio, size)
