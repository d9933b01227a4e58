"""Interim thinking as Gemini 3 image models stream it: several thought texts and two drafts.

With ``thinkingConfig.includeThoughts`` a thinking model sends two or three short thought texts
and two draft images (``thought: true``, never billed) before the final image. Drafts are
realistic previews: the final picture's ratio at 1K or below, in the model's output format.
"""

from __future__ import annotations

import base64
import hashlib

from studio.catalogue import ModelSpec
from studio.emulator.render import render
from studio.emulator.validation import ParsedRequest

_HEADINGS = ("Planning the composition", "Placing the subjects", "Refining light and colour",
             "Checking the references", "Balancing the layout", "Sharpening the details")
_SIZE_FACTOR = {"2K": 2, "4K": 4}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_TEXTS_BY_LEVEL = {"minimal": (1, 1), "low": (2, 2), "medium": (2, 3), "high": (4, 5)}
_MORE = ("I'm weighing the lighting against the mood the prompt asks for.",
         "I'm re-reading the prompt for details the first pass missed.")


def thought_texts(prompt: str, seed: int | None, width: int, height: int, references: int,
                  level: str | None = None) -> list[str]:
    """Thought texts in Gemini's style (a bold heading, then a sentence); stable per prompt. How many
    follows the thinking level: one at minimal, two or three at medium (or no level), four or five at high."""
    digest = hashlib.sha256(f"thinking|{seed}|{prompt}".encode()).digest()
    fewest, most = _TEXTS_BY_LEVEL.get(level or "medium", (2, 3))
    count = fewest + digest[0] % (most - fewest + 1)
    texts = []
    for i in range(count):
        heading = _HEADINGS[(digest[1] + i * (1 + digest[2] % 5)) % len(_HEADINGS)]
        if i == 0:
            body = f'I\'m composing "{prompt[:80]}" at {width}x{height} with {references} reference image(s).'
        elif i == 1:
            body = "I'm checking the first draft against the request and adjusting the framing."
        elif i == count - 1:
            body = "I'm making the final pass over edges, text and colour before rendering."
        else:
            body = _MORE[(i - 2) % len(_MORE)]
        texts.append(f"**{heading}**\n\n{body}\n\n\n")
    return texts


def draft_pixels(width: int, height: int, image_size: str | None) -> tuple[int, int]:
    """Drafts come at 1K or below: the final pixels scaled back from 2K/4K."""
    factor = _SIZE_FACTOR.get(image_size or "", 1)
    return max(16, width // factor), max(16, height // factor)


def thought_parts(req: ParsedRequest, spec: ModelSpec, prompt: str, width: int, height: int,
                  fmt: str) -> list[dict]:
    """The thought parts in order (text, draft, text, draft[, text]), or none when not asked or not supported."""
    if not (req.include_thoughts and spec.supports_thoughts):
        return []
    texts = thought_texts(prompt, req.seed, width, height, len(req.images), req.thinking_level
                          or spec.default_thinking_level)
    draft_w, draft_h = draft_pixels(width, height, req.image_size)
    parts: list[dict] = []
    drafts = 0
    for i, text in enumerate(texts):
        parts.append({"text": text, "thought": True})
        # two drafts always: one after each of the first two texts, both after a lone text (minimal)
        for _ in range(2 if len(texts) == 1 else 1 if i < 2 else 0):
            drafts += 1
            draft = render(prompt, req.seed, draft_w, draft_h, req.images, fmt, tag=f" #draft{drafts}")
            parts.append({"inlineData": {"mimeType": f"image/{fmt.lower()}", "data": b64(draft)}, "thought": True})
    return parts
