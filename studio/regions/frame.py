"""Extend the frame (outpainting) and upscale: the canvas, its mask, and the sizes and prices involved."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from studio import png_bands
from studio.catalogue import ModelSpec
from studio.regions.edit import DEFAULT_FEATHER_PX, RegionEdit
from studio.regions.masks import to_png

UPSCALE_TARGETS = {"1K": ("2K", "4K"), "2K": ("4K",)}  # "Upscale to 2K" / "Upscale to 4K" on a 1K or 2K image
FILL = (127, 127, 127)  # the new area as the model receives it: plain grey, clearly "to be filled"

Margins = tuple[int, int, int, int]  # left, top, right, bottom, in pixels


@dataclass(frozen=True)
class ExtendPlan:
    """The larger canvas: its size, where the image sits on it, and the ratio the model is asked for."""

    size: tuple[int, int]
    margins: Margins
    aspect_ratio: str


def _ratio_value(ratio: str) -> float:
    w, h = (int(x) for x in ratio.split(":"))
    return w / h


def nearest_ratio(width: int, height: int, ratios: Sequence[str]) -> str:
    """The ratio of ``ratios`` closest to width:height (log space: 2:1 and 1:2 are equally far)."""
    return min(ratios, key=lambda r: abs(math.log((width / height) / _ratio_value(r))))


def plan_for_ratio(image_size: tuple[int, int], ratio: str) -> ExtendPlan:
    """The smallest canvas at ``ratio`` holding the image, the image centred (it only grows, never crops)."""
    w, h = image_size
    target = _ratio_value(ratio)
    if target >= w / h:
        new_w, new_h = max(w, round(h * target)), h
    else:
        new_w, new_h = w, max(h, round(w / target))
    left, top = (new_w - w) // 2, (new_h - h) // 2
    return ExtendPlan((new_w, new_h), (left, top, new_w - w - left, new_h - h - top), ratio)


def plan_for_margins(image_size: tuple[int, int], margins: Margins, ratios: Sequence[str]) -> ExtendPlan:
    """Margins per side, grown on one axis until the canvas has one of the model's ratios (the model answers
    only at its ratios; a canvas at another one could not be aligned). The growth goes to the sides the
    person extended, in proportion; evenly when that axis had none."""
    if any(m < 0 for m in margins):
        raise ValueError("Margins cannot be negative.")
    left, top, right, bottom = margins
    w, h = image_size[0] + left + right, image_size[1] + top + bottom
    ratio = nearest_ratio(w, h, ratios)
    target = _ratio_value(ratio)
    if target >= w / h:
        left, right = _share(left, right, max(0, round(h * target) - w))
    else:
        top, bottom = _share(top, bottom, max(0, round(w / target) - h))
    size = (image_size[0] + left + right, image_size[1] + top + bottom)
    return ExtendPlan(size, (left, top, right, bottom), ratio)


def _share(first: int, second: int, extra: int) -> tuple[int, int]:
    """``extra`` pixels split over two opposite sides, in proportion to what they already have."""
    part = extra * first // (first + second) if first + second else extra // 2
    return first + part, second + extra - part


def extend_canvas(image: bytes, plan: ExtendPlan) -> tuple[bytes, bytes]:
    """The canvas (PNG: the image placed on grey) and its mask (PNG: the new area white), both ``plan.size``."""
    with Image.open(io.BytesIO(image)) as img:
        picture = img.convert("RGB")
    left, top, _, _ = plan.margins
    canvas = Image.new("RGB", plan.size, FILL)
    canvas.paste(picture, (left, top))
    mask = Image.new("L", plan.size, 255)
    mask.paste(0, (left, top, left + picture.width, top + picture.height))
    return png_bands.encode_image(canvas), to_png(mask)  # the canvas banded: its composite reuses its bands


def extend_region(image: bytes, plan: ExtendPlan, feather_px: int = DEFAULT_FEATHER_PX) -> RegionEdit:
    """The region edit "Extend" sends: the canvas as base, the new area as mask (feathered inward only)."""
    canvas, mask = extend_canvas(image, plan)
    return RegionEdit(mode="extend", base=canvas, mask_png=mask, feather_px=feather_px, margins=plan.margins)


def upscale_targets(image_size: str) -> tuple[str, ...]:
    """The sizes "Upscale to …" offers for a version of ``image_size`` (none beyond 4K, none for 4K)."""
    return UPSCALE_TARGETS.get(image_size, ())


def upscale_region(image: bytes, target_size: str) -> RegionEdit:
    """The region edit "Upscale to 2K/4K" sends: the current image and the words asking for it again, larger."""
    if target_size not in ("2K", "4K"):
        raise ValueError("Upscale to 2K or 4K.")
    return RegionEdit(mode="upscale", base=image, target_size=target_size, feather_px=0)


def upscale_cost(spec: ModelSpec, target_size: str, lane: str = "now") -> float:
    """What "Upscale to …" costs before sending: the catalogue's price of one image at that size, plus the
    current image sent as input."""
    return spec.estimate_cost(target_size, 1, 1, lane)
