"""Thumbnails from pixels in hand, and the preview a studio PNG carries so its thumbnail needs no decode.

Pillow's ``thumbnail`` (what ``images.make_thumbnail`` uses) first reduces a big image by a whole factor
(box averages over factor × factor blocks), then resizes what is left. The reduction is the costly half and
depends only on the pixels, block by block. So:

- ``thumbnail_of_pixels`` reduces a NumPy frame a band of rows at a time, each band whole blocks: the same
  pixels as Pillow's, so the same JPEG bytes, without a 4-bytes-a-pixel copy of the frame;
- a PNG the studio writes (``png_bands``) carries the reduced image in a private ``prVW`` chunk, so its
  thumbnail is a resize of about 0.8 megapixels instead of a decode of 16.8 (4K);
- a region edit recomputes only the blocks of the rows it changed, into the original's preview (``updated``),
  so it never needs the rows it left alone, and rewrites only those bands of the preview.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from studio import png_bands

PREVIEW = b"prVW"  # ancillary (p), private (r), reserved (V), unsafe to copy (W): it is the pixels, reduced
PREVIEW_VERSION = 1
_HEAD = struct.Struct(">BHHII")  # version, reduction factors, the picture's width and height
THUMBNAIL_SIDE = 384
PREVIEW_MIN_REDUCTION = 9  # a preview is kept when it holds at most a ninth of the pixels: 4K yes (1/25, about
# 6 % of the file), 2K no (a quarter: the file would grow by a quarter to save a 0.1 s decode)
REDUCING_GAP = 2.0  # Pillow's thumbnail default: reduce while the rest of the way is at least 2x


@dataclass(frozen=True)
class Plan:
    """How Pillow thumbnails a ``width`` × ``height`` image: reduce by ``factor``, then resize to ``size``."""

    width: int
    height: int
    size: tuple[int, int]
    factor: tuple[int, int]

    @property
    def keeps_preview(self) -> bool:
        """Whether a studio PNG of this size carries its reduction (``PREVIEW_MIN_REDUCTION``)."""
        return self.factor[0] * self.factor[1] >= PREVIEW_MIN_REDUCTION

    @property
    def reduced_size(self) -> tuple[int, int]:
        return -(-self.width // self.factor[0]), -(-self.height // self.factor[1])

    def block_rows(self, top: int, bottom: int) -> tuple[int, int]:
        """The pixel rows of the whole blocks that rows [top, bottom) fall in."""
        step = self.factor[1]
        return top // step * step, min(self.height, -(-bottom // step) * step)


def plan(width: int, height: int, max_side: int = THUMBNAIL_SIDE) -> Plan | None:
    """Pillow's plan for ``thumbnail((max_side, max_side))``; None when the image is already that small."""
    size = _thumbnail_size(width, height, max_side)
    if size is None:
        return None
    factor = (int(width / size[0] / REDUCING_GAP) or 1, int(height / size[1] / REDUCING_GAP) or 1)
    return Plan(width, height, size, factor)


def thumbnail_of_pixels(pixels: np.ndarray, max_side: int = THUMBNAIL_SIDE) -> bytes:
    """``images.make_thumbnail`` of a frame held as NumPy rows: the same bytes, from the pixels in hand."""
    height, width = pixels.shape[:2]
    how = plan(width, height, max_side)
    if how is None:  # already small: Pillow's thumbnail leaves it as it is
        return thumbnail_jpeg(Image.fromarray(np.ascontiguousarray(pixels), "RGB"))
    return thumbnail_from_reduced(reduce_rows(pixels, how, 0, height), how)


