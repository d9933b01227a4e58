"""Bad input, case by case: each gets a clear message a person understands (docs/RELIABILITY.md table).

The studio-level checks live here; that nothing is lost in the UI is checked in test_nothing_lost.py.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from studio.catalogue import DEFAULT_CATALOGUE
from studio.credentials import Connection, check_connection, make_client, normalize_api_key
from studio.engine import Engine
from studio.images import MAX_UPLOAD_BYTES, ImageInputError, load_reference, read_recipe
from studio.request import GenerationRequest, ReferenceImage, problems_with, validate, warnings_for
from studio.results import FailureKind

PRO, FLASH2, FLASH = "gemini-3-pro-image", "gemini-3.1-flash-image", "gemini-2.5-flash-image"


def _png(width: int = 64, height: int = 48, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), 200 if mode in ("L", "I;16") else (200, 30, 60)).save(out, "PNG")
    return out.getvalue()


def _bomb_png(side: int = 20000) -> bytes:
    """A tiny file that claims 20000x20000 pixels: the header alone must get it refused."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _refused(name: str, data: bytes) -> str:
    with pytest.raises(ImageInputError) as caught:
        load_reference(name, data)
    message = str(caught.value)
    assert name in message, "the message must name the file"
    return message


def _request(**changes: object) -> GenerationRequest:
    base: dict = {"prompt": "a lighthouse at dawn", "model_id": PRO}
    base.update(changes)
    return GenerationRequest(**base)


def _ref(i: int) -> ReferenceImage:
    return ReferenceImage(name=f"ref{i}.png", data=_png(), mime_type="image/png", width=64, height=48)


# ---- files ------------------------------------------------------------------------------
def test_text_file_renamed_png() -> None:
    assert "not an image (it looks like text)" in _refused("notes.png", b"shopping list: bananas\n" * 20)


def test_html_renamed_jpg() -> None:
    assert "HTML" in _refused("page.jpg", b"<!DOCTYPE html><html><body>hi</body></html>")


def test_pdf_renamed_png() -> None:
    assert "PDF" in _refused("doc.png", b"%PDF-1.7\n%binary\n")


def test_empty_file() -> None:
    assert "empty" in _refused("empty.png", b"")


