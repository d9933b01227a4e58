"""Turn whatever went wrong into a Failure: a class, a plain message, and the raw detail kept.

What the SDK raises (google-genai 3.4.0, checked against the emulator):
- any non-200 answer: ``errors.ClientError`` (4xx) / ``errors.ServerError`` (5xx), both ``errors.APIError``
  carrying the error JSON in ``.details``;
- a 200 whose body is not JSON: ``json.JSONDecodeError`` (``errors.UnknownApiResponseError`` when streaming),
  both ``ValueError``;
- a connection cut mid-answer: ``httpx2.RemoteProtocolError`` (aiohttp errors when aiohttp is the transport);
- refused/reset connections: ``httpx2.ConnectError`` / ``ReadError`` or ``aiohttp.ClientConnectorError``.
"""

from __future__ import annotations

import asyncio
import json
import re
from types import ModuleType

import httpx
from google.genai import errors as genai_errors

from studio.redact import redact_json, redact_text
from studio.results import PLAIN_MESSAGES, Failure, FailureKind

httpx2: ModuleType  # one name for whichever module the SDK's transport errors come from
try:  # google-genai 3.x sends through httpx2, a fork with its own exception classes
    import httpx2
except ImportError:  # pragma: no cover - older SDKs use httpx alone
    httpx2 = httpx

OUTPUT_BLOCK_REASONS = frozenset({
    "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_OTHER", "IMAGE_RECITATION", "SAFETY",
    "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
})
BAD_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})
NO_QUOTA_EXTRA = ("This project has no quota at all for this model (limit: 0): free-tier keys cannot use it. "
                  "Enable billing on the project, or choose another model.")
_NO_QUOTA = re.compile(r"limit:\s*0\b")
_DELAY = re.compile(r"^\s*([\d.]+)s\s*$")
_DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx2.RemoteProtocolError, httpx2.ReadError)
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError, httpx.TimeoutException, httpx2.TimeoutException)
_TRANSPORT = (httpx.TransportError, httpx2.TransportError, ConnectionError, OSError)


def _plain(kind: FailureKind, extra: str = "") -> str:
    return f"{PLAIN_MESSAGES[kind]} {extra}".strip()


def error_details(exc: genai_errors.APIError) -> list[dict]:
    """The ``details`` list of Google's error JSON (ErrorInfo, RetryInfo, QuotaFailure...)."""
    body = exc.details
    if isinstance(body, dict):
        body = (body.get("error") or body).get("details", [])
    return [d for d in body or [] if isinstance(d, dict)] if isinstance(body, list) else []


def error_json(exc: BaseException, secrets: tuple[str, ...] = ()) -> dict:
    """Google's error body, redacted, for the history's response view ({} for non-API errors)."""
    if isinstance(exc, genai_errors.APIError) and isinstance(exc.details, dict):
        return redact_json(exc.details, secrets)  # type: ignore[return-value]
    return {}


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


def _is_no_quota(message: str, details: list[dict]) -> bool:
    """A "limit: 0" quota: the project may not use this model at all (free tier), so waiting is useless."""
    return bool(_NO_QUOTA.search(message) or _NO_QUOTA.search(json.dumps(details)))


def _api_kind(code: int, message: str, details: list[dict]) -> tuple[FailureKind, str]:
    reasons = _reasons(details)
    if reasons & BAD_KEY_REASONS or (code == 400 and "API key not valid" in message):
        return FailureKind.INVALID_API_KEY, ""
    if code == 401 and "ACCESS_TOKEN_TYPE_UNSUPPORTED" in reasons:
        return FailureKind.WRONG_TOKEN, ""
    if code == 401:
        return FailureKind.TOKEN_EXPIRED, ""
    if code == 403 and "ACCESS_TOKEN_SCOPE_INSUFFICIENT" in reasons:
        return FailureKind.INSUFFICIENT_SCOPE, ""
    if code == 403:
        return FailureKind.PERMISSION, f"Google said: {message}" if message else ""
    if code == 404:
        return FailureKind.NOT_FOUND, ""
    if code in (408, 504):
        return FailureKind.TIMEOUT, ""
    if code == 429:
        return FailureKind.QUOTA, NO_QUOTA_EXTRA if _is_no_quota(message, details) else ""
    if code == 503:
        return FailureKind.OVERLOADED, ""
    if code >= 500:
        return FailureKind.SERVER_ERROR, ""
    return FailureKind.INVALID_REQUEST, f"Google said: {message}" if message else ""


def _classify_api_error(exc: genai_errors.APIError, secrets: tuple[str, ...]) -> Failure:
    code = int(exc.code or 0)
    message = redact_text(str(exc.message or ""), secrets)
    details = error_details(exc)
    kind, extra = _api_kind(code, message, details)
    reasons = sorted(_reasons(details))
    detail = f"{code} {exc.status}: {message}" + (f" [{', '.join(reasons)}]" if reasons else "")
    return Failure(kind=kind, message=_plain(kind, extra), detail=redact_text(detail, secrets), http_status=code,
                   retry_after_s=retry_delay_s(details) if code == 429 else None)


def classify_exception(exc: BaseException, secrets: tuple[str, ...] = ()) -> Failure:
    """A Failure for any exception raised while calling the API; never carries a secret."""
    if isinstance(exc, genai_errors.APIError):
        return _classify_api_error(exc, secrets)
    detail = redact_text(f"{type(exc).__name__}: {exc}"[:2000], secrets)
    if isinstance(exc, _TIMEOUTS) or type(exc).__name__ == "ServerTimeoutError":
        return Failure(FailureKind.TIMEOUT, _plain(FailureKind.TIMEOUT), detail)
    if isinstance(exc, _DROPPED) or type(exc).__name__ in ("ServerDisconnectedError", "ClientPayloadError"):
        return Failure(FailureKind.NETWORK, _plain(FailureKind.NETWORK, "The connection dropped mid-answer."),
                       detail)
    if isinstance(exc, _TRANSPORT) or type(exc).__module__.startswith("aiohttp"):
        return Failure(FailureKind.NETWORK, _plain(FailureKind.NETWORK), detail)
    if isinstance(exc, ValueError | KeyError | TypeError | AttributeError):  # JSONDecodeError is a ValueError
        return Failure(FailureKind.MALFORMED, _plain(FailureKind.MALFORMED), detail)
    return Failure(FailureKind.SERVER_ERROR, _plain(FailureKind.SERVER_ERROR), detail)


def classify_answer(*, has_candidates: bool, block_reason: str | None, finish_reason: str | None,
                    finish_message: str | None, has_image: bool, text: str,
                    secrets: tuple[str, ...] = ()) -> Failure | None:
    """A Failure for a 200 answer that carries no usable image, or None when it has one."""
    said_by_google = redact_text(finish_message or "", secrets)
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
                       detail=said_by_google or str(finish_reason), finish_reason=finish_reason)
    said = redact_text(text.strip()[:300], secrets)
    extra = f'The model said: "{said}"' if said else ""
    return Failure(FailureKind.NO_IMAGE, _plain(FailureKind.NO_IMAGE, extra),
                   detail=said_by_google or f"finishReason={finish_reason}", finish_reason=finish_reason)
