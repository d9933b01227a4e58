"""Token counts as Google reports them: ``usageMetadata`` of answers and the ``countTokens`` method.

The counting (documented so tests and cost estimates agree):
- ``candidatesTokenCount`` is the catalogue's output tokens per final image (the short caption is
  not counted, so the per-image price matches Google's table); text-only answers count their
  text at one token per 4 characters.
- ``promptTokenCount`` is one token per 4 characters of every turn's text (at least 1) plus
  ``INPUT_IMAGE_TOKENS`` per input image in any turn. ``countTokens`` answers the same number.
- ``thoughtsTokenCount`` varies per prompt and seed within the range of the thinking level
  (``THOUGHT_TOKENS``; no level sent: the model's default level, else ``THOUGHT_TOKENS_MIN`` to
  ``THOUGHT_TOKENS_MAX``) for thinking models (Gemini 3 always thinks, and bills it, whether or not
  thoughts are returned); absent for Nano Banana. Higher levels think more.
- ``toolUsePromptTokenCount`` is ``SEARCH_TOOL_TOKENS`` when Google Search grounding ran.
- ``totalTokenCount = promptTokenCount + candidatesTokenCount + thoughtsTokenCount
  + toolUsePromptTokenCount`` (the last two when present).
- Every answer says its ``serviceTier``: "standard", as live answers do, or "flex" when asked.
"""

from __future__ import annotations

import hashlib
import math

from studio.catalogue import ModelSpec
from studio.emulator.validation import ParsedRequest

INPUT_IMAGE_TOKENS = 258  # tokens per input image (Gemini's classic per-image count)
THOUGHT_TOKENS_MIN, THOUGHT_TOKENS_MAX = 120, 720
SEARCH_TOOL_TOKENS = 308  # a live grounded answer's toolUsePromptTokenCount
# Thinking tokens per level: disjoint ranges, so a higher level always thinks more.
THOUGHT_TOKENS: dict[str, tuple[int, int]] = {"minimal": (24, 96), "low": (100, 300), "medium": (320, 720),
                                              "high": (900, 1800)}


def thinking_level(req: ParsedRequest, spec: ModelSpec) -> str | None:
    """The level the model thinks at: the request's, else the model's default (None: no levels)."""
    return req.thinking_level or spec.default_thinking_level


def thought_tokens(req: ParsedRequest, spec: ModelSpec) -> int:
    """Thinking tokens: 0 for Nano Banana, else a stable per prompt+seed count in the level's range."""
    if not spec.supports_thoughts:
        return 0
    level = thinking_level(req, spec)
    low, high = THOUGHT_TOKENS[level] if level else (THOUGHT_TOKENS_MIN, THOUGHT_TOKENS_MAX)
    digest = hashlib.sha256(f"thoughts|{req.seed}|{req.all_text}".encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def prompt_counts(req: ParsedRequest) -> dict[str, int]:
    """Prompt tokens per modality: text at one token per 4 characters (at least 1), images at a fixed count."""
    counts = {"TEXT": max(1, math.ceil(len(req.all_text) / 4))}
    if req.all_images:
        counts["IMAGE"] = INPUT_IMAGE_TOKENS * req.all_images
    return counts


def prompt_details(req: ParsedRequest) -> list[dict]:
    return [{"modality": modality, "tokenCount": count} for modality, count in prompt_counts(req).items()]


def usage(req: ParsedRequest, spec: ModelSpec, image_tokens: int, text_tokens: int, thoughts: int | None = None) -> dict:
    """usageMetadata with Google's field names and order; see the module docstring for the counting."""
    details = prompt_details(req)
    prompt_tokens = sum(prompt_counts(req).values())
    candidate_details = [{"modality": modality, "tokenCount": count}
                         for modality, count in (("IMAGE", image_tokens), ("TEXT", text_tokens)) if count]
    candidates = image_tokens + text_tokens
    thoughts = thought_tokens(req, spec) if thoughts is None else thoughts
    tool = SEARCH_TOOL_TOKENS if req.search or req.image_search else 0
    out: dict = {"promptTokenCount": prompt_tokens}
    if candidates:
        out["candidatesTokenCount"] = candidates
    out["totalTokenCount"] = prompt_tokens + candidates + thoughts + tool
    out["promptTokensDetails"] = details
    if candidate_details:
        out["candidatesTokensDetails"] = candidate_details
    if tool:
        out["toolUsePromptTokenCount"] = tool
        out["toolUsePromptTokensDetails"] = [{"modality": "TEXT", "tokenCount": tool}]
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    out["serviceTier"] = req.service_tier
    return out


def count_tokens(req: ParsedRequest) -> dict:
    """The ``countTokens`` answer: what ``promptTokenCount`` would be for these contents."""
    return {"totalTokens": sum(prompt_counts(req).values()), "promptTokensDetails": prompt_details(req)}
