"""Vertex AI's paths on the emulator: what the SDK calls with ``vertexai=True``, and how Vertex differs.

``genai.Client(vertexai=True, project=…, location=…, credentials=…)`` posts to
``/v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent``
(and ``:streamGenerateContent?alt=sse``). Vertex AI differs from the Gemini API in ways a studio
must see before its users do:
- bearer tokens only (IAM): an API key on these paths is 401 ``CREDENTIALS_MISSING``, "API keys are
  not supported by this API…"; no credential at all is 401 too (the Gemini API says 403);
- the token needs the ``cloud-platform`` scope (the generative-language scopes are not enough);
- the request may carry Vertex-only fields (``imageOutputOptions``, ``personGeneration``, ``labels``…)
  that the Gemini API paths refuse as unknown, and ``imageOutputOptions{mimeType, compressionQuality}``
  makes the server encode PNG or JPEG at that quality (default 75, as Vertex documents);
- error details name ``aiplatform.googleapis.com`` and an unknown model is a "Publisher Model" 404;
- a 429 is "Resource exhausted. Please try again later…" with no details (no RetryInfo);
- answers also carry ``createTime`` and ``usageMetadata.trafficType``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from studio.catalogue import ModelSpec
from studio.emulator import errors
from studio.emulator.credentials import CredentialBook
from studio.emulator.validation import ParsedRequest

LIST_PATH = re.compile(r"^/(v1|v1beta1)/publishers/google/models$")
LIST_RPC = "google.cloud.aiplatform.v1beta1.ModelGardenService.ListPublisherModels"
PATH = re.compile(r"^/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+):([A-Za-z]+)$")
METHODS = ("generateContent", "streamGenerateContent")
SERVICE = "aiplatform.googleapis.com"
VERTEX_SCOPES = frozenset({"https://www.googleapis.com/auth/cloud-platform"})
OUTPUT_MIMES = ("image/png", "image/jpeg")
DEFAULT_JPEG_QUALITY = 75  # Vertex's documented default compressionQuality
QUOTA_MESSAGE = ("Resource exhausted. Please try again later. Please refer to "
                 "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.")
_DOCS = "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"


@dataclass(frozen=True)
class Route:
    """One parsed Vertex path."""

    version: str
    project: str
    location: str
    model_id: str
    method: str

    @property
    def resource(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/publishers/google/models/{self.model_id}"

    @property
    def rpc(self) -> str:
        return f"google.cloud.aiplatform.{self.version}.PredictionService.{self.method[:1].upper()}{self.method[1:]}"


def match(path: str) -> Route | None:
    """The Vertex route of a path the emulator serves, or None (other paths are not Vertex's)."""
    found = PATH.match(path)
    if not found or found.group(5) not in METHODS:
        return None
    return Route(*found.groups())


def check_credentials(book: CredentialBook, rpc: str, headers: Mapping[str, str], query_key: str | None) -> None:
    """Vertex's rules: no API keys, a bearer token checked like the Gemini paths', with cloud-platform scope.

    ``rpc`` is the method Google names in the error details (``Route.rpc``, or ``LIST_RPC``).
    """
    if headers.get("x-goog-api-key") or query_key:
        raise errors.ApiError(401, "UNAUTHENTICATED",
                              "API keys are not supported by this API. Expected OAuth2 access token or other "
                              "authentication credentials that assert a principal. "
                              "See https://cloud.google.com/docs/authentication",
                              [_info("CREDENTIALS_MISSING", rpc)])
    auth = headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token:
        raise errors.ApiError(401, "UNAUTHENTICATED",
                              "Request is missing required authentication credential. Expected OAuth 2 access "
                              "token, login cookie or other valid authentication credential. "
                              "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                              [_info("CREDENTIALS_MISSING", rpc)])
    book.check_token(token, accepted_scopes=VERTEX_SCOPES)


def model_not_found(route: Route) -> errors.ApiError:
    return errors.ApiError(404, "NOT_FOUND",
                           f"Publisher Model `{route.resource}` was not found or your project does not have "
                           f"access to it. Please ensure you are using a valid model version. For more "
                           f"information, see: {_DOCS}")


def output_options(request: ParsedRequest) -> ParsedRequest:
    """Check ``imageOutputOptions`` and fill Vertex's default JPEG quality; 400 for what Vertex refuses."""
    mime, quality = request.output_mime, request.output_quality
    if mime is not None and mime not in OUTPUT_MIMES:
        raise errors.bad_request(f"Unsupported image output mime type: {mime}. Supported mime types are "
                                 f"{' and '.join(OUTPUT_MIMES)}.",
                                 "generation_config.image_config.image_output_options.mime_type")
    if quality is not None and not 0 <= quality <= 100:
        raise errors.bad_request(f"Compression quality must be between 0 and 100, got {quality}.",
                                 "generation_config.image_config.image_output_options.compression_quality")
    if mime == "image/jpeg" and quality is None:
        return replace(request, output_quality=DEFAULT_JPEG_QUALITY)
    return request


def as_vertex(err: errors.ApiError, rpc: str) -> errors.ApiError:
    """The same error as Vertex words it: details name the aiplatform service and its own method, and a
    429 is Vertex's bare "Resource exhausted" (no quota metric, no RetryInfo: the client backs off alone)."""
    if err.code == 429:
        return errors.ApiError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGE)
    details = [{**d, "metadata": {**d.get("metadata", {}), "service": SERVICE, "method": rpc}}
               if str(d.get("@type", "")).endswith("ErrorInfo") else d for d in err.details]
    return errors.ApiError(err.code, err.status, err.message, details)


def decorate(chunks: list[dict]) -> list[dict]:
    """Vertex's answers carry ``createTime`` and ``usageMetadata.trafficType`` besides the Gemini API's fields."""
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [{**chunk, "createTime": created,
             **({"usageMetadata": {**chunk["usageMetadata"], "trafficType": "ON_DEMAND"}}
                if isinstance(chunk.get("usageMetadata"), dict) else {})} for chunk in chunks]


def _info(reason: str, rpc: str) -> dict:
    return {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
            "metadata": {"service": SERVICE, "method": rpc}}


def publisher_models(lineup: Iterable[ModelSpec], extra: tuple[str, ...] = ()) -> dict:
    """``GET /v1beta1/publishers/google/models`` (what ``client.models.list()`` asks on Vertex), in one page."""
    served = [spec.model_id for spec in lineup]
    ids = served + [mid for mid in extra if mid not in served]
    return {"publisherModels": [{"name": f"publishers/google/models/{mid}", "versionId": "001",
                                 "openSourceCategory": "PROPRIETARY", "launchStage": "GA"} for mid in ids]}
