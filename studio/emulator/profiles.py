"""How each model's live answers look, as data: output format and caption habits.

Captured live answers: Nano Banana Pro and Nano Banana 2 answer JPEG (the cookbook's saved
outputs, vercel/ai's fixtures), Nano Banana answers PNG. Pro and Nano Banana 2 often send no
caption at all, or an empty text part; Nano Banana nearly always says a sentence. A renamed or
custom model behaves like its family (thinking models like Gemini 3). Change facts here when
Google changes its answers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from studio.catalogue import ModelSpec


@dataclass(frozen=True)
class Profile:
    output_format: str  # "JPEG" or "PNG": what the model encodes its images as
    caption_odds: tuple[int, int, int]  # weights of (no caption part, empty text part, a sentence)


GEMINI_3 = Profile(output_format="JPEG", caption_odds=(2, 1, 1))
GEMINI_25 = Profile(output_format="PNG", caption_odds=(0, 0, 1))
PROFILES: dict[str, Profile] = {
    "gemini-3-pro-image": GEMINI_3,
    "gemini-3.1-flash-image": GEMINI_3,
    "gemini-2.5-flash-image": GEMINI_25,
}
CAPTION_KINDS = ("none", "empty", "sentence")


def profile(spec: ModelSpec) -> Profile:
    return PROFILES.get(spec.model_id) or (GEMINI_3 if spec.supports_thoughts else GEMINI_25)


def caption_kind(spec: ModelSpec, prompt: str, seed: int | None) -> str:
    """Which caption this answer has: stable for a prompt and seed, spread by the model's odds."""
    odds = profile(spec).caption_odds
    bucket = int.from_bytes(hashlib.sha256(f"caption|{seed}|{prompt}".encode()).digest()[:4], "big") % sum(odds)
    for kind, weight in zip(CAPTION_KINDS, odds, strict=True):
        if bucket < weight:
            return kind
        bucket -= weight
    return "sentence"  # pragma: no cover - the loop always returns
