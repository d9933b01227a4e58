"""Region edits as a model answers them: the change inside the mask, and the rest slightly off.

Gemini has no mask field; a studio sends the picture, then a black-and-white mask, with words saying
which is which. Real models then redraw the whole frame: the untouched area comes back with small
colour shifts and a pixel of drift. The emulator does the same on purpose (``SHIFT``, ``OFFSET_PX``),
so tests prove that the studio's composite, not the model, keeps the untouched pixels.
Recognised by the words ("mask" and "white area") plus a second image that is pure black and white;
an upscale by "reproduce this image … higher resolution": the picture again at the requested size.
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops

from studio.emulator.render import JPEG_QUALITY, render

SHIFT = 3  # colour shift added to every channel outside the mask
OFFSET_PX = 1  # the untouched area drifts one pixel to the right and down


def _open(data: bytes) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.convert("RGB")
    except Exception:
        return None


def _is_mask(data: bytes) -> bool:
    """Pure black and white (a little tolerance for a resampled edge is not needed: masks are sent exact)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            grey = img.convert("L")
    except Exception:
        return False
    histogram = grey.histogram()
    return sum(histogram[1:255]) == 0 and histogram[255] > 0


def region_kind(prompt: str, images: list[bytes]) -> str | None:
    """"paint" (a mask follows the picture), "upscale", or None for an ordinary request."""
    words = prompt.lower()
    if len(images) >= 2 and "mask" in words and "white area" in words and _is_mask(images[1]):
        return "paint"
    if images and "reproduce this image" in words and "higher resolution" in words:
        return "upscale"
    return None


def region_answer(kind: str, prompt: str, seed: int | None, size: tuple[int, int], images: list[bytes],
                  fmt: str = "PNG", quality: int = JPEG_QUALITY) -> bytes:
    """The encoded answer of a region edit or an upscale at exactly ``size``."""
    picture = _open(images[0])
    if picture is None:
        return render(prompt, seed, *size, images, fmt, quality=quality)
    picture = picture.resize(size, Image.Resampling.BILINEAR) if picture.size != size else picture
    if kind == "upscale":
        answer = picture
    else:
        with Image.open(io.BytesIO(images[1])) as img:
            mask = img.convert("L").resize(size, Image.Resampling.NEAREST)
        drawn = _open(render(prompt, seed, *size, images[2:], "PNG"))
        drift = ImageChops.offset(picture, OFFSET_PX, OFFSET_PX).point(lambda v: min(255, v + SHIFT))
        answer = Image.composite(drawn, drift, mask) if drawn is not None else drift
    out = io.BytesIO()
    if fmt == "JPEG":
        answer.save(out, "JPEG", quality=quality)
    else:
        answer.save(out, "PNG", compress_level=1)
    return out.getvalue()
