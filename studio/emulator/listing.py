"""``GET /v1beta/models`` and ``GET /v1beta/models/{id}``: model resources and paging as Google does them.

Google pages ``models.list`` (``pageSize`` default 50, at most 1000; ``nextPageToken`` while more
remain), and the SDK's pager follows the token. Only the methods the emulator serves are
advertised in ``supportedGenerationMethods``. The image models and their listing text come from the
registry (studio/models.toml); a few text models (text_models.toml) are listed after them, as a real
credential's list is mostly text models.
"""

from __future__ import annotations

import base64
import binascii
import functools
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from studio.catalogue import Catalogue, ModelSpec
from studio.embedding_spec import all_specs as embedding_specs
from studio.emulator import errors

TEXT_MODELS_FILE = Path(__file__).with_name("text_models.toml")

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
SERVED_METHODS = ["generateContent", "countTokens"]  # streamGenerateContent is implied, as at Google


@functools.cache
def text_models() -> Mapping[str, Mapping[str, Any]]:
    """The text models the emulator lists (text_models.toml), by ID."""
    with TEXT_MODELS_FILE.open("rb") as handle:
        return tomllib.load(handle)["models"]


def model_resource(spec: ModelSpec) -> dict:
    """One entry of ``GET /v1beta/models`` as Google lists it (description and limits from the registry)."""
    listed = spec.listing
    return {"name": f"models/{spec.model_id}", "version": "001", "displayName": spec.label,
            "description": str(listed.get("description") or f"{spec.label} image generation and editing."),
            "inputTokenLimit": int(listed.get("input_token_limit", 131072)),
            "outputTokenLimit": int(listed.get("output_token_limit", 32768)),
            "supportedGenerationMethods": list(SERVED_METHODS),
            "temperature": 1.0, "topP": 0.95, "maxTemperature": 2.0, "thinking": spec.supports_thoughts}


def text_resource(model_id: str, facts: Mapping[str, Any] | None = None) -> dict:
    """A text model's entry: it serves generateContent, and its listing says nothing of making images."""
    facts = facts or {"display_name": "Gemini text model", "description": "Reads text and pictures and "
                      "describes images in text.", "methods": ["generateContent", "countTokens"]}
    return {"name": f"models/{model_id}", "version": "001", "displayName": facts["display_name"],
            "description": facts["description"], "inputTokenLimit": int(facts.get("input_token_limit", 1048576)),
            "outputTokenLimit": int(facts.get("output_token_limit", 65536)),
            "supportedGenerationMethods": list(facts["methods"]), "temperature": 1.0, "topP": 0.95,
            "maxTemperature": 2.0, "thinking": bool(facts.get("thinking", True))}


def all_models(catalogue: Catalogue, extra: tuple[str, ...] = (), lineup: Iterable[ModelSpec] | None = None,
               extra_text: tuple[str, ...] = ()) -> list[dict]:
    """The lineup's image models, the extra IDs (listed as image models), then the text models."""
    served = list(catalogue.offered() if lineup is None else lineup)
    ids = {spec.model_id for spec in served}
    models = [model_resource(m) for m in served]
    models += [model_resource(catalogue.resolve(mid)) for mid in extra if mid not in ids]
    models += [text_resource(mid, facts) for mid, facts in text_models().items()]
    models += [embedding_resource(spec.model_id) for spec in embedding_specs()]
    return models + [text_resource(mid) for mid in extra_text]


def embedding_ids() -> frozenset[str]:
    """The registry's embedding models (studio/models.toml [embedding_models])."""
    return frozenset(spec.model_id for spec in embedding_specs())


def embedding_resource(model_id: str) -> dict:
    """An embedding model's entry: embedContent, batchEmbedContents and countTokens."""
    spec = next(s for s in embedding_specs() if s.model_id == model_id)
    return text_resource(spec.model_id, {"display_name": spec.label, "description": spec.description,
                                         "methods": ["embedContent", "batchEmbedContents", "countTokens"],
                                         "input_token_limit": spec.input_token_limit, "output_token_limit": 1,
                                         "thinking": False})


def resource_for(catalogue: Catalogue, model_id: str) -> dict:
    """``GET /v1beta/models/{id}`` for a model the emulator serves."""
    if model_id in text_models():
        return text_resource(model_id, text_models()[model_id])
    if model_id in embedding_ids():
        return embedding_resource(model_id)
    return model_resource(catalogue.resolve(model_id))


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "offset" or not value.isdigit():
            raise ValueError(token)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise errors.bad_request("Invalid page token.", "page_token") from exc


def list_models(catalogue: Catalogue, extra: tuple[str, ...] = (), page_size: str | None = None,
                page_token: str | None = None, lineup: Iterable[ModelSpec] | None = None,
                extra_text: tuple[str, ...] = ()) -> dict:
    """One page of models; ``nextPageToken`` only while more remain (the SDK pager stops without it)."""
    try:
        size = int(page_size) if page_size else DEFAULT_PAGE_SIZE
    except ValueError as exc:
        raise errors.bad_request(f"Invalid value at 'page_size' (TYPE_INT32), \"{page_size}\"", "page_size") from exc
    size = DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    start = _offset(page_token) if page_token else 0
    models = all_models(catalogue, extra, lineup, extra_text)
    page: dict = {"models": models[start:start + size]}
    if start + size < len(models):
        page["nextPageToken"] = _token(start + size)
    return page
