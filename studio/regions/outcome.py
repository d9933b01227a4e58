"""The step after a region edit's answer: the composite becomes the image, the model's answer is kept raw.

Run by the job runner off its event loop (``asyncio.to_thread``): decoding and blending a 4K picture is
CPU work. A failed answer passes through unchanged; one that cannot be aligned becomes a failed turn whose
message says why (the original version is untouched: it is another entry).
"""

from __future__ import annotations

import io
import math
from dataclasses import replace

from PIL import Image

from studio import images
from studio.regions.blend import RATIO_TOLERANCE, AlignmentError, composite
from studio.regions.edit import RegionEdit
from studio.results import Failure, FailureKind, GeneratedImage, ImageResult


def apply_region(region: RegionEdit, result: ImageResult) -> ImageResult:
    """The result as History keeps it: composite (PNG, recipe kept) as ``image``, the answer as ``raw_image``."""
    if not result.ok or result.image is None:
        return result
    answer = result.image
    try:
        if not region.composites:
            _check_upscale(region, answer)
            return result
        recipe = images.read_recipe(answer.data) or {}  # written with the composite: no splice, no copy
        blended = composite(region.base, region.mask_png, answer.data, region.feather_px, region.feather_inward,
                            images.recipe_chunks(recipe) if recipe else ())
    except AlignmentError as exc:
        failure = Failure(FailureKind.MALFORMED, str(exc), detail=f"answer {answer.width}x{answer.height}")
        return replace(result, image=None, failure=failure, raw_image=answer, thumbnail=b"")
    kept = GeneratedImage(blended.png, "image/png", blended.width, blended.height,
                          declared_mime_type=answer.declared_mime_type)
    return replace(result, image=kept, raw_image=answer, thumbnail=blended.thumbnail,
                   region_note=blended.note)


def _check_upscale(region: RegionEdit, answer: GeneratedImage) -> None:
    """An upscale keeps the model's picture; it must still have the original's shape."""
    with Image.open(io.BytesIO(region.base)) as original:  # the header's size: no pixels decoded
        width, height = original.size
    want, got = width / height, answer.width / max(1, answer.height)
    if abs(math.log(got / want)) > math.log1p(RATIO_TOLERANCE):
        raise AlignmentError(f"The model answered a {answer.width}×{answer.height} picture for a "
                             f"{width}×{height} image: not the same shape, so the original "
                             "is kept. Try again.")
