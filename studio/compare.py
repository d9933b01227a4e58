"""Two versions of an image compared: the slider overlay drawn on the server (PIL), so it works everywhere.

The right-hand image is fitted to the left one's size (versions of a thread may change ratio), the left
part of the result shows the first image up to the slider's position, the rest the second, with a line
between them. Work is done on a copy at most ``MAX_SIDE`` wide, so a 4K pair stays quick on every move.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

MAX_SIDE = 1280


def _open(data: bytes, max_side: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (max_side, max_side))  # JPEG decodes at reduced scale
        rgb = img.convert("RGB")
    rgb.thumbnail((max_side, max_side))
    return rgb


def overlay(first: bytes, second: bytes, position: float, max_side: int = MAX_SIDE) -> bytes:
    """JPEG bytes: ``first`` left of ``position`` (0..1 of the width), ``second`` right of it, a line between."""
    left = _open(first, max_side)
    right = _open(second, max_side).resize(left.size, Image.Resampling.BILINEAR)
    cut = round(max(0.0, min(1.0, position)) * left.width)
    combined = right.copy()
    if cut:
        combined.paste(left.crop((0, 0, cut, left.height)), (0, 0))
    draw = ImageDraw.Draw(combined)
    line = max(2, left.width // 300)
    draw.rectangle((max(0, cut - line // 2), 0, min(left.width - 1, cut + line // 2), left.height), fill=(255, 255, 255))
    out = io.BytesIO()
    combined.save(out, "JPEG", quality=88)
    return out.getvalue()
