"""The request-level field of a region edit, the words that say which image is the mask, and its recipe shape."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MODES = ("paint", "extend", "upscale")
DEFAULT_FEATHER_PX = 4  # a few pixels: enough to hide the seam, small enough to leave the rest untouched
MAX_FEATHER_PX = 64

# The user turn of a region edit: instruction, this preamble, the current image, then the mask (paint, extend).
REGION_PREAMBLE = ("The first image is the picture to edit. The second image is the mask: a black-and-white image "
                   "of the same size. Change only the white area of the mask; keep everything in the black area "
                   "exactly as it is.")
EXTEND_PREAMBLE = ("The first image is the picture on a larger canvas. The second image is the mask: a black-and-"
                   "white image of the same size. Fill the white area so it continues the picture naturally; keep "
                   "everything in the black area exactly as it is.")
UPSCALE_PREAMBLE = ("Reproduce this image exactly, at a higher resolution: same composition, colours and details, "
                    "only sharper. Do not add, remove or move anything.")
WHOLE_IMAGE_NOTE = "The painted area covers the whole image, so this runs as a whole-image edit."


@dataclass(frozen=True)
class RegionEdit:
    """A region edit of one version: what may change, and what the composite keeps.

    ``base``: the picture the composite keeps pixel-exact outside the mask (PNG or JPEG bytes): the current
    version's image for "paint" and "upscale", the larger canvas with the image placed on it for "extend".
    ``mask_png``: white = may change, black = keep; the same size as ``base`` (empty for "upscale").
    ``feather_px``: the soft edge, outside the white area for "paint", inside it for "extend" (so the original
    area stays exact). ``margins``: "extend" only, pixels added (left, top, right, bottom).
    ``target_size``: "upscale" only, "2K" or "4K".
    """

    mode: str
    base: bytes = field(repr=False)
    mask_png: bytes = field(default=b"", repr=False)
    feather_px: int = DEFAULT_FEATHER_PX
    margins: tuple[int, int, int, int] | None = None
    target_size: str | None = None

    @property
    def mask_sha256(self) -> str:
        return hashlib.sha256(self.mask_png).hexdigest() if self.mask_png else ""

    @property
    def composites(self) -> bool:
        """Whether the answer is blended into ``base`` (paint, extend) or kept as the model drew it (upscale)."""
        return self.mode != "upscale"

    @property
    def feather_inward(self) -> bool:
        return self.mode == "extend"

    def preamble(self) -> str:
        return {"paint": REGION_PREAMBLE, "extend": EXTEND_PREAMBLE}.get(self.mode, UPSCALE_PREAMBLE)

    def images(self) -> list[tuple[str, bytes]]:
        """The images of the user turn after the preamble, as (mime type, bytes): the picture, then the mask."""
        pictures = [(_mime(self.base), self.base)]
        if self.mask_png and self.mode != "upscale":
            pictures.append(("image/png", self.mask_png))
        return pictures

    def wire_parts(self) -> list[dict]:
        """The preamble and the images in Google's wire shape (base64), for ``studio.turns.user_content``."""
        return [{"text": self.preamble()},
                *({"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}
                  for mime, data in self.images())]

    def recipe(self) -> dict[str, Any]:
        """What the recipe keeps (no bytes: History keeps the mask as a blob, the base is the parent's image)."""
        recipe: dict[str, Any] = {"mode": self.mode, "feather_px": self.feather_px}
        if self.margins is not None:
            recipe["margins"] = list(self.margins)
        if self.target_size:
            recipe["target_size"] = self.target_size
        if self.mask_png:
            recipe["mask_sha256"] = self.mask_sha256
        return recipe


def problems(region: RegionEdit) -> list[str]:
    """Why a region edit cannot be sent, in plain words (the mask's own checks are ``masks.check_mask``)."""
    found: list[str] = []
    if region.mode not in MODES:
        found.append(f"Choose Paint, Extend or Upscale, not {region.mode!r}.")
    if not region.base:
        found.append("The image of this version is missing, so its region cannot be edited.")
    if region.mode in ("paint", "extend") and not _painted(region.mask_png):
        found.append("Paint the area to change first")
    if not 0 <= region.feather_px <= MAX_FEATHER_PX:
        found.append(f"The soft edge must be between 0 and {MAX_FEATHER_PX} pixels; you set {region.feather_px}.")
    if region.mode == "upscale" and region.target_size not in ("2K", "4K"):
        found.append("Upscale to 2K or 4K.")
    return found


def _painted(mask_png: bytes) -> bool:
    """Whether the mask has any white pixel (an all-black mask changes nothing: nothing is sent)."""
    if not mask_png:
        return False
    from studio.regions.masks import check_mask  # masks imports this module's note

    try:
        return check_mask(mask_png).can_send
    except Exception:  # an unreadable mask: there is no painted area to send
        return False


def region_from_recipe(recipe: Mapping[str, Any], base: bytes, mask_png: bytes = b"") -> RegionEdit:
    """The region edit a recipe describes, with its base image and its mask blob (Re-run, Retry)."""
    margins = recipe.get("margins")
    return RegionEdit(mode=str(recipe.get("mode") or "paint"), base=base, mask_png=mask_png,
                      feather_px=int(recipe.get("feather_px", DEFAULT_FEATHER_PX)),
                      margins=tuple(int(m) for m in margins) if margins else None,  # type: ignore[arg-type]
                      target_size=recipe.get("target_size") or None)


def _mime(data: bytes) -> str:
    return "image/jpeg" if data[:2] == b"\xff\xd8" else "image/webp" if data[8:12] == b"WEBP" else "image/png"
