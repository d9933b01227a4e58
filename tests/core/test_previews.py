"""Thumbnails from pixels in hand and from a studio PNG's preview chunk (studio/previews.py): always the same
JPEG bytes as Pillow's thumbnail of the whole file, whichever way they are made."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from studio import images, png_bands, previews


def picture(size: tuple[int, int], seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = np.asarray(Image.linear_gradient("L").resize(size).convert("RGB")).astype(np.int16)
    return np.clip(smooth + rng.integers(-40, 40, smooth.shape), 0, 255).astype(np.uint8)


def pillow_thumbnail(data: bytes) -> bytes:
    """Pillow's thumbnail of every decoded pixel: what ``make_thumbnail`` gives a file without a preview."""
    with Image.open(io.BytesIO(data)) as img:
        image = img.convert("RGB")
    image.thumbnail((previews.THUMBNAIL_SIDE, previews.THUMBNAIL_SIDE), Image.Resampling.BILINEAR)
    return previews.thumbnail_jpeg(image)


def studio_png(pixels: np.ndarray) -> bytes:
    """A PNG version as the engine stores it: a JPEG answer kept as PNG (banded, with its preview)."""
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=95)
    return images.encode_output(out.getvalue(), "PNG", 90, {"prompt": "a test"}).data


@pytest.mark.parametrize("size", [(4096, 1200), (2752, 1536), (1024, 576), (577, 1024), (2001, 3), (3, 2001),
                                  (385, 384), (300, 200), (769, 1537)])
def test_the_thumbnail_of_pixels_is_pillows_thumbnail_of_the_file(size: tuple[int, int]) -> None:
    pixels = picture(size)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "PNG", compress_level=0)
    assert previews.thumbnail_of_pixels(pixels) == pillow_thumbnail(out.getvalue())


def test_a_strided_frame_gives_the_same_thumbnail_as_a_contiguous_one() -> None:
    pixels = picture((1700, 1100))
    frame = png_bands.decode(png_bands.encode(pixels))
    assert frame is not None and not frame.pixels.flags["C_CONTIGUOUS"]
    assert previews.thumbnail_of_pixels(frame.pixels) == previews.thumbnail_of_pixels(pixels)


@pytest.mark.parametrize("size", [(3072, 1728), (2400, 1500), (1000, 2600)])
def test_a_studio_png_carries_a_preview_that_gives_the_files_thumbnail(size: tuple[int, int]) -> None:
    data = studio_png(picture(size))
    head = png_bands.header(data)
    assert head is not None and previews.PREVIEW in head[2]
    from_preview = previews.thumbnail_from_preview(data)
    assert from_preview is not None and from_preview == pillow_thumbnail(data)
    assert images.make_thumbnail(data) == from_preview


@pytest.mark.parametrize("size", [(700, 500), (2048, 2048), (2048, 1152)])
def test_a_picture_up_to_2k_carries_no_preview(size: tuple[int, int]) -> None:
    """Below 768 px Pillow reduces nothing; at 2K a preview would hold a quarter of the pixels (the file a
    quarter bigger) to save a decode of a tenth of a second."""
    data = studio_png(picture(size))
    head = png_bands.header(data)
    assert head is not None and previews.PREVIEW not in head[2]
    assert images.make_thumbnail(data) == pillow_thumbnail(data)


def test_a_preview_for_another_size_is_not_used() -> None:
    pixels = picture((2400, 1500))
    wrong = previews.plan(2400, 1500)
    assert wrong is not None
    stale = previews.Plan(2400, 1500, wrong.size, (wrong.factor[0] + 1, wrong.factor[1]))
    reduced = np.zeros((*reversed(stale.reduced_size), 3), np.uint8)  # not these pixels' reduction at all
    data = png_bands.encode(pixels, [previews.preview_chunk(reduced, stale)])
    assert previews.thumbnail_from_preview(data) is None
    assert images.make_thumbnail(data) == pillow_thumbnail(data)


def test_updating_a_preview_reduces_only_the_changed_rows_again() -> None:
    data = studio_png(picture((2400, 1500)))
    frame = png_bands.decode(data)
    assert frame is not None
    pixels = frame.pixels
    how = previews.plan(2400, 1500)
    head = png_bands.header(data)
    assert how is not None and head is not None
    original = previews.preview_of(head[2], how)
    assert original is not None
    edited = pixels.copy()
    edited[300:420, 200:900] = 255 - edited[300:420, 200:900]
    rows = previews.updated(original, edited, how, (300, 420))
    assert rows[0] <= 300 // how.factor[1] and rows[1] >= 420 // how.factor[1]
    fresh = np.asarray(previews.reduce_rows(edited, how, 0, 1500))
    assert (original.pixels == fresh).all(), "the same as reducing the whole edited picture"


@pytest.mark.parametrize("kind", ["studio PNG", "JPEG", "PNG from elsewhere"])
def test_a_picture_fitted_to_show_keeps_its_shape_and_looks_like_pillows(kind: str) -> None:
    """The paint canvas' background: at most 1280 px a side, the original's ratio, close to Pillow's own."""
    pixels = picture((2900, 1700))
    if kind == "studio PNG":
        data = studio_png(pixels)
    else:
        out = io.BytesIO()
        Image.fromarray(pixels, "RGB").save(out, "JPEG" if kind == "JPEG" else "PNG")
        data = out.getvalue()
    shown = previews.fitted(data, 1280)
    with Image.open(io.BytesIO(data)) as img:
        expected = img.convert("RGB")
    expected.thumbnail((1280, 1280))
    assert shown.size == expected.size == (1280, 750)
    difference = np.abs(np.asarray(shown).astype(int) - np.asarray(expected).astype(int))
    assert difference.mean() < 4, "the same picture, up to resampling"
