"""Image bytes in and out: real-format detection, safe loading, re-encoding with the recipe inside.

The API's declared mime type can be wrong, uploads can be anything, and every file the studio
hands out carries its recipe (PNG text chunk, JPEG EXIF + XMP) so it can be restored later.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, ImageOps, PngImagePlugin

from studio import png_bands, previews
from studio.request import ReferenceImage
from studio.results import GeneratedImage

RECIPE_KEY = "nano-banana-recipe"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PIXELS = png_bands.MAX_PIXELS  # refuse decompression bombs before decoding (a 20000x20000 image is 400 MP)
REFERENCE_MAX_SIDE = 2048  # larger references are downscaled before sending
_XMP_NS = "http://ns.nanobanana.studio/recipe/1.0/"

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"WEBP", 8, "WEBP"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
)
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


class ImageInputError(ValueError):
    """An image the studio refuses; the message names the file and says why."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


def detect_format(data: bytes) -> str | None:
    """The real format from the magic bytes, whatever the name or declared type says."""
    for magic, offset, name in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            if name == "WEBP" and data[:4] != b"RIFF":
                continue
            return name
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIC"
    return None


def _describe_non_image(data: bytes) -> str:
    head = data[:512]
    if not data:
        return "the file is empty"
    if head.lstrip().startswith((b"<!DOCTYPE", b"<html", b"<svg", b"<?xml")):
        return "it looks like HTML/XML, not a picture"
    if head.startswith(b"%PDF"):
        return "it is a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "it is a ZIP archive"
    try:
        head.decode("utf-8")
        return "it looks like text"
    except UnicodeDecodeError:
        return "its contents are not a PNG, JPEG, WebP or GIF picture"


def _open_checked(name: str, data: bytes) -> Image.Image:
    """Open with the checks that keep a hostile file from hurting the server."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageInputError(
            f"{name} is {len(data) / 1e6:.0f} MB; reference images must be under {MAX_UPLOAD_BYTES // 1_000_000} MB.")
    fmt = detect_format(data)
    if fmt is None:
        raise ImageInputError(f"{name} is not an image ({_describe_non_image(data)}).")
    if fmt == "HEIC":
        raise ImageInputError(f"{name} is a HEIC/AVIF photo, which the studio cannot read; export it as JPEG or PNG.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageInputError(
            f"{name} claims far more pixels than the studio accepts ({MAX_PIXELS // 1_000_000} MP at most), "
            "the signature of a decompression bomb. Downscale it first.") from exc
    except Exception as exc:
        raise ImageInputError(f"{name} could not be read as an image ({fmt}); it may be damaged.") from exc
    if width * height > MAX_PIXELS:
        raise ImageInputError(
            f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} MP); the studio accepts images up "
            f"to {MAX_PIXELS // 1_000_000} MP so a hostile file cannot exhaust memory. Downscale it first.")
    return image


def _load_pixels(name: str, image: Image.Image) -> Image.Image:
    try:
        image.load()
    except Exception as exc:
        raise ImageInputError(f"{name} is truncated or damaged: the image data ends early.") from exc
    return image


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    """Bring CMYK, 16-bit, palette and greyscale images to 8-bit RGB(A) the API reads well."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def load_reference(name: str, data: bytes, max_side: int = REFERENCE_MAX_SIDE) -> tuple[ReferenceImage, list[str]]:
    """A checked, upright, downscaled reference image, plus notes for the person (e.g. "downscaled").

    Raises ImageInputError for anything that is not a usable picture.
    """
    image = _load_pixels(name, _open_checked(name, data))
    notes: list[str] = []
    if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
        notes.append(f"{name} is animated; its first frame is used.")
        image.seek(0)
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not lose the picture itself
        notes.append(f"{name} has unreadable EXIF data; it was ignored.")
    if image.mode not in ("RGB", "RGBA"):
        if image.mode in ("CMYK", "I;16", "I"):
            notes.append(f"{name} was converted from {image.mode} to RGB.")
        image = _to_rgb_or_rgba(image)
    if max(image.size) > max_side:
        original = image.size
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        notes.append(f"{name} was downscaled from {original[0]}x{original[1]} to {image.width}x{image.height}.")
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "PNG", optimize=False, compress_level=3)
        mime = "image/png"
    else:
        image.save(out, "JPEG", quality=92)  # no EXIF copied: huge or private metadata stays behind
        mime = "image/jpeg"
    return ReferenceImage(name=name, data=out.getvalue(), mime_type=mime, width=image.width,
                          height=image.height), notes


