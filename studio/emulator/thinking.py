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


def thought_texts(prompt: str, seed: int | None, width: int, height: int, references: int) -> list[str]:
    """Two or three thought texts in Gemini's style (a bold heading, then a sentence); stable per prompt."""
    digest = hashlib.sha256(f"thinking|{seed}|{prompt}".encode()).digest()
    count = 2 + digest[0] % 2
    texts = []
    for i in range(count):
        heading = _HEADINGS[(digest[1] + i * (1 + digest[2] % 5)) % len(_HEADINGS)]
        if i == 0:
            body = f'I\'m composing "{prompt[:80]}" at {width}x{height} with {references} reference image(s).'
        elif i == 1:
            body = "I'm checking the first draft against the request and adjusting the framing."
        else:
            body = "I'm making the final pass over edges, text and colour before rendering."
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
    texts = thought_texts(prompt, req.seed, width, height, len(req.images))
    draft_w, draft_h = draft_pixels(width, height, req.image_size)
    parts: list[dict] = []
    for i, text in enumerate(texts):
        parts.append({"text": text, "thought": True})
        if i < 2:
            draft = render(prompt, req.seed, draft_w, draft_h, req.images, fmt, tag=f" #draft{i + 1}")
            parts.append({"inlineData": {"mimeType": f"image/{fmt.lower()}", "data": b64(draft)}, "thought": True})
    return parts
