"""What comes back from one image request: the shared language of engine, UI and history."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from studio.grounding import Sources, sources_from_response


class FailureKind(enum.StrEnum):
    """Why an image did not arrive. Each has a plain message in ``PLAIN_MESSAGES``."""

    INVALID_API_KEY = "invalid_api_key"
    TOKEN_EXPIRED = "token_expired"  # expired or revoked OAuth token
    WRONG_TOKEN = "wrong_token"  # 401 ACCESS_TOKEN_TYPE_UNSUPPORTED: not an OAuth token (an API key as a token)
    INSUFFICIENT_SCOPE = "insufficient_scope"
    PERMISSION = "permission"  # permission denied or billing not enabled
    QUOTA = "quota"  # 429, with retry_after_s when the server says
    OVERLOADED = "overloaded"  # 503
    SERVER_ERROR = "server_error"  # 500 and other 5xx
    TIMEOUT = "timeout"
    NETWORK = "network"
    PROMPT_BLOCKED = "prompt_blocked"  # promptFeedback.blockReason
    OUTPUT_BLOCKED = "output_blocked"  # IMAGE_SAFETY and friends
    NO_IMAGE = "no_image"  # text-only answer or NO_IMAGE
    MALFORMED = "malformed"  # an answer we could not read
    INVALID_REQUEST = "invalid_request"  # 400 other than a bad key
    NOT_FOUND = "not_found"  # unknown model


PLAIN_MESSAGES: dict[FailureKind, str] = {
    FailureKind.INVALID_API_KEY: "API key not valid. Check the key, or make a new one at https://aistudio.google.com/apikey.",
    FailureKind.TOKEN_EXPIRED: "Your Google sign-in has expired or was revoked. Sign in again; your work here is kept.",
    FailureKind.WRONG_TOKEN: "Google did not accept this as a sign-in token (it looks like an API key). Connect with "
                             "the API key instead, or sign in with Google again.",
    FailureKind.INSUFFICIENT_SCOPE: "Your Google sign-in did not grant access to the Gemini API. Sign in again and allow the requested access.",
    FailureKind.PERMISSION: "Permission denied: this project cannot use the model, or billing is not enabled on it.",
    FailureKind.QUOTA: "Quota reached for this model. Wait a moment and try again, or use another project or key.",
    FailureKind.OVERLOADED: "The model is overloaded right now. Try again in a little while.",
    FailureKind.SERVER_ERROR: "Google's server had an internal error. Try again.",
    FailureKind.TIMEOUT: "The model took too long to answer and the request was stopped. Try again, or use a smaller size.",
    FailureKind.NETWORK: "Could not reach the Gemini API. Check the network connection and try again.",
    FailureKind.PROMPT_BLOCKED: "The prompt was blocked by Google's safety filters. Rephrase it and try again.",
    FailureKind.OUTPUT_BLOCKED: "The image was blocked by Google's safety filters and was not billed. Try a different prompt.",
    FailureKind.NO_IMAGE: "The model returned no image this time. Try rephrasing the prompt to ask for an image.",
    FailureKind.MALFORMED: "The answer from the API could not be read. Try again.",
    FailureKind.INVALID_REQUEST: "The API refused the request as invalid.",
    FailureKind.NOT_FOUND: "The model was not found. It may have been renamed; choose another or set a custom model ID.",
}


@dataclass(frozen=True)
class Failure:
    """One failed image: the class, a message for a person, and the raw detail kept."""

    kind: FailureKind
    message: str  # plain, for a person; never contains a secret
    detail: str = ""  # raw status/message from the API, secrets redacted
    http_status: int | None = None
    retry_after_s: float | None = None
    finish_reason: str | None = None
    block_reason: str | None = None


@dataclass(frozen=True)
class GeneratedImage:
    """Final image bytes, re-encoded to the requested format with the recipe embedded."""

    data: bytes = field(repr=False)
    mime_type: str  # what the bytes really are after re-encoding
    width: int
    height: int
    declared_mime_type: str = ""  # what the API said it was (may be wrong)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    output_tokens: int = 0
    thoughts_tokens: int = 0
    total_tokens: int = 0
    tool_tokens: int = 0  # toolUsePromptTokenCount: what Google Search returned, billed as input


@dataclass(frozen=True)
class ImageResult:
    """The outcome of one request in a batch (index 0..count-1): an image or a failure."""

    index: int
    image: GeneratedImage | None = None
    failure: Failure | None = None
    drafts: tuple[GeneratedImage, ...] = ()  # interim thought images, never results
    thumbnail: bytes = field(default=b"", repr=False)  # made beside the decode, so a page can show it at once
    text: str = ""  # the model's final text
    thought_text: str = ""
    finish_reason: str | None = None
    finish_message: str | None = None
    block_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model_version: str = ""
    response_id: str = ""
    latency_s: float = 0.0
    attempts: int = 1
    request_json: dict = field(default_factory=dict)  # image data elided, secrets redacted
    response_json: dict = field(default_factory=dict)  # image data elided, secrets redacted
    # the model's final parts exactly as returned (image data and thought signatures kept): what an edit
    # thread sends back (studio/threads.py); never shown
    model_parts: tuple[dict, ...] = field(default=(), repr=False)
    # a region edit (studio/regions): ``image`` is the composite, ``raw_image`` the model's whole answer
    raw_image: GeneratedImage | None = field(default=None, repr=False)
    region_note: str = ""  # e.g. the answer was scaled to the original's size

    @property
    def ok(self) -> bool:
        return self.image is not None and self.failure is None

    @property
    def status(self) -> str:
        """One word for tables: ok, blocked, failed."""
        if self.ok:
            return "ok"
        if self.failure and self.failure.kind in {FailureKind.PROMPT_BLOCKED, FailureKind.OUTPUT_BLOCKED}:
            return "blocked"
        return "failed"

    @property
    def sources(self) -> Sources | None:
        """Grounding with Google Search: what this image must be shown with (None when not grounded)."""
        return sources_from_response(self.response_json)
