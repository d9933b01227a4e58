"""The studio's banded PNG (studio/png_bands.py): exact pixels at any size, read back by Pillow and by its own
reader, a file from elsewhere or a damaged one left to Pillow, and a rewrite that copies unchanged bands."""

from __future__ import annotations

import io
import random
import zlib

import numpy as np
import pytest
from PIL import Image

from studio import png_bands


def noise(width: int, height: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def pictures(width: int, height: int) -> list[np.ndarray]:
    """Noise, a smooth gradient (long runs, the filter's carries) and a mix of both."""
    rough = noise(width, height, width)
    smooth = np.asarray(Image.linear_gradient("L").resize((width, height)).convert("RGB"))
    return [rough, smooth, (rough // 5 + smooth // 5 * 4).astype(np.uint8)]


@pytest.mark.parametrize("size", [(1, 1), (3, 300), (257, 513), (640, png_bands.BAND_ROWS),
                                  (640, png_bands.BAND_ROWS + 1), (1000, 7)])
def test_every_pixel_comes_back_exactly_through_pillow_and_the_own_reader(size: tuple[int, int]) -> None:
    for pixels in pictures(*size):
        data = png_bands.encode(pixels, [(b"tEXt", b"Software\x00Nano Banana Pro studio")])
        with Image.open(io.BytesIO(data)) as back:
            back.verify()  # every chunk's CRC and the zlib stream (with its Adler-32) are sound
        with Image.open(io.BytesIO(data)) as back:
            assert back.format == "PNG" and back.mode == "RGB" and back.size == size
            assert back.info["Software"] == "Nano Banana Pro studio"
            assert (np.asarray(back) == pixels).all()
        frame = png_bands.decode(data)
        assert frame is not None and (frame.pixels == pixels).all()


def test_a_pillow_image_is_written_the_same_as_its_pixels() -> None:
    pixels = pictures(300, 97)[2]
    assert png_bands.encode_image(Image.fromarray(pixels, "RGB")) == png_bands.encode(pixels)
    with pytest.raises(ValueError, match="RGB"):
        png_bands.encode_image(Image.new("RGBA", (4, 4)))


def test_a_png_from_elsewhere_is_left_to_pillow() -> None:
    out = io.BytesIO()
    Image.fromarray(noise(64, 64), "RGB").save(out, "PNG")
    assert not png_bands.is_banded(out.getvalue()) and png_bands.decode(out.getvalue()) is None
    assert png_bands.decode(b"\xff\xd8 not a png") is None


def test_a_damaged_band_is_not_trusted() -> None:
    data = bytearray(png_bands.encode(noise(200, 100)))
    frame = png_bands.decode(bytes(data))
    assert frame is not None
    band = frame.bands[1]
    start = bytes(data).index(bytes(band.data))
    data[start + len(band.data) // 2] ^= 0x55  # one flipped byte inside the second band
    assert png_bands.is_banded(bytes(data)), "the layout still claims to be ours"
    assert png_bands.decode(bytes(data)) is None, "its checksum fails, so the caller's Pillow says what is wrong"


@pytest.mark.parametrize("changed", [(0, 1), (40, 41), (png_bands.BAND_ROWS, png_bands.BAND_ROWS + 5),
                                     (70, 150), (199, 200)])
def test_a_rewrite_copies_the_unchanged_bands_and_equals_a_whole_encode(changed: tuple[int, int]) -> None:
    original = pictures(150, 200)[2]
    frame = png_bands.decode(png_bands.encode(original))
    assert frame is not None
    edited = frame.pixels.copy()
    edited[changed[0]:changed[1], 20:90] = 255 - edited[changed[0]:changed[1], 20:90]
    rewritten = png_bands.encode(edited, reuse=frame, changed=changed)
    assert rewritten == png_bands.encode(edited), "deflate is deterministic: copied bands are the same bytes"
    with Image.open(io.BytesIO(rewritten)) as back:
        assert (np.asarray(back) == edited).all()


def test_a_stale_changed_range_would_show_so_the_reuse_is_really_a_copy() -> None:
    """Telling the writer that nothing changed when something did keeps the old band: the copy is real."""
    original = noise(64, 96)
    frame = png_bands.decode(png_bands.encode(original))
    assert frame is not None
    edited = frame.pixels.copy()
    edited[80:90] = 0
    with Image.open(io.BytesIO(png_bands.encode(edited, reuse=frame, changed=(0, 1)))) as back:
        assert (np.asarray(back)[80:90] == original[80:90]).all()


def test_adler32_combine_matches_zlib() -> None:
    rng = random.Random(5)
    for _ in range(200):
        first, second = rng.randbytes(rng.randint(0, 300)), rng.randbytes(rng.randint(0, 70000))
        combined = png_bands.adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
        assert combined == zlib.adler32(first + second)


@pytest.mark.parametrize("rows", [(0, 1), (40, 41), (33, 95), (190, 200), (0, 200)])
def test_a_partial_read_unpacks_the_bands_of_the_rows_asked_and_keeps_every_band(rows: tuple[int, int]) -> None:
    pixels = pictures(150, 200)[2]
    frame = png_bands.decode(png_bands.encode(pixels), rows)
    assert frame is not None
    top, bottom = frame.decoded
    assert top <= rows[0] and bottom >= rows[1] and top % png_bands.BAND_ROWS == 0
    assert bottom - top < rows[1] - rows[0] + 2 * png_bands.BAND_ROWS, "no more than the bands around them"
    assert (frame.pixels[top:bottom] == pixels[top:bottom]).all()
    assert len(frame.bands) == -(-200 // png_bands.BAND_ROWS), "every band, to be copied"
    edited = frame.pixels.copy()
    edited[rows[0]:rows[1]] = 7
    rewritten = png_bands.encode(edited, reuse=frame, changed=rows)
    expected = pixels.copy()
    expected[rows[0]:rows[1]] = 7
    with Image.open(io.BytesIO(rewritten)) as back:
        assert (np.asarray(back) == expected).all(), "the bands not unpacked came over as they were"


def test_a_header_claiming_a_giant_frame_is_not_trusted() -> None:
    data = bytearray(png_bands.encode(noise(8, 8)))
    data[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR width and height: ten billion pixels
    assert png_bands.header(bytes(data)) is None and png_bands.decode(bytes(data)) is None