def test_truncated_png() -> None:
    data = _png(800, 600)
    assert "truncated or damaged" in _refused("cut.png", data[: len(data) // 2])


def test_decompression_bomb() -> None:
    message = _refused("bomb.png", _bomb_png())
    assert "decompression bomb" in message and "Downscale it first" in message


def test_file_over_upload_limit() -> None:
    assert "must be under" in _refused("huge.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (MAX_UPLOAD_BYTES + 1))


def test_heic_is_refused_with_a_way_out() -> None:
    assert "export it as JPEG or PNG" in _refused("photo.heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    ref, notes = load_reference("spin.gif", out.getvalue())
    assert any("animated" in n and "first frame" in n for n in notes)
    assert Image.open(io.BytesIO(ref.data)).getpixel((5, 5))[0] > 200  # the red first frame


def test_cmyk_image_is_converted() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (50, 40), (0, 255, 255, 0)).save(out, "JPEG")
    ref, notes = load_reference("print.jpg", out.getvalue())
    assert Image.open(io.BytesIO(ref.data)).mode == "RGB"
    assert any("CMYK" in n for n in notes)


def test_16_bit_png_is_converted() -> None:
    out = io.BytesIO()
    Image.new("I;16", (50, 40), 40000).save(out, "PNG")
    ref, _ = load_reference("scan16.png", out.getvalue())
    assert Image.open(io.BytesIO(ref.data)).mode == "RGB"


def test_huge_exif_block_is_dropped() -> None:
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription, 60 KB
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(out, "JPEG", exif=exif)
    ref, _ = load_reference("exif.jpg", out.getvalue())
    assert len(ref.data) < 20_000
    assert not Image.open(io.BytesIO(ref.data)).getexif()


def test_large_reference_is_downscaled() -> None:
    ref, notes = load_reference("wide.png", _png(5000, 1000))
    assert max(ref.width, ref.height) == 2048
    assert any("downscaled" in n for n in notes)


# ---- requests ---------------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "expected"), [
    ({"references": tuple(_ref(i) for i in range(15))},
     "Nano Banana Pro takes at most 14 reference images; you added 15."),
    ({"prompt": ""}, "Write a prompt first"),
    ({"prompt": "   \n\t "}, "Write a prompt first"),
    ({"prompt": "x" * 100_000}, "The prompt is 100,000 characters; keep it under 30,000."),
    ({"model_id": FLASH, "image_size": "2K"}, "Nano Banana accepts 1K only."),
    ({"image_size": "1k"}, "choose 1K, 2K, 4K (with a capital K)"),
    ({"aspect_ratio": "1:4"}, "Nano Banana Pro does not take the aspect ratio 1:4"),
    ({"model_id": FLASH, "aspect_ratio": "8:1"}, "Nano Banana does not take the aspect ratio 8:1"),
    ({"output_format": "JPEG", "jpeg_quality": 0}, "JPEG quality must be between 1 and 100; you set 0."),
    ({"output_format": "JPEG", "jpeg_quality": 101}, "JPEG quality must be between 1 and 100; you set 101."),
    ({"count": 0}, "Number of images must be between 1 and 8; you asked for 0."),
    ({"count": 9}, "Number of images must be between 1 and 8; you asked for 9."),
    ({"seed": -1}, "Seed must be a whole number"),
    ({"temperature": 3.0}, "Temperature must be between 0 and 2"),
    ({"output_format": "WEBP"}, "Output format must be PNG or JPEG"),
], ids=["15-refs-pro", "empty-prompt", "whitespace-prompt", "100k-prompt", "flash-2k", "lowercase-size",
        "pro-1-4", "flash-8-1", "quality-0", "quality-101", "count-0", "count-9", "negative-seed",
        "temperature-3", "webp"])
def test_request_problems_in_plain_words(changes: dict, expected: str) -> None:
    problems = problems_with(_request(**changes))
    assert any(expected in p for p in problems), problems


def test_more_references_than_nano_banana_takes_well_is_a_warning_not_a_block() -> None:
    request = _request(model_id=FLASH, references=tuple(_ref(i) for i in range(5)))
    assert problems_with(request) == []
    assert "works best with up to 3 reference images; you added 5" in warnings_for(request)[0]


@pytest.mark.parametrize("prompt", [
    '<script>alert("x")</script> **bold** [click](javascript:alert(1)) <img src=x onerror=alert(1)>',
    "🍌🦊 a banana fox — עברית and العربية mixed",
])
def test_odd_prompts_are_accepted_and_kept_exactly(prompt: str) -> None:
    assert validate(_request(prompt=prompt)).prompt == prompt


def test_nul_characters_are_removed() -> None:
    assert validate(_request(prompt="a\x00 fox\x00")).prompt == "a fox"


def test_custom_model_id_gets_generic_limits() -> None:
    spec = DEFAULT_CATALOGUE.resolve("gemini-4-pro-image")
    assert spec.key == "custom" and spec.max_references == 14
    assert problems_with(_request(model_id="gemini-4-pro-image")) == []


# ---- credentials --------------------------------------------------------------------------
def test_empty_api_key() -> None:
    with pytest.raises(ValueError, match="the field is empty"):
        normalize_api_key("   ")


def test_api_key_with_spaces_around_it() -> None:
    key, notes = normalize_api_key("  test-key \n")
    assert key == "test-key" and "spaces or line breaks around it" in notes[0]


def test_api_key_with_spaces_inside() -> None:
    with pytest.raises(ValueError, match="spaces in the middle"):
        normalize_api_key("test key")


def test_invalid_api_key(emulator) -> None:
    connection = Connection(mode="api_key", api_key="AIzaWRONGWRONGWRONGWRONGWRONG", base_url=emulator.base_url)
    failure = check_connection(make_client(connection), connection.secrets())
    assert failure is not None and failure.kind is FailureKind.INVALID_API_KEY
    assert failure.message.startswith("API key not valid")
    assert "AIzaWRONG" not in failure.message + failure.detail


@pytest.mark.parametrize(("token", "kind"), [
    ("expired-token", FailureKind.TOKEN_EXPIRED),
    ("revoked-token", FailureKind.TOKEN_EXPIRED),
    ("narrow-token", FailureKind.INSUFFICIENT_SCOPE),
])
def test_bad_tokens(fresh_emulator, token: str, kind: FailureKind) -> None:
    emulator = fresh_emulator()
    import httpx

    httpx.post(f"{emulator.base_url}/_emulator/tokens",
               json={"add": ["narrow-token", "revoked-token"], "scopes": {"narrow-token": ["openid", "email"]},
                     "revoke": ["revoked-token"]})
    connection = Connection(mode="oauth", access_token=token, base_url=emulator.base_url)
    result = Engine(make_client(connection), secrets=connection.secrets()).run(_request())[0]
    assert result.failure is not None and result.failure.kind is kind
    assert token not in repr(result) and token not in str(result.request_json)


def test_unknown_model_id(emulator) -> None:
    connection = Connection(mode="api_key", api_key="test-key", base_url=emulator.base_url)
    result = Engine(make_client(connection)).run(_request(model_id="gemini-9-ultra-image"))[0]
    assert result.failure is not None and result.failure.kind is FailureKind.NOT_FOUND
    assert "renamed" in result.failure.message


def test_recipe_of_a_non_studio_image_is_none() -> None:
    assert read_recipe(_png()) is None
    assert read_recipe(b"not an image") is None
