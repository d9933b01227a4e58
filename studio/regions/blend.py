"""The guarantee: the model's answer blended into the original inside the mask only.

Every pixel outside the mask and its feather keeps the original's decoded value exactly: the answer is
pasted onto the decoded original through an alpha that is exactly 0 there (Pillow's paste leaves a pixel
untouched at alpha 0), and the composite is kept as PNG, so nothing re-encodes it lossily (``png_bands``:
banded, so the rows an edit leaves alone are copied from the original's file, already compressed).
An answer at a slightly different ratio or size is scaled to the original's size (with a note); beyond
``RATIO_TOLERANCE`` it cannot be aligned and ``AlignmentError`` says why.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import simplejpeg
from PIL import Image

from studio import images, png_bands, previews
from studio.regions.feather import changed_box, feathered
from studio.regions.masks import load_mask

PASTE_ROWS = 16  # rows pasted at a time: a 4K row's temporaries stay small (under 128 KB)
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
    note: str
    thumbnail: bytes = field(repr=False)


def decode(data: bytes) -> Image.Image:
    """An image's decoded pixels in RGB (the values the guarantee keeps), without a second copy when already RGB."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image if image.mode == "RGB" else image.convert("RGB")


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


def answer_part(answer: np.ndarray, size: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """The answer's pixels for ``box`` of an image of ``size``, as a copy (so the whole answer can go): cut
    out, or scaled from the matching source area (only the box is resampled: a small region costs little)."""
    left, top, right, bottom = box
    if (answer.shape[1], answer.shape[0]) == size:
        return answer[top:bottom, left:right].copy()
    sx, sy = answer.shape[1] / size[0], answer.shape[0] / size[1]
    source = (left * sx, top * sy, right * sx, bottom * sy)
    scaled = Image.fromarray(answer, "RGB").resize((right - left, bottom - top), Image.Resampling.LANCZOS, box=source)
    return np.asarray(scaled).copy()


def composite(base: bytes, mask_png: bytes, answer: bytes | None, feather_px: int, inward: bool = False,
              chunks: Sequence[tuple[bytes, bytes]] = ()) -> Composite:
    """The composite of ``answer`` into ``base`` inside the mask (PNG bytes, with ``chunks`` after its header:
    the recipe), or AlignmentError with the reason.

    Two cores share the work, and memory stays near one decoded frame (the answer and the original are never
    both whole): a helper thread reads the mask and feathers it on its rectangle while this one decodes the
    answer and cuts that rectangle out of it. Of an original the studio wrote (``png_bands``) only the bands
    of the rows the edit touches are then unpacked: the new file copies the others as they are, and its
    thumbnail takes their part from the original's preview (``previews``). Any other original is decoded whole.
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
    original = _Original(base, size)
    located: Future[tuple[int, int, int, int] | None] = Future()
    with ThreadPoolExecutor(2, thread_name_prefix="region") as helpers:
        area = helpers.submit(_feathered_area, mask_png, size, feather_px, inward, located)
        early = helpers.submit(_decode_early, original, located)
        try:
            answer_pixels = decode_pixels(answer)
        except Exception as exc:
            raise AlignmentError("The model's picture could not be read, so the original is kept.") from exc
        box = located.result()
        if box is None:  # nothing may change: the original's pixels, as a file of their own
            del answer_pixels  # (not its bytes: their recipe chunks would outvote the new version's)
            return original.finished((0, 0), note, chunks)
        part = answer_part(answer_pixels, size, box)
        del answer_pixels
        if not early.result():
            original.decode((box[1], box[3]))  # while the helper feathers the mask
        alpha = area.result()
    assert alpha is not None  # (a rectangle was found, so it was feathered)
    original.paste(box, part, alpha)
    del part, alpha
    return original.finished((box[1], box[3]), note, chunks)


EARLY_SHARE = 0.6  # the original is decoded alongside the answer when its rows to decode are at most this share


def _decode_early(original: _Original, located: Future[tuple[int, int, int, int] | None]) -> bool:
    """Decode the original's rows for the edit while the answer still is, when they are few enough that both
    together stay under about one decoded frame more; False: decode them once the answer is dropped."""
    box = located.result()
    if box is None or original.rows_to_decode((box[1], box[3])) > EARLY_SHARE * original.size[1]:
        return False
    original.decode((box[1], box[3]))
    return True


class _Original:
    """The picture being edited: decoded as little as the edit needs, then written out with its change.

    A PNG the studio wrote is read band by band into NumPy (only the bands the edit needs, when it carries a
    preview) and a JPEG by libjpeg-turbo into NumPy; any other file through Pillow, whose image is kept as
    it is (a NumPy copy of it would hold the frame twice).
    """

    def __init__(self, data: bytes, size: tuple[int, int]) -> None:
        self.data, self.size = data, size
        self.plan = previews.plan(*size)
        head = png_bands.header(data)
        self.extras = head[2] if head is not None and previews.carries_preview(head[2], self.plan) else None
        self.frame: png_bands.Frame | None = None
        self.pixels: np.ndarray | None = None
        self.image: Image.Image | None = None

    def rows(self, changed: tuple[int, int]) -> tuple[int, int] | None:
        """The rows to decode for an edit of the ``changed`` rows (None: all of them): those rows and the
        ones its thumbnail must reduce again, when the original carries a preview for the rest."""
        if self.extras is None or self.plan is None:
            return None
        top, bottom = self.plan.block_rows(*changed)
        return min(top, changed[0]), max(bottom, changed[1])

    def rows_to_decode(self, changed: tuple[int, int]) -> int:
        rows = self.rows(changed)
        return self.size[1] if rows is None else rows[1] - rows[0]

    def decode(self, changed: tuple[int, int]) -> None:
        """At least the rows the edit changes and those its thumbnail must reduce again."""
        self.frame = png_bands.decode(self.data, self.rows(changed))
        if self.frame is not None:
            self.pixels = self.frame.pixels
            return
        self.extras = None
        self.pixels = _jpeg_pixels(self.data)
        if self.pixels is None:
            self.image = decode(self.data)

    def paste(self, box: tuple[int, int, int, int], part: np.ndarray, alpha: np.ndarray) -> None:
        if self.pixels is not None:
            paste_into(self.pixels, box, part, alpha)
        else:
            assert self.image is not None
            left, top = box[0], box[1]
            for start in range(0, part.shape[0], 256):  # a strip at a time: no second frame-sized copy
                rows = slice(start, start + 256)
                self.image.paste(Image.fromarray(np.ascontiguousarray(part[rows]), "RGB"), (left, top + start),
                                 Image.fromarray(np.ascontiguousarray(alpha[rows]), "L"))

    def finished(self, changed: tuple[int, int], note: str, chunks: Sequence[tuple[bytes, bytes]]) -> Composite:
        """The new file, its bands copied from the original outside ``changed``, and its thumbnail: the
        preview (the original's, updated on ``changed``) and the thumbnail are made on a helper thread while
        the bands are packed, and the preview goes at the file's end."""
        if self.pixels is None and self.image is None:
            self.decode(changed)
        width, height = self.size
        how = self.plan
        if how is None or not how.keeps_preview:
            pixels = self.pixels if self.pixels is not None else np.asarray(self.image)
            png = png_bands.encode(pixels, chunks, reuse=self.frame, changed=changed)
            return Composite(png, width, height, note, previews.thumbnail_of_pixels(pixels))
        with ThreadPoolExecutor(1, thread_name_prefix="region-thumbnail") as helper:
            made = helper.submit(self._preview_and_thumbnail, how, changed)
            if self.pixels is not None:
                png = png_bands.encode(self.pixels, chunks, reuse=self.frame, changed=changed,
                                       after=lambda: [made.result()[0]])
            else:
                assert self.image is not None
                png = png_bands.encode_image(self.image, chunks, after=lambda: [made.result()[0]])
            return Composite(png, width, height, note, made.result()[1])

    def _preview_and_thumbnail(self, how: previews.Plan,
                               changed: tuple[int, int]) -> tuple[tuple[bytes, bytes], bytes]:
        original = previews.preview_of(self.extras, how) if self.extras is not None else None
        if original is not None and self.pixels is not None:
            rewritten = previews.updated(original, self.pixels, how, changed)
            chunk = previews.preview_chunk(original.pixels, how, reuse=original, changed=rewritten)
            return chunk, previews.thumbnail_from_reduced(original.pixels, how)
        if self.pixels is not None:
            reduced = np.asarray(previews.reduce_rows(self.pixels, how, 0, how.height))
        else:
            assert self.image is not None
            reduced = np.asarray(self.image.reduce(how.factor))
        return previews.preview_chunk(reduced, how), previews.thumbnail_from_reduced(reduced, how)


def decode_pixels(data: bytes) -> np.ndarray:
    """An image's decoded RGB pixels as a writable NumPy frame (rows × columns × 3): a PNG the studio wrote
    through ``png_bands`` (both cores), a JPEG through libjpeg-turbo straight into the array (the same pixels
    as Pillow's, with no 4-bytes-a-pixel copy), anything else through Pillow."""
    frame = png_bands.decode(data)
    if frame is not None:
        return frame.pixels
    pixels = _jpeg_pixels(data)
    return pixels if pixels is not None else np.array(decode(data))


def _jpeg_pixels(data: bytes) -> np.ndarray | None:
    """A JPEG's pixels by libjpeg-turbo into NumPy; None for anything else, or a JPEG it cannot read (CMYK and
    other rare ones: Pillow converts them, or says what is wrong)."""
    if images.detect_format(data) != "JPEG":
        return None
    try:
        return simplejpeg.decode_jpeg(data, colorspace="RGB")
    except Exception:
        return None


def _feathered_area(mask_png: bytes, size: tuple[int, int], feather_px: int, inward: bool,
                    located: Future[tuple[int, int, int, int] | None]) -> np.ndarray | None:
    """The alpha on the rectangle the blend may touch, after handing that rectangle to ``located`` as soon as it
    is known (None: the mask is empty), so the answer can be cut while the feather is computed."""
    try:
        mask = load_mask(mask_png, size)
        box = changed_box(mask, feather_px, inward)
    except BaseException as exc:
        located.set_exception(exc)
        raise
    located.set_result(box)
    return feathered(mask, box, feather_px, inward) if box is not None else None


def paste_into(pixels: np.ndarray, box: tuple[int, int, int, int], part: np.ndarray, alpha: np.ndarray) -> None:
    """Pillow's paste through ``alpha`` on ``box`` of a NumPy frame, with its rounding: alpha 0 leaves a pixel
    exactly as it was, 255 takes the answer's, and only the feather's pixels in between are computed."""
    left, top, right, bottom = box
    for start in range(0, bottom - top, PASTE_ROWS):  # a few rows at a time: no frame-sized temporaries
        end = min(bottom - top, start + PASTE_ROWS)
        _paste_rows(pixels[top + start:top + end, left:right], part[start:end], alpha[start:end])


def _paste_rows(region: np.ndarray, part: np.ndarray, alpha: np.ndarray) -> None:
    np.copyto(region, part, where=np.repeat(alpha == 255, 3, axis=1).reshape(region.shape))
    ring = np.flatnonzero((alpha - np.uint8(1)) < 254)  # 1..254: the feather (0 and 255 wrap past it)
    if ring.size:
        rows, columns = np.divmod(ring, alpha.shape[1])
        weight = alpha[rows, columns].astype(np.uint32)[:, None]
        mixed = part[rows, columns] * weight + region[rows, columns] * (255 - weight)
        region[rows, columns] = ((mixed + 127) // 255).astype(np.uint8)
