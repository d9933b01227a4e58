"""Failure classes from the SDK's own exception types (built directly, the SDK itself untouched)."""

from __future__ import annotations

import json

import httpx
import httpx2
import pytest
from google.genai import errors

from studio.failures import classify_answer, classify_exception, error_json, retry_delay_s
from studio.results import FailureKind

SECRET = "AIzaSySECRETSECRETSECRETSECRET12345"
RPC = "type.googleapis.com/google.rpc."


def _api(code: int, status: str, message: str, details: list | None = None) -> errors.APIError:
    body = {"error": {"code": code, "status": status, "message": message, "details": details or []}}
    cls = errors.ClientError if code < 500 else errors.ServerError
    return cls(code, body)


def _info(reason: str) -> dict:
    return {"@type": RPC + "ErrorInfo", "reason": reason, "domain": "googleapis.com"}


@pytest.mark.parametrize(("exc", "kind"), [
    (_api(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [_info("API_KEY_INVALID")]),
     FailureKind.INVALID_API_KEY),
    (_api(400, "INVALID_ARGUMENT", "API key expired. Please renew the API key.", [_info("API_KEY_EXPIRED")]),
     FailureKind.INVALID_API_KEY),
    (_api(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), FailureKind.TOKEN_EXPIRED),
    (_api(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
          [_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT")]), FailureKind.INSUFFICIENT_SCOPE),
    (_api(403, "PERMISSION_DENIED", "Billing not enabled."), FailureKind.PERMISSION),
    (_api(404, "NOT_FOUND", "models/x is not found for API version v1beta"), FailureKind.NOT_FOUND),
    (_api(408, "DEADLINE_EXCEEDED", "Request timed out."), FailureKind.TIMEOUT),
    (_api(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota."), FailureKind.QUOTA),
    (_api(500, "INTERNAL", "An internal error has occurred."), FailureKind.SERVER_ERROR),
    (_api(502, "BAD_GATEWAY", "<html>bad gateway</html>"), FailureKind.SERVER_ERROR),
    (_api(503, "UNAVAILABLE", "The model is overloaded. Please try again later."), FailureKind.OVERLOADED),
    (_api(504, "DEADLINE_EXCEEDED", "Deadline expired."), FailureKind.TIMEOUT),
    (_api(400, "INVALID_ARGUMENT", "unsupported aspect ratio '7:3'"), FailureKind.INVALID_REQUEST),
    (TimeoutError(), FailureKind.TIMEOUT),
    (httpx2.ReadTimeout("read timed out"), FailureKind.TIMEOUT),
    (httpx.ConnectTimeout("connect timed out"), FailureKind.TIMEOUT),
    (httpx2.ConnectError("[Errno 111] Connection refused"), FailureKind.NETWORK),
    (httpx.ConnectError("[Errno 111] Connection refused"), FailureKind.NETWORK),
    (ConnectionResetError(104, "Connection reset by peer"), FailureKind.NETWORK),
    (httpx2.RemoteProtocolError("peer closed connection without sending complete message body"),
     FailureKind.NETWORK),
    (json.JSONDecodeError("Unterminated string", "{\"a", 1), FailureKind.MALFORMED),
    (errors.UnknownApiResponseError("Failed to parse response as JSON."), FailureKind.MALFORMED),
])
def test_exception_classes(exc: BaseException, kind: FailureKind) -> None:
    failure = classify_exception(exc)
    assert failure.kind is kind
    assert failure.message and failure.detail


def test_raw_detail_is_kept() -> None:
    failure = classify_exception(_api(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers",
                                      [_info("SERVICE_DISABLED")]))
    assert failure.http_status == 403
    assert "PERMISSION_DENIED" in failure.detail and "SERVICE_DISABLED" in failure.detail
    assert "unregistered callers" in failure.message  # Google's words help with permission problems


def test_quota_carries_retry_info() -> None:
    exc = _api(429, "RESOURCE_EXHAUSTED", "Quota exceeded.",
               [{"@type": RPC + "QuotaFailure", "violations": []}, {"@type": RPC + "RetryInfo", "retryDelay": "17s"}])
    failure = classify_exception(exc)
    assert failure.kind is FailureKind.QUOTA and failure.retry_after_s == 17.0
    assert "limit: 0" not in failure.message


def test_quota_limit_zero_explains_free_tier_and_billing() -> None:
    exc = _api(429, "RESOURCE_EXHAUSTED", "Quota exceeded for metric: generate_content_free_tier_requests, "
               "limit: 0, model: gemini-3-pro-image")
    failure = classify_exception(exc)
    assert failure.kind is FailureKind.QUOTA
    assert "no quota" in failure.message and "free-tier" in failure.message and "billing" in failure.message


def test_retry_delay_parsing() -> None:
    assert retry_delay_s([{"@type": RPC + "RetryInfo", "retryDelay": "1.5s"}]) == 1.5
    assert retry_delay_s([{"@type": RPC + "RetryInfo", "retryDelay": "soon"}]) is None
    assert retry_delay_s([]) is None


def test_secrets_never_in_message_or_detail() -> None:
    exc = _api(400, "INVALID_ARGUMENT", f"bad field near key={SECRET} and tok-abcdef123")
    failure = classify_exception(exc, ("tok-abcdef123",))
    text = failure.message + failure.detail + repr(failure)
    assert SECRET not in text and "tok-abcdef123" not in text
    net = classify_exception(httpx2.ConnectError(f"refused for https://x/?key={SECRET}"))
    assert SECRET not in net.detail
    assert SECRET not in json.dumps(error_json(exc))


@pytest.mark.parametrize(("reason", "kind"), [
    ("IMAGE_SAFETY", FailureKind.OUTPUT_BLOCKED), ("IMAGE_PROHIBITED_CONTENT", FailureKind.OUTPUT_BLOCKED),
    ("IMAGE_OTHER", FailureKind.OUTPUT_BLOCKED), ("IMAGE_RECITATION", FailureKind.OUTPUT_BLOCKED),
    ("SAFETY", FailureKind.OUTPUT_BLOCKED), ("PROHIBITED_CONTENT", FailureKind.OUTPUT_BLOCKED),
    ("NO_IMAGE", FailureKind.NO_IMAGE), ("STOP", FailureKind.NO_IMAGE),
])
def test_answers_without_an_image(reason: str, kind: FailureKind) -> None:
    failure = classify_answer(has_candidates=True, block_reason=None, finish_reason=reason,
                              finish_message="Google's own words", has_image=False, text="")
    assert failure is not None and failure.kind is kind and failure.finish_reason == reason
    assert failure.detail == "Google's own words"


def test_prompt_blocked_and_text_only() -> None:
    blocked = classify_answer(has_candidates=False, block_reason="PROHIBITED_CONTENT", finish_reason=None,
                              finish_message=None, has_image=False, text="")
    assert blocked.kind is FailureKind.PROMPT_BLOCKED and blocked.block_reason == "PROHIBITED_CONTENT"
    text_only = classify_answer(has_candidates=True, block_reason=None, finish_reason="STOP", finish_message=None,
                                has_image=False, text="I can't draw tok-secret-1", secrets=("tok-secret-1",))
    assert text_only.kind is FailureKind.NO_IMAGE and "I can't draw" in text_only.message
    assert "tok-secret-1" not in text_only.message
    assert classify_answer(has_candidates=True, block_reason=None, finish_reason="STOP", finish_message=None,
                           has_image=True, text="") is None
