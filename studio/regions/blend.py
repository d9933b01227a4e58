"""The guarantee: the model's answer blended into the original inside the mask only.

Every pixel outside the mask and its feather keeps the original's decoded value exactly: the answer is
pasted onto the decoded original through an alpha that is exactly 0 there (Pillow's paste leaves a pixel
untouched at alpha 0), and the composite is kept as PNG, so nothing re-encodes it lossily (``png_writer``:
fast, since a 4K composite's encode is most of the step).
An answer at a slightly different ratio or size is scaled to the original's size (with a note); beyond
``RATIO_TOLERANCE`` it cannot be aligned and ``AlignmentError`` says why.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageFilter

from studio import images
from studio.regions import png_writer
from studio.regions.masks import load_mask

RATIO_TOLERANCE = 0.03  # 3 %: the models' pixel tables round ratios by up to ~1 %; more is another picture


class AlignmentError(ValueError):
    """The answer cannot be placed on the original (no image, or another ratio beyond the tolerance)."""


@dataclass(frozen=True)
class Composite:
    """The blended picture (PNG), its thumbnail (JPEG, made from the pixels in hand: no second decode) and
    what happened on the way (a note when the answer was scaled)."""

    png: bytes = field(repr=False)
    width: int
    height: int
    note: str = ""
    thumbnail: bytes = field(default=b"", repr=False)


def decode(data: bytes) -> Image.Image:
    """An image's decoded pixels in RGB (the values the guarantee keeps), without a second copy when already RGB."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image if image.mode == "RGB" else image.convert("RGB")


def reach(feather_px: int, inward: bool = False) -> int:
    """How far outside the white area the blend may change pixels (0 when the feather lies inside)."""
    return 0 if inward or feather_px <= 0 else 2 * max(1, feather_px // 2)


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


def check_shape(answer_size: tuple[int, int], size: tuple[int, int]) -> str:
    """A note when the answer must be scaled to ``size``; AlignmentError when its shape is too far off."""
    if answer_size == size:
        return ""
    got = answer_size[0] / max(1, answer_size[1])
    want = size[0] / size[1]
    if abs(math.log(got / want)) > math.log1p(RATIO_TOLERANCE):
        raise AlignmentError(
            f"The model answered a {answer_size[0]}×{answer_size[1]} picture for a {size[0]}×{size[1]} image: its "
            f"shape differs too much to place it on the original, so the original is kept. Try again.")
    return (f"The model answered at {answer_size[0]}×{answer_size[1]}; its picture was scaled to "
            f"{size[0]}×{size[1]} and aligned with the original.")


def changed_box(mask: Image.Image, feather_px: int, inward: bool = False) -> tuple[int, int, int, int] | None:
    """The rectangle the blend may touch: the white area's bounds grown by the feather's reach, in the image."""
    box = mask.getbbox()
    if box is None:
        return None
    grow = reach(feather_px, inward)
    return (max(0, box[0] - grow), max(0, box[1] - grow), min(mask.width, box[2] + grow),
            min(mask.height, box[3] + grow))


def feathered(mask: Image.Image, box: tuple[int, int, int, int], feather_px: int, inward: bool) -> Image.Image:
    """The alpha for ``box``, computed on a slightly larger crop so the filters see the real neighbourhood
    (a crop edge would otherwise pass for more white area and drop the seam's ramp)."""
    margin = 2 * max(1, feather_px // 2) + 1 if feather_px > 0 else 0
    work = (max(0, box[0] - margin), max(0, box[1] - margin), min(mask.width, box[2] + margin),
            min(mask.height, box[3] + margin))
    alpha = feather_alpha(mask.crop(work), feather_px, inward)
    return alpha.crop((box[0] - work[0], box[1] - work[1], box[2] - work[0], box[3] - work[1]))


def answer_part(answer: Image.Image, size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """The answer's pixels for ``box`` of an image of ``size``: cropped, or scaled from the matching source area
    (only the box is resampled, so a small region of a 4K picture costs little)."""
    if answer.size == size:
        return answer.crop(box)
    sx, sy = answer.width / size[0], answer.height / size[1]
    source = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    return answer.resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS, box=source)


def composite_images(base: Image.Image, mask: Image.Image, answer: Image.Image, feather_px: int,
                     inward: bool = False) -> tuple[Image.Image, str]:
    """Blend decoded images in place on ``base`` (returned): the answer inside the mask and its feather only.

    Work and memory follow the changed rectangle, not the frame: the mask is feathered and the answer cut
    (or scaled) only there, and pasted through an alpha that is exactly 0 wherever nothing may change.
    """
    note = check_shape(answer.size, base.size)
    if mask.size != base.size:
        mask = mask.resize(base.size, Image.Resampling.NEAREST)
    box = changed_box(mask, feather_px, inward)
    if box is None:
        return base, note
    alpha = feathered(mask, box, feather_px, inward)
    base.paste(answer_part(answer.convert("RGB") if answer.mode != "RGB" else answer, base.size, box), box, alpha)
    return base, note


def composite(base: bytes, mask_png: bytes, answer: bytes | None, feather_px: int, inward: bool = False) -> Composite:
    """The composite of ``answer`` into ``base`` inside the mask (PNG bytes), or AlignmentError with the reason.

    Memory follows one decoded frame at a time (Pillow keeps RGB at 4 bytes a pixel: 67 MB at 4K): the
    shapes are read from the headers, the mask is feathered on its rectangle, the answer is decoded, cut to
    that rectangle and dropped, and only then is the original decoded and the cut pasted onto it.
    """
    if not answer:
        raise AlignmentError("The model returned no picture to place in the painted area, so the original is kept.")
    try:
        with Image.open(io.BytesIO(answer)) as header:
            answer_size = header.size
    except Exception as exc:
        raise AlignmentError("The model's picture could not be read, so the original is kept.") from exc
    with Image.open(io.BytesIO(base)) as header:
        size = header.size
    note = check_shape(answer_size, size)
    mask = load_mask(mask_png, size)
    box = changed_box(mask, feather_px, inward)
    if box is None:  # nothing may change: the original's pixels, as a file of their own
        original = decode(base)  # (not its bytes: their recipe chunks would outvote the new version's)
        return _finished(original, note)
    alpha = feathered(mask, box, feather_px, inward)
    del mask
    try:
        part = answer_part(decode(answer), size, box)  # the whole answer is dropped here
    except Exception as exc:
        raise AlignmentError("The model's picture could not be read, so the original is kept.") from exc
    original = decode(base)
    original.paste(part, box, alpha)
    del part, alpha
    return _finished(original, note)


def _finished(picture: Image.Image, note: str) -> Composite:
    """The composite's file, then its thumbnail from the same pixels (which that shrinks in place)."""
    png, (width, height) = encode_png(picture), picture.size
    return Composite(png, width, height, note, images.thumbnail_of(picture))


def encode_png(image: Image.Image, info: dict[str, str] | None = None) -> bytes:
    """Lossless PNG, fast (``png_writer``), with text chunks (the recipe) when given."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    return png_writer.encode_rgb(image, (info or {}).items())
