"""Keep secrets and image bytes out of everything a person or a log can see."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"
_INLINE_KEYS = {"inlineData", "inline_data"}
_PATTERNS = (
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),  # Google API keys
    re.compile(r"ya29\.[0-9A-Za-z_\-.]+"),  # Google OAuth access tokens
    re.compile(r"(?i)(bearer\s+)[0-9A-Za-z_\-.~+/=]{8,}"),
    re.compile(r"(?i)([?&]key=)[^&\s\"']+"),
    re.compile(r"(?i)(x-goog-api-key['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+"),
)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """The text with known secrets and secret-looking strings replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
    return text


def redact_json(value: object, secrets: Iterable[str] = ()) -> object:
    """A copy of a JSON-like value with inline image data elided and secrets redacted."""
    secrets = tuple(secrets)
    if isinstance(value, dict):
        out: dict[object, object] = {}
        for key, item in value.items():
            if key in _INLINE_KEYS and isinstance(item, dict):
                out[key] = _elide_inline(item)
            elif key in ("data", "thoughtSignature", "thought_signature") and isinstance(item, str | bytes) \
                    and len(item) > 256:
                out[key] = f"<{_decoded_size(item)} bytes elided>"
            else:
                out[key] = redact_json(item, secrets)
        return out
    if isinstance(value, list | tuple):
        return [redact_json(item, secrets) for item in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes elided>"
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


def _decoded_size(data: str | bytes) -> int:
    return len(data) if isinstance(data, bytes) else len(data) * 3 // 4


def _elide_inline(inline: dict) -> dict:
    out = {k: v for k, v in inline.items() if k != "data"}
    if "data" in inline and inline["data"] is not None:
        out["data"] = f"<{_decoded_size(inline['data'])} bytes elided>"
    return out
