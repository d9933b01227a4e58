"""Turn whatever went wrong into a Failure: a class, a plain message, and the raw detail kept."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from google.genai import errors as genai_errors

try:  # google-genai 3.x sends through httpx2, a fork with its own exception classes
    import httpx2
except ImportError:  # pragma: no cover - older SDKs use httpx alone
    httpx2 = httpx

from studio.redact import redact_text
from studio.results import PLAIN_MESSAGES, Failure, FailureKind

OUTPUT_BLOCK_REASONS = frozenset({
    "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_OTHER", "IMAGE_RECITATION", "SAFETY",
    "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
})
NO_IMAGE_REASONS = frozenset({"NO_IMAGE", "STOP", "MAX_TOKENS", "OTHER", "FINISH_REASON_UNSPECIFIED"})
_NO_QUOTA = re.compile(r"limit:\s*0\b")
_DELAY = re.compile(r"^([\d.]+)s$")


def _plain(kind: FailureKind, extra: str = "") -> str:
    return f"{PLAIN_MESSAGES[kind]} {extra}".strip()


def _error_details(exc: genai_errors.APIError) -> list[dict]:
    details = exc.details
    if isinstance(details, dict):
        details = details.get("error", {}).get("details", [])
    return [d for d in details or [] if isinstance(d, dict)]


def retry_delay_s(details: list[dict]) -> float | None:
    """The server's RetryInfo.retryDelay ("17s", "1.5s") in seconds, when it sent one."""
    for detail in details:
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DELAY.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _reasons(details: list[dict]) -> set[str]:
    return {str(d.get("reason")) for d in details if d.get("reason")}


def _classify_api_error(exc: genai_errors.APIError, secrets: tuple[str, ...]) -> Failure:
    code = int(exc.code or 0)
    message = redact_text(str(exc.message or ""), secrets)
    details = _error_details(exc)
    reasons = _reasons(details)
    detail = f"{code} {exc.status}: {message}"
    if "API_KEY_INVALID" in reasons or (code == 400 and "API key not valid" in message):
        kind, extra = FailureKind.INVALID_API_KEY, ""
    elif code == 401:
        kind, extra = FailureKind.TOKEN_EXPIRED, ""
    elif code == 403 and "ACCESS_TOKEN_SCOPE_INSUFFICIENT" in reasons:
        kind, extra = FailureKind.INSUFFICIENT_SCOPE, ""
    elif code == 403:
        kind, extra = FailureKind.PERMISSION, ""
    elif code == 404:
        kind, extra = FailureKind.NOT_FOUND, ""
    elif code == 408:
        kind, extra = FailureKind.TIMEOUT, ""
    elif code == 429:
        kind = FailureKind.QUOTA
        extra = ("This project has no quota at all for this model (limit: 0): free-tier keys cannot use it. "
                 "Enable billing on the project, or choose another model." if _NO_QUOTA.search(message) else "")
    elif code == 503:
        kind, extra = FailureKind.OVERLOADED, ""
    elif code >= 500:
        kind, extra = FailureKind.SERVER_ERROR, ""
    else:
        kind, extra = FailureKind.INVALID_REQUEST, f"Google said: {message}"
    return Failure(kind=kind, message=_plain(kind, extra), detail=detail, http_status=code,
                   retry_after_s=retry_delay_s(details) if code == 429 else None)


def classify_exception(exc: BaseException, secrets: tuple[str, ...] = ()) -> Failure:
    """A Failure for any exception raised while calling the API; never carries a secret."""
    if isinstance(exc, genai_errors.APIError):
        return _classify_api_error(exc, secrets)
    detail = redact_text(f"{type(exc).__name__}: {exc}", secrets)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | httpx.TimeoutException | httpx2.TimeoutException):
        return Failure(FailureKind.TIMEOUT, _plain(FailureKind.TIMEOUT), detail)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx2.RemoteProtocolError | httpx2.ReadError):
        return Failure(FailureKind.NETWORK, _plain(FailureKind.NETWORK, "The connection dropped mid-answer."),
                       detail)
    if isinstance(exc, httpx.TransportError | httpx2.TransportError | ConnectionError | OSError) \
            or _is_aiohttp_error(exc):
        return Failure(FailureKind.NETWORK, _plain(FailureKind.NETWORK), detail)
    if isinstance(exc, json.JSONDecodeError | ValueError | KeyError | TypeError):
        return Failure(FailureKind.MALFORMED, _plain(FailureKind.MALFORMED), detail)
    return Failure(FailureKind.SERVER_ERROR, _plain(FailureKind.SERVER_ERROR), detail)


def _is_aiohttp_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("aiohttp")


def classify_answer(*, has_candidates: bool, block_reason: str | None, finish_reason: str | None,
                    finish_message: str | None, has_image: bool, text: str) -> Failure | None:
    """A Failure for a 200 answer that carries no usable image, or None when it has one."""
    if block_reason:
        return Failure(FailureKind.PROMPT_BLOCKED, _plain(FailureKind.PROMPT_BLOCKED, f"(Reason: {block_reason}.)"),
                       detail=f"promptFeedback.blockReason={block_reason}", block_reason=block_reason)
    if has_image:
        return None
    if not has_candidates:
        return Failure(FailureKind.MALFORMED, _plain(FailureKind.MALFORMED), detail="answer had no candidates")
    if finish_reason in OUTPUT_BLOCK_REASONS:
        return Failure(FailureKind.OUTPUT_BLOCKED,
                       _plain(FailureKind.OUTPUT_BLOCKED, f"(Reason: {finish_reason}.)"),
                       detail=finish_message or finish_reason, finish_reason=finish_reason)
    said = f'The model said: "{text.strip()[:300]}"' if text.strip() else ""
    return Failure(FailureKind.NO_IMAGE, _plain(FailureKind.NO_IMAGE, said),
                   detail=finish_message or f"finishReason={finish_reason}", finish_reason=finish_reason)
