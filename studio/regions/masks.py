"""Masks from what the person painted: white = may change, black = keep, the size of the image being edited.

The canvas component (``components/``) hands over either its drawing as an RGBA image (any painted pixel,
alpha > 0, is white) or its strokes and rectangles in canvas coordinates; both are scaled to the image.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageOps

from studio.regions.edit import WHOLE_IMAGE_NOTE

EMPTY_MESSAGE = "Paint the area to change first"

Point = tuple[float, float]


@dataclass(frozen=True)
class Stroke:
    """A brush stroke (``points`` in canvas pixels, ``width`` the brush size), erasing when ``erase``."""

    points: tuple[Point, ...]
    width: float
    erase: bool = False


@dataclass(frozen=True)
class Rect:
    """A rectangle in canvas pixels (left, top, right, bottom), erasing when ``erase``."""

    box: tuple[float, float, float, float]
    erase: bool = False


@dataclass(frozen=True)
class MaskCheck:
    """What a mask means: ``state`` "empty" (nothing sent), "region" or "whole" (sent as a whole-image edit)."""

    state: str
    message: str = ""
    share: float = 0.0  # the painted share of the image, 0..1

    @property
    def can_send(self) -> bool:
        return self.state != "empty"


def to_png(mask: Image.Image) -> bytes:
    out = io.BytesIO()
    mask.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def load_mask(data: bytes, size: tuple[int, int] | None = None) -> Image.Image:
    """A mask as a binary "L" image (0 or 255), scaled (nearest) to ``size`` when given."""
    img = Image.open(io.BytesIO(data))
    img.load()
    if img.mode in ("RGBA", "LA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        grey = ImageChops.multiply(rgba.convert("L"), rgba.getchannel("A"))
    else:
        grey = img if img.mode == "L" else img.convert("L")
    mask = grey  # freshly decoded (or converted): ours to threshold in place
    rough = mask.getbbox()  # outside the non-zero pixels' bounds all is black already: threshold only inside
    if rough is not None:
        mask.paste(mask.crop(rough).point(_THRESHOLD), rough)
    if size is not None and mask.size != size:
        mask = mask.resize(size, Image.Resampling.NEAREST)
    return mask


_THRESHOLD = [0] * 128 + [255] * 128


def blank_mask(size: tuple[int, int]) -> bytes:
    """Clear: an all-black mask of the image's size (nothing may change)."""
    return to_png(Image.new("L", size, 0))


def invert_mask(mask_png: bytes) -> bytes:
    """Invert: what was kept may change, and the other way round."""
    return to_png(ImageOps.invert(load_mask(mask_png)))


def mask_from_drawing(drawing_png: bytes, size: tuple[int, int]) -> bytes:
    """The canvas' RGBA drawing (painted pixels opaque, the rest transparent) as a mask of the image's ``size``.

    Any pixel with alpha > 0 counts as painted, whatever its colour; the drawing may be at display size.
    """
    with Image.open(io.BytesIO(drawing_png)) as img:
        alpha = img.convert("RGBA").getchannel("A")
    painted = alpha.point(lambda v: 255 if v > 0 else 0)
    if painted.size != size:
        painted = painted.resize(size, Image.Resampling.NEAREST)
    return to_png(painted)


def mask_from_shapes(size: tuple[int, int], canvas_size: tuple[int, int],
                     shapes: Sequence[Stroke | Rect], start: bytes | None = None) -> bytes:
    """Strokes and rectangles drawn on a canvas of ``canvas_size``, in order, as a mask of the image's ``size``.

    ``start``: an earlier mask to draw on (so the page can keep adding strokes without losing any).
    """
    mask = load_mask(start, size) if start else Image.new("L", size, 0)
    sx, sy = size[0] / max(1, canvas_size[0]), size[1] / max(1, canvas_size[1])
    draw = ImageDraw.Draw(mask)
    for shape in shapes:
        if isinstance(shape, Rect):
            left, top, right, bottom = shape.box
            box = (min(left, right) * sx, min(top, bottom) * sy, max(left, right) * sx, max(top, bottom) * sy)
            draw.rectangle(box, fill=0 if shape.erase else 255)
            continue
        fill = 0 if shape.erase else 255
        width = max(1, round(shape.width * (sx + sy) / 2))
        points = [(x * sx, y * sy) for x, y in shape.points]
        if len(points) > 1:
            draw.line(points, fill=fill, width=width, joint="curve")
        for x, y in points:  # round caps, and a single tap paints a dot
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=fill)
    return to_png(mask)


def check_mask(mask_png: bytes | None, size: tuple[int, int] | None = None) -> MaskCheck:
    """Empty: "Paint the area to change first", nothing sent. Everything painted: a whole-image edit, said so."""
    if not mask_png:
        return MaskCheck("empty", EMPTY_MESSAGE)
    mask = load_mask(mask_png, size)
    histogram = mask.histogram()
    total = mask.width * mask.height
    share = histogram[255] / total if total else 0.0
    if histogram[255] == 0:
        return MaskCheck("empty", EMPTY_MESSAGE, 0.0)
    if histogram[255] == total:
        return MaskCheck("whole", WHOLE_IMAGE_NOTE, 1.0)
    return MaskCheck("region", "", share)