def reduce_rows(pixels: np.ndarray, how: Plan, top: int, bottom: int) -> Image.Image:
    """The reduced image of pixel rows [top, bottom), block-aligned (``Plan.block_rows``)."""
    factor_x, factor_y = how.factor
    if factor_x == factor_y == 1:
        return Image.fromarray(np.ascontiguousarray(pixels[top:bottom]), "RGB")
    reduced = Image.new("RGB", (how.reduced_size[0], -(-(bottom - top) // factor_y)))
    step = factor_y * max(1, 256 // factor_y)  # about 256 rows a band, whole blocks only
    for start, band in _bands_of(pixels[top:bottom], step):
        reduced.paste(band.reduce((factor_x, factor_y)), (0, start // factor_y))
    return reduced


def thumbnail_from_reduced(reduced: Image.Image | np.ndarray, how: Plan) -> bytes:
    """The thumbnail: the reduced image resized the rest of the way, as Pillow's ``thumbnail`` does."""
    if isinstance(reduced, np.ndarray):
        reduced = Image.fromarray(np.ascontiguousarray(reduced), "RGB")
    box = (0.0, 0.0, how.width / how.factor[0], how.height / how.factor[1])
    return thumbnail_jpeg(reduced.resize(how.size, Image.Resampling.BILINEAR, box=box))


def updated(preview: png_bands.Frame, pixels: np.ndarray, how: Plan, changed: tuple[int, int]) -> tuple[int, int]:
    """Reduce again, into the original's preview (in place), the blocks of the ``changed`` rows of ``pixels``
    (which must hold ``how.block_rows(*changed)``); the preview rows so rewritten."""
    top, bottom = how.block_rows(*changed)
    if bottom <= top:
        return 0, 0
    strip = np.asarray(reduce_rows(pixels, how, top, bottom))
    first = top // how.factor[1]
    preview.pixels[first:first + strip.shape[0]] = strip
    return first, first + strip.shape[0]


def preview_chunk(reduced: np.ndarray, how: Plan, reuse: png_bands.Frame | None = None,
                  changed: tuple[int, int] | None = None) -> tuple[bytes, bytes]:
    """The ``prVW`` chunk: the reduction's factors, then the reduced image as a banded PNG of its own (with
    ``reuse``: the original preview's bands copied outside its ``changed`` rows)."""
    head = _HEAD.pack(PREVIEW_VERSION, *how.factor, how.width, how.height)
    return PREVIEW, head + png_bands.encode(reduced, reuse=reuse, changed=changed)


def carries_preview(extras: dict[bytes, bytes], how: Plan | None) -> bool:
    """Whether the chunks hold the preview ``how`` needs (its header only: the image is read by ``preview_of``)."""
    payload = extras.get(PREVIEW)
    if how is None or payload is None or len(payload) < _HEAD.size:
        return False
    version, factor_x, factor_y, width, height = _HEAD.unpack_from(payload)
    return (version, (factor_x, factor_y), (width, height)) == (PREVIEW_VERSION, how.factor, (how.width, how.height))


def preview_of(extras: dict[bytes, bytes], how: Plan | None) -> png_bands.Frame | None:
    """The reduced image a studio PNG carries (decoded, its bands kept for a rewrite), when it is the one
    ``how`` needs; else None (reduce afresh)."""
    if how is None or not carries_preview(extras, how):
        return None
    frame = png_bands.decode(extras[PREVIEW][_HEAD.size:])
    if frame is None or (frame.pixels.shape[1], frame.pixels.shape[0]) != how.reduced_size:
        return None
    return frame


def thumbnail_from_preview(data: bytes) -> bytes | None:
    """The thumbnail of a studio PNG from its preview chunk, without decoding its pixels; None if it has none."""
    layout = png_bands.header(data)
    if layout is None:
        return None
    width, height, extras = layout
    how = plan(width, height)
    preview = preview_of(extras, how)
    return thumbnail_from_reduced(preview.pixels, how) if preview is not None and how is not None else None


def fitted(data: bytes, max_side: int) -> Image.Image:
    """The picture at most ``max_side`` a side, to show (the paint canvas' background): a studio PNG read on both
    cores and box-reduced a band at a time (no full-size Pillow copy), then resized the rest of the way;
    anything else through Pillow (a JPEG decoded at a fraction of its size)."""
    frame = png_bands.decode(data)
    if frame is None:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (max_side, max_side))
            picture = img.convert("RGB")
        picture.thumbnail((max_side, max_side))
        return picture
    height, width = frame.pixels.shape[:2]
    factor = max(1, max(width, height) // max_side)
    how = Plan(width, height, (width, height), (factor, factor))
    picture = reduce_rows(frame.pixels, how, 0, height)
    picture.thumbnail((max_side, max_side))
    return picture


def thumbnail_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _thumbnail_size(width: int, height: int, max_side: int) -> tuple[int, int] | None:
    """The size Pillow's ``thumbnail((max_side, max_side))`` gives a ``width`` × ``height`` image (None: unchanged)."""
    x, y = max_side, max_side
    if x >= width and y >= height:
        return None
    aspect = width / height

    def round_aspect(number: float, key: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if x / y >= aspect:
        x = round_aspect(y * aspect, key=lambda n: abs(aspect - n / y))
    else:
        y = round_aspect(x / aspect, key=lambda n: 0 if n == 0 else abs(aspect - x / n))
    return x, y


def _bands_of(pixels: np.ndarray, step: int) -> Iterator[tuple[int, Image.Image]]:
    """The frame ``step`` rows at a time as Pillow images, read from the frame's memory (row stride and all)
    into one reused image: no frame-sized copy, and no fresh memory per band."""
    height, width = pixels.shape[:2]
    row_bytes = pixels.strides[0]
    memory = np.lib.stride_tricks.as_strided(pixels, shape=(row_bytes * (height - 1) + width * 3,), strides=(1,))
    reused = Image.new("RGB", (width, step))
    for top in range(0, height, step):
        rows = min(step, height - top)
        start = top * row_bytes
        if rows == step and start + rows * row_bytes <= memory.size:
            reused.frombytes(memory[start:start + rows * row_bytes].data, "raw", "RGB", row_bytes, 1)
            yield top, reused
        else:  # the last band: its last row has no stride's worth of bytes after it
            yield top, Image.fromarray(np.ascontiguousarray(pixels[top:top + rows]), "RGB")