def inspect(data: bytes, name: str = "image") -> ImageInfo:
    image = _open_checked(name, data)
    return ImageInfo(format=image.format or detect_format(data) or "?", width=image.width, height=image.height)


def _xmp_packet(recipe_json: str) -> bytes:
    escaped = recipe_json.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:nbs="{_XMP_NS}" nbs:recipe="{escaped}"/>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def encode_output(data: bytes, fmt: str, quality: int, recipe: dict) -> GeneratedImage:
    """Re-encode an API image to PNG or JPEG with the recipe embedded, whatever the API sent.

    When the bytes already are the requested format, the recipe is spliced into the file as
    metadata chunks without decoding pixels: a 4K answer then costs a copy, not a re-encode.
    """
    actual = detect_format(data)
    declared = MIME.get(actual or "", "application/octet-stream")
    image = _open_checked("The generated image", data)
    recipe_json = json.dumps(recipe, ensure_ascii=False, sort_keys=True)
    if actual == fmt == "PNG" and _png_is_complete(data):
        return GeneratedImage(data=_splice_png(data, recipe, recipe_json), mime_type="image/png",
                              width=image.width, height=image.height, declared_mime_type=declared)
    if actual == fmt == "JPEG" and data.endswith(b"\xff\xd9"):
        spliced = _splice_jpeg(data, recipe, recipe_json)
        if spliced is not None:
            return GeneratedImage(data=spliced, mime_type="image/jpeg", width=image.width,
                                  height=image.height, declared_mime_type=declared)
    image = _load_pixels("The generated image", image)
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=quality, exif=_exif(recipe, recipe_json),
                                  xmp=_xmp_packet(recipe_json))
        mime = "image/jpeg"
    elif image.mode == "RGB":  # a JPEG answer kept as PNG: banded (png_bands), ~10x faster than Pillow's at 4K
        chunks = _png_text_chunks(recipe, recipe_json) + _preview_chunks(image)
        return GeneratedImage(data=png_bands.encode_image(image, chunks),
                              mime_type="image/png", width=image.width, height=image.height,
                              declared_mime_type=declared)
    else:
        info = PngImagePlugin.PngInfo()
        for key, value in _png_texts(recipe, recipe_json):
            info.add_itxt(key, value)
        image.save(out, "PNG", pnginfo=info, compress_level=3)
        mime = "image/png"
    return GeneratedImage(data=out.getvalue(), mime_type=mime, width=image.width, height=image.height,
                          declared_mime_type=declared)


def _png_texts(recipe: dict, recipe_json: str) -> list[tuple[str, str]]:
    return [(RECIPE_KEY, recipe_json), ("Software", "Nano Banana Pro studio"),
            ("Description", str(recipe.get("prompt", "")))]


def _png_is_complete(data: bytes) -> bool:
    return data[-12:-8] == b"\x00\x00\x00\x00" and data[-8:-4] == b"IEND"


def _preview_chunks(image: Image.Image) -> list[tuple[bytes, bytes]]:
    """The thumbnail's reduction, carried in the file (``previews``): none where it would cost more than it saves."""
    how = previews.plan(image.width, image.height)
    if how is None or not how.keeps_preview:
        return []
    return [previews.preview_chunk(np.asarray(image.reduce(how.factor)), how)]


def recipe_chunks(recipe: dict) -> list[tuple[bytes, bytes]]:
    """The recipe as the PNG chunks ``encode_output`` writes, for a writer that takes chunks (``png_bands``)."""
    return _png_text_chunks(recipe, json.dumps(recipe, ensure_ascii=False, sort_keys=True))


def _png_text_chunks(recipe: dict, recipe_json: str) -> list[tuple[bytes, bytes]]:
    """The recipe's iTXt chunks (uncompressed UTF-8 text, no language tag), as (type, payload)."""
    return [(b"iTXt", key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + value.encode("utf-8"))
            for key, value in _png_texts(recipe, recipe_json)]


