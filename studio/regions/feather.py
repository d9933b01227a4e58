"""The feather: how far a region edit may reach past the painted area, and the alpha of its soft edge.

Outward (paint), the ramp lies outside the white area, which takes the answer wholly; inward (extend), it
lies inside, so not one pixel outside the white area changes. The filters (Pillow's box blurs) only look a
few pixels away, so ``feathered`` filters only the stretches near the mask's edge and keeps the mask's own
value elsewhere: the same alpha, to the pixel, as filtering the whole rectangle.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageFilter

FEATHER_TILE = 64  # rows a strip and columns a tile: small enough to skip most of a painted area


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
    return mask.filter(ImageFilter.BoxBlur(radius)).point(_ANY_WHITE)


_ANY_WHITE = [0] + [255] * 255  # a lookup table: a lambda would be called 256 times per image


def changed_box(mask: Image.Image, feather_px: int, inward: bool = False) -> tuple[int, int, int, int] | None:
    """The rectangle the blend may touch: the white area's bounds grown by the feather's reach, in the image."""
    box = mask.getbbox()
    if box is None:
        return None
    grow = reach(feather_px, inward)
    return (max(0, box[0] - grow), max(0, box[1] - grow), min(mask.width, box[2] + grow),
            min(mask.height, box[3] + grow))


def feathered(mask: Image.Image, box: tuple[int, int, int, int], feather_px: int, inward: bool) -> np.ndarray:
    """``feather_alpha`` of the mask on ``box`` (a NumPy array), computed only near the white area's edge.

    The filters only look ``halo`` pixels away, so wherever the mask is all black (or all white) that far
    around, the alpha is the mask itself; the stretches of the edge are filtered, each on a crop with its
    halo (clipped to the rectangle's own margin, as filtering the whole rectangle would see it). A painted
    sky on a 4K picture: about a fifth of the work, and no rectangle-sized image but the mask's cut.
    """
    reach_px = halo(feather_px)
    work = (max(0, box[0] - reach_px), max(0, box[1] - reach_px), min(mask.width, box[2] + reach_px),
            min(mask.height, box[3] + reach_px))
    values = np.asarray(mask.crop(work))
    alpha = values.copy()
    if feather_px > 0:
        for left, top, right, bottom in _edge_stretches(values, reach_px):
            around = (max(0, left - reach_px), max(0, top - reach_px), min(values.shape[1], right + reach_px),
                      min(values.shape[0], bottom + reach_px))
            crop = mask.crop((work[0] + around[0], work[1] + around[1], work[0] + around[2], work[1] + around[3]))
            ramp = feather_alpha(crop, feather_px, inward)
            alpha[top:bottom, left:right] = np.asarray(ramp)[top - around[1]:bottom - around[1],
                                                              left - around[0]:right - around[0]]
    return alpha[box[1] - work[1]:box[3] - work[1], box[0] - work[0]:box[2] - work[0]]


def halo(feather_px: int) -> int:
    """How far the feather's filters look (grow, then soften: a radius each), plus one."""
    return 2 * max(1, feather_px // 2) + 1 if feather_px > 0 else 0


def _edge_stretches(values: np.ndarray, reach_px: int) -> list[tuple[int, int, int, int]]:
    """Rectangles (left, top, right, bottom) covering every pixel whose ``reach_px`` neighbourhood holds both
    black and white: a strip of ``FEATHER_TILE`` rows at a time, its tiles merged into runs. Beyond the
    array counts as more of the same (the filters repeat the edge)."""
    height, width = values.shape
    side = FEATHER_TILE
    columns = -(-width // side)
    stretches = []
    for top in range(0, height, side):
        bottom = min(height, top + side)
        rows = values[max(0, top - reach_px):min(height, bottom + reach_px)]
        any_white, any_black = _grown(rows.max(axis=0) > 0, reach_px), _grown(rows.min(axis=0) < 255, reach_px)
        mixed = np.zeros(columns * side, bool)
        mixed[:width] = any_white & any_black
        busy = mixed.reshape(columns, side).any(axis=1)
        edges = np.flatnonzero(np.diff(np.concatenate(([False], busy, [False])).astype(np.int8)))
        for first, last in zip(edges[::2], edges[1::2], strict=True):
            stretches.append((int(first) * side, top, min(width, int(last) * side), bottom))
    return stretches


def _grown(flags: np.ndarray, reach_px: int) -> np.ndarray:
    """``flags`` true wherever one is true within ``reach_px`` columns."""
    counts = np.concatenate(([0], np.cumsum(flags, dtype=np.int32)))
    index = np.arange(flags.size)
    return counts[np.minimum(flags.size, index + reach_px + 1)] > counts[np.maximum(0, index - reach_px)]
