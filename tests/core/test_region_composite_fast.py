"""The region composite's fast path: the banded PNG it writes, the blend on the mask's rectangle at the
frame's edges, a mask that changes nothing or everything, originals of every kind (banded PNG, JPEG, a
PNG from elsewhere), and the thumbnail from pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio import images, png_bands, previews
from studio.regions import blend, masks
from studio.regions import feather as feather_edge
from tests.core.test_previews import pillow_thumbnail


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


def test_the_composite_is_written_banded_and_compresses() -> None:
    gradient = Image.linear_gradient("L").resize((600, 400)).convert("RGB")
    mask = masks.mask_from_shapes((600, 400), (600, 400), [masks.Rect((100, 100, 200, 200))])
    result = blend.composite(encoded(gradient), mask, encoded(noise((600, 400))), 4)
    assert png_bands.is_banded(result.png) and png_bands.decode(result.png) is not None
    assert len(result.png) < 600 * 400 * 3 / 2, "compressed, not stored"


@pytest.mark.parametrize("box", [(0, 0, 599, 30), (560, 0, 599, 399), (0, 370, 599, 399), (0, 0, 40, 399)])
@pytest.mark.parametrize("feather", [0, 6])
def test_a_mask_touching_the_frames_edges_changes_only_its_area(box: tuple[int, int, int, int],
                                                                 feather: int) -> None:
    base, answer = noise((600, 400), 2), noise((600, 400), 3)
    mask = masks.mask_from_shapes((600, 400), (600, 400), [masks.Rect(box)])
    result = blend.composite(encoded(base), mask, encoded(answer), feather)
    after, before, drawn = rgb(result.png), np.asarray(base).astype(int), np.asarray(answer).astype(int)
    reach = feather_edge.reach(feather)
    keep = np.ones((400, 600), bool)
    keep[max(0, box[1] - reach):box[3] + reach + 1, max(0, box[0] - reach):box[2] + reach + 1] = False
    assert (after[keep] == before[keep]).all(), "outside the mask and its feather: the original, exactly"
    inside = (slice(box[1], box[3] + 1), slice(box[0], box[2] + 1))
    assert (after[inside] == drawn[inside]).all(), "the white area takes the answer wholly, up to the edge"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_empty_mask_gives_the_originals_decoded_pixels_losslessly(fmt: str) -> None:
    base = encoded(noise((300, 200)), fmt)
    result = blend.composite(base, masks.blank_mask((300, 200)), encoded(noise((300, 200), 5)), 4)
    assert png_bands.is_banded(result.png) and (rgb(result.png) == rgb(base)).all()
    assert (result.width, result.height) == (300, 200) and result.thumbnail == images.make_thumbnail(result.png)


def test_a_full_mask_takes_the_whole_answer() -> None:
    answer = noise((300, 200), 7)
    full = masks.invert_mask(masks.blank_mask((300, 200)))
    result = blend.composite(encoded(noise((300, 200))), full, encoded(answer), 4)
    assert (rgb(result.png) == np.asarray(answer)).all()


def test_the_composite_brings_its_thumbnail() -> None:
    mask = masks.mask_from_shapes((600, 400), (600, 400), [masks.Rect((10, 10, 90, 90))])
    result = blend.composite(encoded(noise((600, 400))), mask, encoded(noise((600, 400), 4)), 4)
    assert result.thumbnail == images.make_thumbnail(result.png)


def _version(pixels: np.ndarray, kind: str) -> bytes:
    """The picture as History would hold it: a studio PNG (banded, with its preview), a JPEG version, or a PNG
    from elsewhere."""
    out = io.BytesIO()
    if kind == "PNG from elsewhere":
        Image.fromarray(pixels, "RGB").save(out, "PNG")
        return out.getvalue()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=95)
    return images.encode_output(out.getvalue(), "PNG" if kind == "studio PNG" else "JPEG", 90, {"prompt": "t"}).data


@pytest.mark.parametrize("kind", ["studio PNG", "JPEG version", "PNG from elsewhere"])
def test_every_kind_of_original_keeps_its_pixels_and_gets_a_true_thumbnail_and_preview(kind: str) -> None:
    size = (2400, 1500)  # big enough for a preview (Pillow reduces by 3 before resizing)
    base = _version(np.asarray(noise(size, 8)), kind)
    answer = noise(size, 9)
    mask = masks.mask_from_shapes(size, size, [masks.Rect((300, 420, 1100, 610))])
    result = blend.composite(base, mask, encoded(answer), 4)
    after, before = rgb(result.png), rgb(base)
    keep = np.ones((1500, 2400), bool)
    keep[420 - 4:610 + 5, 300 - 4:1100 + 5] = False
    assert (after[keep] == before[keep]).all(), "outside the mask and its feather: the original, exactly"
    assert (after[420:611, 300:1101] == np.asarray(answer)[420:611, 300:1101]).all()
    assert png_bands.is_banded(result.png)
    assert result.thumbnail == images.make_thumbnail(result.png)  # from the composite's own preview
    assert previews.thumbnail_from_preview(result.png) == pillow_thumbnail(result.png), "its preview is true"


def test_a_studio_png_is_unpacked_only_where_the_edit_needs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    size = (2400, 1536)
    base = _version(np.asarray(noise(size, 10)), "studio PNG")
    mask = masks.mask_from_shapes(size, size, [masks.Rect((100, 64, 400, 120))])
    unpacked = []
    real = png_bands.deflate_lib.decompressobj

    def counting(*args: object) -> object:
        unpacked.append(args)
        return real(*args)

    monkeypatch.setattr(png_bands.deflate_lib, "decompressobj", counting)
    result = blend.composite(base, mask, encoded(noise(size, 11)), 4)
    bands = -(-1536 // png_bands.BAND_ROWS)
    preview_bands = -(-512 // png_bands.BAND_ROWS)  # the preview (2400 x 1536 reduced by 3) is unpacked whole
    assert len(unpacked) < bands // 4 + preview_bands, "only the bands around rows 60-124 of the picture"
    assert (rgb(result.png)[200:] == rgb(base)[200:]).all()


def _strokes(size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    mask = Image.new("L", size)
    draw = ImageDraw.Draw(mask)
    for _ in range(20):
        x, y = int(rng.integers(0, size[0])), int(rng.integers(0, size[1]))
        draw.line((x, y, x + int(rng.integers(-90, 90)), y + int(rng.integers(-90, 90))), fill=255,
                  width=int(rng.integers(1, 30)))
    return mask


def _masks_to_feather() -> list[Image.Image]:
    ellipse = Image.new("L", (700, 500))
    ImageDraw.Draw(ellipse).ellipse((50, 40, 600, 420), fill=255)
    top_half = Image.new("L", (700, 500))
    ImageDraw.Draw(top_half).rectangle((0, 0, 699, 250), fill=255)
    dots = Image.fromarray((np.random.default_rng(3).random((300, 400)) > 0.999).astype(np.uint8) * 255)
    one = Image.new("L", (500, 300))
    one.putpixel((250, 150), 255)
    return [ellipse, top_half, _strokes((333, 257), 4), dots, Image.new("L", (500, 300), 255), one]


@pytest.mark.parametrize("feather", [0, 1, 2, 4, 9, 16, 40])
@pytest.mark.parametrize("inward", [False, True])
def test_feathering_near_the_edge_only_gives_the_whole_rectangles_alpha(feather: int, inward: bool) -> None:
    """``feathered`` filters only where the mask changes nearby; the alpha must be the one of filtering the
    whole rectangle (with its margin), to the pixel."""
    for mask in _masks_to_feather():
        box = feather_edge.changed_box(mask, feather, inward)
        assert box is not None
        margin = feather_edge.halo(feather)
        work = (max(0, box[0] - margin), max(0, box[1] - margin), min(mask.width, box[2] + margin),
                min(mask.height, box[3] + margin))
        whole = np.asarray(feather_edge.feather_alpha(mask.crop(work), feather, inward))
        expected = whole[box[1] - work[1]:box[3] - work[1], box[0] - work[0]:box[2] - work[0]]
        assert np.array_equal(feather_edge.feathered(mask, box, feather, inward), expected), mask.size
