"""The paint canvas: a tiny static-HTML Streamlit component (plain JS, no npm build).

The person paints with a brush, erases, drags rectangles, inverts and clears in the browser; nothing reaches
the server until they press "Use this area", so painting never reruns the script. The value is then
``{"mask": "data:image/png;base64,…", "nonce": "…"}``: white may change, black is kept.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import streamlit.components.v1 as components
from PIL import Image

from studio import previews

FRONTEND = Path(__file__).resolve().parent / "frontend"
MASK_MAX_SIDE = 2048  # the browser paints at most this many pixels a side; the studio scales the mask up
SHOWN_MAX_SIDE = 1280  # the picture sent to the browser (a JPEG), never the original

_canvas = components.declare_component("paint_canvas", path=str(FRONTEND))


def mask_size(width: int, height: int) -> tuple[int, int]:
    """The painted mask's size: the image's own, at most ``MASK_MAX_SIDE`` a side (same aspect ratio)."""
    k = min(1.0, MASK_MAX_SIDE / max(width, height))
    return max(1, round(width * k)), max(1, round(height * k))


def shown_picture(image_bytes: bytes) -> tuple[str, int, int]:
    """The version as a small JPEG data URL for the canvas' background, and the original's size."""
    with Image.open(io.BytesIO(image_bytes)) as img:
        width, height = img.size
    picture = previews.fitted(image_bytes, SHOWN_MAX_SIDE)  # a 4K studio PNG: ~0.1 s instead of ~0.4 s
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii"), width, height


def paint_canvas(picture: tuple[str, int, int], key: str, brush: int = 40) -> dict[str, Any] | None:
    """Draw the canvas over ``picture`` (``shown_picture``'s answer); the last value sent with "Use this area"."""
    url, width, height = picture
    mask_w, mask_h = mask_size(width, height)
    value = _canvas(image=url, mask_width=mask_w, mask_height=mask_h, brush=brush, key=key, default=None)
    return value if isinstance(value, dict) else None


def mask_png(value: dict[str, Any]) -> bytes | None:
    """The PNG bytes of a value the canvas sent (None when it is not a PNG data URL)."""
    url = str(value.get("mask") or "")
    prefix = "data:image/png;base64,"
    if not url.startswith(prefix):
        return None
    try:
        return base64.b64decode(url[len(prefix):], validate=True)
    except ValueError:
        return None