def _splice_png(data: bytes, recipe: dict, recipe_json: str) -> bytes:
    """Insert iTXt chunks right after IHDR, where every reader looks for them."""
    ihdr_end = 8 + 4 + 4 + struct.unpack(">I", data[8:12])[0] + 4
    chunks = b"".join(png_bands.chunk(kind, payload) for kind, payload in _png_text_chunks(recipe, recipe_json))
    return data[:ihdr_end] + chunks + data[ihdr_end:]


def _exif(recipe: dict, recipe_json: str) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = _ascii_summary(recipe)
    exif[ExifTags.Base.Software] = "Nano Banana Pro studio"
    comment = b"UNICODE\x00" + recipe_json.encode("utf-16-be")
    if len(comment) < 60_000:  # a JPEG segment holds 64 KB; XMP still carries the whole recipe
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = comment
    return exif


def _app1(payload: bytes) -> bytes | None:
    if len(payload) + 2 > 0xFFFF:
        return None
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _splice_jpeg(data: bytes, recipe: dict, recipe_json: str) -> bytes | None:
    """Insert EXIF and XMP APP1 segments after SOI, dropping any the file had; None if too big."""
    exif = _app1(_exif(recipe, recipe_json).tobytes())
    xmp = _app1(b"http://ns.adobe.com/xap/1.0/\x00" + _xmp_packet(recipe_json))
    if exif is None or xmp is None:
        return None
    pos, kept = 2, []
    while pos + 4 <= len(data) and data[pos] == 0xFF and 0xE0 <= data[pos + 1] <= 0xEF:
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        segment = data[pos:pos + 2 + length]
        if data[pos + 1] != 0xE1:  # keep JFIF/ICC etc., replace old EXIF/XMP
            kept.append(segment)
        pos += 2 + length
    jfif = [seg for seg in kept if seg[1] == 0xE0]
    others = [seg for seg in kept if seg[1] != 0xE0]
    return data[:2] + b"".join(jfif) + exif + xmp + b"".join(others) + data[pos:]


def _ascii_summary(recipe: dict) -> str:
    text = f"{recipe.get('prompt', '')} | {recipe.get('model', '')} {recipe.get('aspect_ratio', '')} {recipe.get('image_size', '')}"
    return text.encode("ascii", "replace").decode("ascii")[:1000]


def read_recipe(data: bytes) -> dict | None:
    """The recipe the studio embedded, from a PNG chunk or JPEG EXIF/XMP; None for other files."""
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:
        return None
    if image.format == "PNG":
        raw = image.info.get(RECIPE_KEY)
        return _parse(raw)
    if image.format == "JPEG":
        comment = image.getexif().get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.UserComment)
        if isinstance(comment, bytes) and comment.startswith(b"UNICODE\x00"):
            found = _parse(comment[8:].decode("utf-16-be", "replace"))
            if found:
                return found
        xmp = image.info.get("xmp")
        if xmp:
            match = re.search(rb'nbs:recipe="([^"]*)"', xmp)
            if match:
                text = match.group(1).decode("utf-8").replace("&quot;", '"').replace("&lt;", "<")
                return _parse(text.replace("&gt;", ">").replace("&amp;", "&"))
    return None


def _parse(raw: object) -> dict | None:
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def data_url(data: bytes, mime_type: str) -> str:
    """The image inline as a ``data:`` URL: drawn with the message that carries it, no second fetch."""
    return f"data:{mime_type};base64,{base64.b64encode(data).decode()}"


def check_pixels(data: bytes) -> None:
    """Decode every pixel, so a truncated or damaged file raises here (``make_thumbnail`` of a studio PNG reads
    only its preview): the studio's own PNG band by band, with each band's checksum; anything else by Pillow."""
    if png_bands.is_banded(data):
        if png_bands.decode(data) is None:  # a band's checksum failed (Pillow's load would not look)
            raise ValueError("a band of the studio's PNG is damaged")
        return
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def make_thumbnail(data: bytes, max_side: int = 384) -> bytes:
    """A small JPEG for grids and tables (the original stays on disk); a studio PNG's from its preview chunk."""
    if max_side == previews.THUMBNAIL_SIDE:
        ready = previews.thumbnail_from_preview(data)
        if ready is not None:
            return ready
    source = Image.open(io.BytesIO(data))
    source.draft("RGB", (max_side, max_side))  # JPEG decodes at a fraction of its size: much less work for 4K
    image = source.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return previews.thumbnail_jpeg(image)

