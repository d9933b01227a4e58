"""The region composite's fast path: its own PNG writer (exact pixels, any size), the blend on the mask's
rectangle at the frame's edges, a mask that changes nothing or everything, and the thumbnail from pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from studio import images
from studio.regions import blend, masks, png_writer


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, quality=80)
    return out.getvalue()


def rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB")).astype(int)


@pytest.mark.parametrize("size", [(1, 1), (3, 300), (257, 513), (640, png_writer.BAND_ROWS), (1000, 7)])
def test_the_png_writer_keeps_every_pixel_exactly(size: tuple[int, int]) -> None:
    picture = noise(size, seed=size[0])
    smooth = Image.linear_gradient("L").resize(size).convert("RGB")  # long runs and the filter's carries
    for image in (picture, smooth, Image.blend(picture, smooth, 0.8)):
        data = png_writer.encode_rgb(image, [("Software", "Nano Banana Pro studio")])
        with Image.open(io.BytesIO(data)) as back:
            back.verify()  # every chunk's CRC and the zlib stream are sound
        with Image.open(io.BytesIO(data)) as back:
            assert back.format == "PNG" and back.mode == "RGB" and back.size == size
            assert back.info["Software"] == "Nano Banana Pro studio"
            assert (np.asarray(back) == np.asarray(image)).all()


def test_the_png_writer_refuses_a_mode_it_does_not_write() -> None:
    with pytest.raises(ValueError, match="RGB"):
        png_writer.encode_rgb(Image.new("RGBA", (4, 4)))


def test_the_composite_is_written_by_the_fast_writer_and_compresses() -> None:
    gradient = Image.linear_gradient("L").resize((600, 400)).convert("RGB")
    mask = masks.mask_from_shapes((600, 400), (600, 400), [masks.Rect((100, 100, 200, 200))])
    result = blend.composite(encoded(gradient), mask, encoded(noise((600, 400))), 4)
    assert result.png[:8] == png_writer.SIGNATURE and b"IDAT" in result.png
    assert len(result.png) < 600 * 400 * 3 / 2, "compressed, not stored"


@pytest.mark.parametrize("box", [(0, 0, 599, 30), (560, 0, 599, 399), (0, 370, 599, 399), (0, 0, 40, 399)])
@pytest.mark.parametrize("feather", [0, 6])
def test_a_mask_touching_the_frames_edges_changes_only_its_area(box: tuple[int, int, int, int],
                                                                 feather: int) -> None:
    base, answer = noise((600, 400), 2), noise((600, 400), 3)
    mask = masks.mask_from_shapes((600, 400), (600, 400), [masks.Rect(box)])
    result = blend.composite(encoded(base), mask, encoded(answer), feather)
    after, before, drawn = rgb(result.png), np.asarray(base).astype(int), np.asarray(answer).astype(int)
    reach = blend.reach(feather)
    keep = np.ones((400, 600), bool)
    keep[max(0, box[1] - reach):box[3] + reach + 1, max(0, box[0] - reach):box[2] + reach + 1] = False
    assert (after[keep] == before[keep]).all(), "outside the mask and its feather: the original, exactly"
    inside = (slice(box[1], box[3] + 1), slice(box[0], box[2] + 1))
    assert (after[inside] == drawn[inside]).all(), "the white area takes the answer wholly, up to the edge"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_empty_mask_gives_the_originals_decoded_pixels_losslessly(fmt: str) -> None:
    base = encoded(noise((300, 200)), fmt)
    result = blend.composite(base, masks.blank_mask((300, 200)), encoded(noise((300, 200), 5)), 4)
    assert result.png[:8] == png_writer.SIGNATURE and (rgb(result.png) == rgb(base)).all()
    assert (result.width, result.height) == (300, 200) and result.thumbnail == images.make_thumbnail(result.png)


def test_a_full_mask_takes_the_whole_answer() -> None:
    answer = noise((300, 200), 7)
    full = masks.invert_mask(masks.blank_mask((300, 200)))
    result = blend.composite(encoded(noise((300, 200))), full, encoded(answer), 4)
    assert (rgb(result.png) == np.asarray(answer)).all()


@pytest.mark.parametrize("size", [(4096, 4096), (1024, 576), (577, 1024), (2001, 3), (300, 200)])
def test_the_thumbnail_from_pixels_is_the_thumbnail_of_the_file(size: tuple[int, int]) -> None:
    picture = Image.linear_gradient("L").resize(size).convert("RGB") if size[0] > 2000 else noise(size)
    expected = images.make_thumbnail(encoded(picture))
    assert images.thumbnail_of(picture) == expected


def test_the_composite_brings_its_thumbnail() -> None:
    mask = masks.mask_from_shapes((600, 400), (600, 400), [masks.Rect((10, 10, 90, 90))])
    result = blend.composite(encoded(noise((600, 400))), mask, encoded(noise((600, 400), 4)), 4)
    assert result.thumbnail == images.make_thumbnail(result.png)
