"""Draws the emulator's images: deterministic, visibly made from the prompt and the references.

The picture is drawn on a small canvas and scaled up with nearest-neighbour (bilinear
upscaling plus PNG encoding of 17 megapixels costs most of a second; nearest keeps whole
rows identical, which PNG's "up" filter compresses almost for free), encoded as PNG with
compress_level=1, and kept in a small LRU: a fresh 6336x2688 answer costs about 0.3 s of CPU.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
import threading
from collections import OrderedDict

from PIL import Image, ImageDraw, ImageFont

_CACHE: OrderedDict[tuple, bytes] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_ENTRIES = 32
_CACHE_BYTES = 64 * 1024 * 1024  # bounded so an in-process emulator stays small
_WORK_SIDE = 640  # longest side of the canvas the picture is drawn on
JPEG_QUALITY = 85  # the Gemini API paths' JPEGs; Vertex's imageOutputOptions.compressionQuality overrides it


def _palette(digest: bytes) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    first = (digest[0], digest[1], digest[2])
    second = (255 - digest[3] // 2, digest[4], 255 - digest[5] // 2)
    return first, second


def _canvas(prompt: str, seed: int | None, width: int, height: int, references: list[bytes],
            base: bytes | None = None) -> Image.Image:
    """The picture at work size: gradient and shapes from a hash, reference thumbnails, the prompt text.

    An edit (``base``: the image of the model's previous turn) keeps that picture and draws one mark and
    the instruction on it, so every version visibly derives from the one it edits.
    """
    digest = hashlib.sha256(f"{seed}|{prompt}".encode()).digest()
    scale = min(1.0, _WORK_SIDE / max(width, height))
    w, h = max(8, round(width * scale)), max(8, round(height * scale))
    canvas = _edited(base, w, h) if base is not None else None
    draw_shapes = canvas is None
    if canvas is None:
        top, bottom = _palette(digest)
        gradient = Image.linear_gradient("L").resize((w, h))
        canvas = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), gradient)
    draw = ImageDraw.Draw(canvas)
    for i in range(6 if draw_shapes else 1):  # shapes placed by the hash: different prompts look different
        x, y = digest[6 + i] * w // 256, digest[12 + i] * h // 256
        r = 8 + digest[18 + i] % max(9, min(w, h) // 4)
        colour = (digest[24 + i % 8], digest[(25 + i) % 32], digest[(26 + i) % 32])
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=(255, 255, 255))
    _paste_references(canvas, references)
    font = ImageFont.load_default(size=max(10, min(w, h) // 14))
    lines = textwrap.wrap(prompt.strip() or "(no prompt)", width=max(12, w // 14))[:4]
    top_y = 10 if draw_shapes else h // 2  # an edit writes its instruction lower: the earlier words stay readable
    draw.multiline_text((10, top_y), "\n".join(lines), fill=(255, 255, 255), font=font,
                        stroke_width=2, stroke_fill=(0, 0, 0))
    draw.text((10, h - 22), "EMULATED · Gemini API emulator", fill=(255, 255, 255),
              font=ImageFont.load_default(size=12), stroke_width=1, stroke_fill=(0, 0, 0))
    if (w, h) == (width, height):
        return canvas
    return canvas.resize((width, height), Image.Resampling.NEAREST)


def _edited(base: bytes, w: int, h: int) -> Image.Image | None:
    """The previous image at work size (its ratio may differ: it is stretched), or None when unreadable."""
    try:
        with Image.open(io.BytesIO(base)) as img:
            img.draft("RGB", (w, h))
            return img.convert("RGB").resize((w, h), Image.Resampling.BILINEAR)
    except Exception:
        return None


def _paste_references(canvas: Image.Image, references: list[bytes]) -> None:
    """Thumbnails of the references in the bottom-right corner, in request order."""
    w, h = canvas.size
    side = max(16, min(w, h) // 5)
    for i, data in enumerate(references[:14]):
        try:
            with Image.open(io.BytesIO(data)) as ref:
                ref.draft("RGB", (side, side))  # JPEG decodes at reduced scale: cheap for big photos
                thumb = ref.convert("RGB")
                thumb.thumbnail((side, side))
        except Exception:  # a reference the emulator cannot read is simply not drawn
            continue
        x = w - (i % 4 + 1) * (side + 4)
        y = h - (i // 4 + 1) * (side + 4)
        canvas.paste(thumb, (max(0, x), max(0, y)))


def render(prompt: str, seed: int | None, width: int, height: int, references: list[bytes],
           fmt: str = "PNG", tag: str = "", quality: int = JPEG_QUALITY, base: bytes | None = None) -> bytes:
    """Encoded image bytes of exactly width x height, the same for the same inputs; ``quality`` is JPEG's
    (``base``: see _canvas)."""
    ref_key = hashlib.sha256(b"".join(hashlib.sha256(r).digest() for r in [*references, base or b""])).hexdigest()
    key = (prompt, seed, width, height, ref_key, fmt, tag, quality)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    image = _canvas(prompt + tag, seed, width, height, references, base)
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=quality)
    else:
        image.save(out, "PNG", compress_level=1)
    data = out.getvalue()
    with _CACHE_LOCK:
        _CACHE[key] = data
        while len(_CACHE) > 1 and (len(_CACHE) > _CACHE_ENTRIES or sum(map(len, _CACHE.values())) > _CACHE_BYTES):
            _CACHE.popitem(last=False)
    return data


def clear_cache() -> None:
    """Forget encoded images (tests measuring a fresh render use this)."""
    with _CACHE_LOCK:
        _CACHE.clear()
