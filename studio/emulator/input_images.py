"""Input images as Google reads them: base64 in either alphabet, only formats the models take.

Gemini takes PNG, JPEG, WEBP, HEIC and HEIF; anything else it cannot decode (GIF, garbage bytes)
is a 400 "Unable to process input image". Without an aspect ratio the output follows the first
input image's nearest ratio.
"""

from __future__ import annotations

import base64
import io
import math

from PIL import Image

from studio.catalogue import ModelSpec
from studio.emulator import errors

ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif")


def decode_base64(text: str) -> bytes:
    """Google's parser takes standard and URL-safe base64, padded or not (the SDK sends URL-safe)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def is_image_mime(mime: str) -> bool:
    return mime.lower().startswith("image/")


def check_image(data: bytes) -> None:
    """Refuse bytes Google could not read as an input image."""
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return  # HEIC/HEIF: taken by Google; Pillow cannot open it without a plugin
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
    except Exception as exc:
        raise errors.unable_to_process_image() from exc
    if fmt not in ACCEPTED_FORMATS:
        raise errors.unable_to_process_image()


def nearest_ratio(data: bytes, spec: ModelSpec) -> str:
    """The model's ratio closest (in log space, so 2:1 and 1:2 are equally far) to an image's."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            actual = img.width / img.height
    except Exception:  # an image Pillow cannot size (HEIC): Google answers square
        return "1:1"

    def distance(ratio: str) -> float:
        w, h = (int(x) for x in ratio.split(":"))
        return abs(math.log(actual / (w / h)))

    return min(spec.ratios, key=distance)
