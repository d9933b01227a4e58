"""``:embedContent`` and ``:batchEmbedContents``: deterministic vectors that carry some meaning, offline.

Words alone would not do: "a vehicle waiting in the rain after dark" must sit nearer "a red scooter parked on a
rainy street at night" than "a bowl of lemons on a wooden table". So a text vector is the sum of fixed random
directions for the *concepts* its words belong to (a small built-in table of related words, matched on word
stems) plus a weaker direction per word; an image adds a projection of its colour histogram, so similar
pictures are near. Vectors are unit length; ``outputDimensionality`` keeps the first N values and renormalises
(Matryoshka-style, as Google's models do). Shapes follow google-genai 3.6.1: the Gemini API SDK always posts
``{model}:batchEmbedContents`` with ``requests[] {model, content, outputDimensionality, taskType, title}``;
the answer is ``{"embeddings": [{"values": [...]}], "usageMetadata": {...}}``.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import io
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from studio.embedding_spec import EmbeddingSpec
from studio.emulator import errors
from studio.emulator.input_images import decode_base64

# related words, by concept; a word matches a concept when their stems agree
CONCEPTS: dict[str, tuple[str, ...]] = {
    "vehicle": ("vehicle", "car", "scooter", "moped", "motorbike", "motorcycle", "bike", "bicycle", "truck", "bus",
                "van", "taxi", "cab", "tram", "train", "automobile", "jeep", "vespa", "wheel", "parked", "parking",
                "drive", "driving", "ride", "riding", "traffic"),
    "night": ("night", "dark", "darkness", "evening", "midnight", "nocturnal", "moon", "moonlit", "neon", "dusk",
              "nighttime", "starry", "stars", "lamp", "streetlight", "late"),
    "rain": ("rain", "rainy", "wet", "storm", "stormy", "drizzle", "puddle", "umbrella", "downpour", "shower",
             "damp", "raindrop"),
    "street": ("street", "road", "city", "alley", "avenue", "urban", "sidewalk", "pavement", "town", "downtown",
               "crossing", "lane", "waiting", "corner"),
    "food": ("food", "bowl", "lemon", "fruit", "apple", "orange", "banana", "plate", "meal", "kitchen", "bread",
             "cake", "soup", "breakfast", "dinner", "lunch", "vegetable", "citrus", "lime"),
    "furniture": ("table", "wooden", "wood", "chair", "desk", "shelf", "counter", "oak"),
    "animal": ("animal", "cat", "dog", "kitten", "puppy", "bird", "horse", "fox", "pet", "wolf", "rabbit", "owl"),
    "nature": ("forest", "tree", "mountain", "river", "lake", "meadow", "field", "flower", "garden", "grass",
               "valley", "woods", "landscape", "hill"),
    "sea": ("sea", "ocean", "beach", "wave", "shore", "coast", "sand", "island", "boat", "ship", "sail", "harbor"),
    "sky": ("sky", "cloud", "sunset", "sunrise", "sun", "sunny", "daylight", "bright", "morning", "noon"),
    "person": ("person", "man", "woman", "child", "girl", "boy", "portrait", "face", "people", "astronaut",
               "knight", "wizard", "chef", "dancer"),
    "building": ("building", "house", "castle", "tower", "skyscraper", "church", "cabin", "bridge", "palace"),
    "space": ("space", "planet", "galaxy", "nebula", "rocket", "orbit", "astronaut", "cosmic", "mars"),
    "winter": ("winter", "snow", "snowy", "ice", "frozen", "cold", "frost", "christmas"),
    "red": ("red", "crimson", "scarlet", "ruby"),
    "yellow": ("yellow", "golden", "gold", "lemon"),
    "blue": ("blue", "azure", "navy", "teal"),
    "green": ("green", "emerald", "lime"),
}
STOP_WORDS = frozenset(["a", "an", "the", "at", "on", "in", "of", "with", "and", "or", "after", "before", "to", "for", "by", "from", "into", "over", "under", "is", "are", "it", "its", "this", "that", "very", "some"])
CONCEPT_WEIGHT, WORD_WEIGHT = 1.0, 0.35
TEXT_SHARE, IMAGE_SHARE = 0.85, 0.5  # prompt and picture in one vector: meaning leads, colour helps
_WORD = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A crude English stem: "rainy", "raining", "rained", "rains" all give "rain"."""
    for suffix in ("ing", "ed", "es", "y", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@functools.cache
def _concepts_by_stem() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for concept, words in CONCEPTS.items():
        for word in words:
            table.setdefault(stem(word), []).append(concept)
    return {k: tuple(v) for k, v in table.items()}


@functools.cache
def _direction(name: str, dims: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    vec = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
    return vec / np.linalg.norm(vec)


@functools.cache
def _projection(bins: int, dims: int) -> np.ndarray:
    return np.random.default_rng(7).standard_normal((bins, dims)).astype(np.float32) / math.sqrt(bins)


def text_vector(text: str, dims: int) -> np.ndarray:
    """The sum of the text's concept and word directions (unit length; zeros for no word)."""
    vec = np.zeros(dims, dtype=np.float32)
    by_stem = _concepts_by_stem()
    for word in _WORD.findall(text.lower()):
        if word in STOP_WORDS:
            continue
        root = stem(word)
        for concept in by_stem.get(root, ()):
            vec += CONCEPT_WEIGHT * _direction(f"concept:{concept}", dims)
        vec += WORD_WEIGHT * _direction(f"word:{root}", dims)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


def image_vector(data: bytes, dims: int) -> np.ndarray:
    """A 4x4x4 colour histogram of the picture, projected: similar colours give near vectors."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            small = np.asarray(img.convert("RGB").resize((32, 32)), dtype=np.int32)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise errors.unable_to_process_image() from exc
    index = (small[..., 0] // 64) * 16 + (small[..., 1] // 64) * 4 + small[..., 2] // 64
    hist = np.bincount(index.ravel(), minlength=64).astype(np.float32)
    hist = np.sqrt(hist / hist.sum()) - 1.0 / 8.0  # centred: two pictures share only the colours they share
    vec = hist @ _projection(64, dims)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


def _parts(content: object, where: str) -> tuple[str, list[bytes]]:
    if not isinstance(content, Mapping):
        raise errors.bad_request(f"* BatchEmbedContentsRequest.{where}.content: content is required.",
                                 f"{where}.content")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise errors.bad_request(f"* BatchEmbedContentsRequest.{where}.content.parts: contents.parts must not be "
                                 "empty.", f"{where}.content.parts")
    texts, images = [], []
    for part in parts:
        if not isinstance(part, Mapping):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        blob = part.get("inlineData") or part.get("inline_data")
        if isinstance(blob, Mapping):
            try:
                images.append(decode_base64(str(blob.get("data", ""))))
            except (binascii.Error, ValueError) as exc:
                raise errors.bad_request(f"Invalid value at '{where}.content.parts.inline_data.data' (TYPE_BYTES), "
                                         "Base64 decoding failed.", f"{where}.content.parts.inline_data.data") from exc
    if not "".join(texts).strip() and not images:
        raise errors.bad_request("The request contains no text and no image to embed.", f"{where}.content.parts")
    return " ".join(texts), images


def embed_one(request: Mapping[str, Any], spec: EmbeddingSpec, where: str) -> tuple[list[float], int, int]:
    """One request's vector and its (text, image) token counts; Google's 400s for what it refuses."""
    dims = request.get("outputDimensionality", spec.max_dimensions)
    if isinstance(dims, bool) or not isinstance(dims, int) or not spec.min_dimensions <= dims <= spec.max_dimensions:
        raise errors.bad_request(f"* BatchEmbedContentsRequest.{where}.output_dimensionality: must be between "
                                 f"{spec.min_dimensions} and {spec.max_dimensions}, got {dims}.",
                                 f"{where}.output_dimensionality")
    text, images = _parts(request.get("content"), where)
    if len(images) > spec.max_images:
        raise errors.bad_request(f"* BatchEmbedContentsRequest.{where}.content: at most {spec.max_images} images "
                                 "are supported per request.", f"{where}.content")
    text_tokens = spec.text_tokens(text) if text.strip() else 0
    if text_tokens > spec.input_token_limit:
        raise errors.bad_request(f"The input token count ({text_tokens}) exceeds the maximum number of tokens "
                                 f"allowed ({spec.input_token_limit}).", f"{where}.content")
    full = TEXT_SHARE * text_vector(text, spec.max_dimensions)
    for data in images:
        full = full + IMAGE_SHARE * image_vector(data, spec.max_dimensions) / len(images)
    vec = full[:dims]
    norm = float(np.linalg.norm(vec))
    vec = vec / norm if norm else vec
    return [round(float(v), 7) for v in vec], text_tokens, spec.image_tokens * len(images)


def _model_name(model_id: str) -> str:
    return f"models/{model_id}"


def batch_embed(body: Mapping[str, Any], spec: EmbeddingSpec) -> dict:
    """``batchEmbedContents``: every request must name the URL's model; at most ``max_batch`` requests."""
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise errors.bad_request("* BatchEmbedContentsRequest.requests: requests must not be empty.", "requests")
    if len(requests) > spec.max_batch:
        raise errors.bad_request(f"* BatchEmbedContentsRequest.requests: at most {spec.max_batch} requests can be "
                                 "in one batch.", "requests")
    vectors, text_tokens, image_tokens = [], 0, 0
    for i, request in enumerate(requests):
        where = f"requests[{i}]"
        if not isinstance(request, Mapping):
            raise errors.bad_request(f"Invalid JSON payload received. '{where}' must be an object.", where)
        model = request.get("model")
        if model not in (None, _model_name(spec.model_id), spec.model_id):
            raise errors.bad_request(f"* BatchEmbedContentsRequest.{where}.model: Model in the request "
                                     f"({model}) does not match the model of the batch "
                                     f"({_model_name(spec.model_id)}).", f"{where}.model")
        values, text_n, image_n = embed_one(request, spec, where)
        vectors.append({"values": values})
        text_tokens += text_n
        image_tokens += image_n
    return {"embeddings": vectors, "usageMetadata": usage(text_tokens, image_tokens)}


def single_embed(body: Mapping[str, Any], spec: EmbeddingSpec) -> dict:
    """``embedContent``: one content, the same rules; answers ``{"embedding": {"values": [...]}}``."""
    values, text_n, image_n = embed_one(body, spec, "request")
    return {"embedding": {"values": values}, "usageMetadata": usage(text_n, image_n)}


def usage(text_tokens: int, image_tokens: int) -> dict:
    details = [{"modality": "TEXT", "tokenCount": text_tokens}] if text_tokens else []
    if image_tokens:
        details.append({"modality": "IMAGE", "tokenCount": image_tokens})
    return {"promptTokenCount": text_tokens + image_tokens, "totalTokenCount": text_tokens + image_tokens,
            "promptTokensDetails": details}


def all_text(body: Mapping[str, Any]) -> str:
    """Every text of a request (single or batch), for the fault markers."""
    given = body.get("requests")
    requests: list = given if isinstance(given, list) else [body]
    texts = []
    for request in requests:
        content = request.get("content") if isinstance(request, Mapping) else None
        for part in (content or {}).get("parts", []) if isinstance(content, Mapping) else []:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return " ".join(texts)

