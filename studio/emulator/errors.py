"""Google's error bodies, exactly as the Gemini API sends them."""

from __future__ import annotations

_TYPE = "type.googleapis.com/google.rpc."


class ApiError(Exception):
    """An error the emulator answers with: HTTP code, gRPC status, message, details."""

    def __init__(self, code: int, status: str, message: str, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details or []

    def body(self) -> dict:
        """Google omits ``details`` when there are none (503 overloaded, for one)."""
        error: dict = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def error_info(reason: str, **metadata: str) -> dict:
    return {"@type": _TYPE + "ErrorInfo", "reason": reason, "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com", **metadata}}


def bad_request(message: str, field: str | None = None) -> ApiError:
    details = []
    if field is not None:
        violation = {"field": field, "description": message} if field else {"description": message}
        details.append({"@type": _TYPE + "BadRequest", "fieldViolations": [violation]})
    return ApiError(400, "INVALID_ARGUMENT", message, details)


def unknown_field(name: str, path: str) -> ApiError:
    """A field the message does not have (Google's JSON parser names it and where it sat)."""
    where = f" at '{path}'" if path else ""
    return bad_request(f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.', path)


def unable_to_process_image() -> ApiError:
    """An input image Google cannot decode (garbage bytes, or a format it does not take, like GIF)."""
    return ApiError(400, "INVALID_ARGUMENT", "Unable to process input image. Please retry or report in "
                    "https://developers.generativeai.google/guide/troubleshooting")


def api_key_invalid() -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                    [error_info("API_KEY_INVALID"),
                     {"@type": _TYPE + "LocalizedMessage", "locale": "en-US",
                      "message": "API key not valid. Please pass a valid API key."}])


def key_and_token() -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT",
                    "The API Key and the authentication credential are from different projects.",
                    [error_info("API_KEY_SERVICE_BLOCKED")])


def no_credentials() -> ApiError:
    return ApiError(403, "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers (callers without established identity). "
                    "Please use API Key or other form of API consumer identity to call this API.")


def unauthenticated(reason: str = "ACCESS_TOKEN_EXPIRED") -> ApiError:
    """401 as Google sends it; ``ACCESS_TOKEN_TYPE_UNSUPPORTED`` when the bearer is not an OAuth token (a key)."""
    return ApiError(401, "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                    "login cookie or other valid authentication credential. "
                    "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                    [error_info(reason, method="google.ai.generativelanguage.v1beta."
                                "GenerativeService.GenerateContent")])


def scope_insufficient() -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                    [error_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                                method="google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent")])


def model_not_found(model: str, version: str) -> ApiError:
    return ApiError(404, "NOT_FOUND",
                    f"models/{model} is not found for API version {version}, or is not supported for "
                    "generateContent. Call ListModels to see the list of available models and their "
                    "supported methods.")


def no_longer_available(model: str) -> ApiError:
    """A model closed to new projects: Google's 404 says so (public reports, 2026)."""
    return ApiError(404, "NOT_FOUND", f"This model models/{model} is no longer available to new users. Please "
                    "update your code to use a newer model for the latest features and improvements.")


def duration(seconds: float) -> str:
    """A protobuf Duration as JSON: ``"17s"``, or ``"57.238747106s"`` with nanoseconds, as Google writes it."""
    whole = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{whole}s"


def quota(model: str, retry_s: float = 1, zero: bool = False) -> ApiError:
    """429 as Google sends it; ``zero`` is the free-tier answer for Pro ("limit: 0").

    Google's retry delays are often fractional ("57.238747106s"): ``retry_s`` keeps its fraction.
    """
    limit = 0 if zero else 10
    retry = duration(retry_s)
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    message = (f"You exceeded your current quota, please check your plan and billing details. "
               f"* Quota exceeded for metric: {metric}, limit: {limit}, model: {model}\n"
               f"Please retry in {retry}.")
    return ApiError(429, "RESOURCE_EXHAUSTED", message, [
        {"@type": _TYPE + "QuotaFailure", "violations": [
            {"quotaMetric": metric, "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
             "quotaDimensions": {"location": "global", "model": model}, "quotaValue": str(limit)}]},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Learn more about Gemini API quotas",
             "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": _TYPE + "RetryInfo", "retryDelay": retry},
    ])


def payload_too_large(limit: int) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", f"Request payload size exceeds the limit: {limit} bytes.")


def not_found_path(path: str) -> ApiError:
    """Any path or method the emulator does not serve: Google's error shape, never an HTML page."""
    return ApiError(404, "NOT_FOUND", f"Path {path} was not found.")


def deadline_exceeded() -> ApiError:
    """504 as Google sends it when the model took too long on its side."""
    return ApiError(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")


def missing_signature(content_position: int, part_position: int) -> ApiError:
    """Gemini 3 refuses a model-turn image sent back without its thought signature (positions count from 1)."""
    return bad_request(
        f"Image part is missing a thought_signature in content position {content_position}, "
        f"part position {part_position}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
        "for more details.")


def corrupted_signature() -> ApiError:
    """A thought signature that was sent back altered (or made up): Google cannot verify it, so it refuses the turn."""
    return bad_request("Corrupted thought signature.")


def overloaded() -> ApiError:
    return ApiError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def capacity_exhausted(model: str) -> ApiError:
    """503 when Google has no room for the model right now (Pro's most reported failure in public trackers)."""
    return ApiError(503, "UNAVAILABLE", f"No capacity available for model {model} on the server",
                    [error_info("MODEL_CAPACITY_EXHAUSTED", model=model)])


def internal() -> ApiError:
    return ApiError(500, "INTERNAL", "An internal error has occurred. Please retry or report in "
                    "https://developers.generativeai.google/guide/troubleshooting")
