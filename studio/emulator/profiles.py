"""How each model's live answers look: output format and caption habits, read from the registry.

Captured live answers: the Gemini 3 image family answers JPEG (the cookbook's saved outputs, vercel/ai's
fixtures), Nano Banana answers PNG. Gemini 3 models often send no caption at all, or an empty text part;
Nano Banana nearly always says a sentence. The facts live in studio/models.toml (``output_format``,
``caption_odds``); a custom model has its base model's habits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from studio.catalogue import ModelSpec


@dataclass(frozen=True)
class Profile:
    output_format: str  # "JPEG" or "PNG": what the model encodes its images as
    caption_odds: tuple[int, int, int]  # weights of (no caption part, empty text part, a sentence)


CAPTION_KINDS = ("none", "empty", "sentence")


def profile(spec: ModelSpec) -> Profile:
    return Profile(output_format=spec.output_format, caption_odds=spec.caption_odds)


def caption_kind(spec: ModelSpec, prompt: str, seed: int | None) -> str:
    """Which caption this answer has: stable for a prompt and seed, spread by the model's odds."""
    odds = profile(spec).caption_odds
    bucket = int.from_bytes(hashlib.sha256(f"caption|{seed}|{prompt}".encode()).digest()[:4], "big") % sum(odds)
    for kind, weight in zip(CAPTION_KINDS, odds, strict=True):
        if bucket < weight:
            return kind
        bucket -= weight
    return "sentence"  # pragma: no cover - the loop always returns
