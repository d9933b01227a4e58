"""The guarantee: the model's answer blended into the original inside the mask only.

Every pixel outside the mask and its feather keeps the original's decoded value exactly: the answer is
pasted onto the decoded original through an alpha that is exactly 0 there (Pillow's paste leaves a pixel
untouched at alpha 0), and the composite is kept as PNG, so nothing re-encodes it lossily.
An answer at a slightly different ratio or size is scaled to the original's size (with a note); beyond
``RATIO_TOLERANCE`` it cannot be aligned and ``AlignmentError`` says why.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageFilter

from studio.regions.masks import load_mask

RATIO_TOLERANCE = 0.03  # 3 %: the models' pixel tables round ratios by up to ~1 %; more is another picture
PNG_COMPRESS_LEVEL = 1  # the composite is big and kept lossless; level 1 is several times faster than 6


class AlignmentError(ValueError):
    """The answer cannot be placed on the original (no image, or another ratio beyond the tolerance)."""


@dataclass(frozen=True)
class Composite:
    """The blended picture (PNG) and what happened on the way (a note when the answer was scaled)."""

    png: bytes = field(repr=False)
    width: int
    height: int
    note: str = ""


def decode(data: bytes) -> Image.Image:
    """An image's decoded pixels in RGB (the values the guarantee keeps)."""
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB")


def feather_alpha(mask: Image.Image, feather_px: int, inward: bool = False) -> Image.Image:
    """The blend's alpha: 255 in the mask, a ramp ``feather_px`` wide, 0 beyond.

    Outward (paint): the ramp lies outside the white area, which changes wholly. Inward (extend): the ramp
    lies inside it, so not one pixel outside the white area changes.
    """
    if feather_px <= 0:
        return mask
    radius = max(1, feather_px // 2)
    if inward:  # erode the mask by the radius, soften, then never reach outside the mask
        eroded = ImageChops.invert(_dilate(ImageChops.invert(mask), radius))
        return ImageChops.darker(eroded.filter(ImageFilter.BoxBlur(radius)), mask)
    softened = _dilate(mask, radius).filter(ImageFilter.BoxBlur(radius))
    return ImageChops.lighter(softened, mask)  # the white area itself always takes the answer wholly


def _dilate(mask: Image.Image, radius: int) -> Image.Image:
    """Grow the white area by ``radius`` pixels (a box blur, any non-zero value kept: cost independent of radius)."""
    return mask.filter(ImageFilter.BoxBlur(radius)).point(lambda v: 255 if v > 0 else 0)


def align(answer: Image.Image, size: tuple[int, int]) -> tuple[Image.Image, str]:
    """The answer at the original's ``size``; a note when it had to be scaled, AlignmentError when it cannot."""
    if answer.size == size:
        return answer, ""
    got = answer.width / answer.height
    want = size[0] / size[1]
    if abs(math.log(got / want)) > math.log1p(RATIO_TOLERANCE):
        raise AlignmentError(
            f"The model answered a {answer.width}×{answer.height} picture for a {size[0]}×{size[1]} image: its "
            f"shape differs too much to place it on the original, so the original is kept. Try again.")
    note = (f"The model answered at {answer.width}×{answer.height}; its picture was scaled to "
            f"{size[0]}×{size[1]} and aligned with the original.")
    return answer.resize(size, Image.Resampling.LANCZOS), note


def composite_images(base: Image.Image, mask: Image.Image, answer: Image.Image, feather_px: int,
                     inward: bool = False) -> tuple[Image.Image, str]:
    """Blend decoded images in place on ``base`` (returned): the answer inside the mask and its feather only."""
    aligned, note = align(answer.convert("RGB"), base.size)
    if mask.size != base.size:
        mask = mask.resize(base.size, Image.Resampling.NEAREST)
    alpha = feather_alpha(mask, feather_px, inward)
    box = alpha.getbbox()  # only the changed rectangle is touched: cheap for a small region of a 4K image
    if box is None:
        return base, note
    base.paste(aligned.crop(box), box, alpha.crop(box))
    return base, note


def composite(base: bytes, mask_png: bytes, answer: bytes | None, feather_px: int, inward: bool = False) -> Composite:
    """The composite of ``answer`` into ``base`` inside the mask (PNG bytes), or AlignmentError with the reason."""
    if not answer:
        raise AlignmentError("The model returned no picture to place in the painted area, so the original is kept.")
    try:
        answer_image = decode(answer)
    except Exception as exc:
        raise AlignmentError("The model's picture could not be read, so the original is kept.") from exc
    original = decode(base)
    mask = load_mask(mask_png, original.size)
    blended, note = composite_images(original, mask, answer_image, feather_px, inward)
    del answer_image
    return Composite(encode_png(blended), blended.width, blended.height, note)


def encode_png(image: Image.Image, info: dict[str, str] | None = None) -> bytes:
    """Lossless PNG (fast compression), with text chunks (the recipe) when given."""
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    for key, value in (info or {}).items():
        meta.add_text(key, value)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL, pnginfo=meta)
    return out.getvalue()
