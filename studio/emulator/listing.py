"""``GET /v1beta/models`` and ``GET /v1beta/models/{id}``: model resources and paging as Google does them.

Google pages ``models.list`` (``pageSize`` default 50, at most 1000; ``nextPageToken`` while more
remain), and the SDK's pager follows the token. Only the methods the emulator serves are
advertised in ``supportedGenerationMethods``.
"""

from __future__ import annotations

import base64
import binascii

from studio.catalogue import Catalogue, ModelSpec
from studio.emulator import errors

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
SERVED_METHODS = ["generateContent", "countTokens"]  # streamGenerateContent is implied, as at Google


def model_resource(spec: ModelSpec) -> dict:
    """One entry of ``GET /v1beta/models`` as Google lists it."""
    return {"name": f"models/{spec.model_id}", "version": "001", "displayName": spec.label,
            "description": f"{spec.label} image generation and editing.",
            "inputTokenLimit": 131072 if spec.supports_thoughts else 32768, "outputTokenLimit": 32768,
            "supportedGenerationMethods": list(SERVED_METHODS),
            "temperature": 1.0, "topP": 0.95, "maxTemperature": 2.0, "thinking": spec.supports_thoughts}


def all_models(catalogue: Catalogue, extra: tuple[str, ...] = ()) -> list[dict]:
    models = [model_resource(m) for m in catalogue]
    return models + [model_resource(catalogue.resolve(mid)) for mid in extra if not catalogue.is_known(mid)]


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
                page_token: str | None = None) -> dict:
    """One page of models; ``nextPageToken`` only while more remain (the SDK pager stops without it)."""
    try:
        size = int(page_size) if page_size else DEFAULT_PAGE_SIZE
    except ValueError as exc:
        raise errors.bad_request(f"Invalid value at 'page_size' (TYPE_INT32), \"{page_size}\"", "page_size") from exc
    size = DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    start = _offset(page_token) if page_token else 0
    models = all_models(catalogue, extra)
    page: dict = {"models": models[start:start + size]}
    if start + size < len(models):
        page["nextPageToken"] = _token(start + size)
    return page
