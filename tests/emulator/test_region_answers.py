"""The emulator answers a mask as a real model does: the change inside the white area, the rest of the
frame slightly off (a colour shift and a one-pixel drift); an upscale at the size asked for."""

from __future__ import annotations

import io

import numpy as np
from google.genai import types
from PIL import Image

from studio.regions import masks
from studio.regions.edit import REGION_PREAMBLE, UPSCALE_PREAMBLE

from .conftest import PRO, image_config


def encoded(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def answer(response: types.GenerateContentResponse) -> np.ndarray:
    parts = [p for p in response.candidates[0].content.parts if p.inline_data and not p.thought]
    with Image.open(io.BytesIO(parts[-1].inline_data.data)) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def striped(size: tuple[int, int]) -> Image.Image:
    picture = Image.new("RGB", size, (60, 90, 120))
    picture.paste((240, 240, 240), (100, 0, 104, size[1]))  # a vertical stripe to see the drift
    return picture


def test_a_mask_changes_the_white_area_and_perturbs_the_rest(sdk) -> None:
    picture = striped((1024, 1024))
    mask = masks.mask_from_shapes((1024, 1024), (1024, 1024), [masks.Rect((500, 500, 900, 900))])
    contents = ["Replace the sky with a sunset", REGION_PREAMBLE,
                types.Part.from_bytes(data=encoded(picture), mime_type="image/png"),
                types.Part.from_bytes(data=mask, mime_type="image/png")]
    got = answer(sdk.models.generate_content(model=PRO, contents=contents, config=image_config("1:1", "1K")))
    before = np.asarray(picture).astype(int)
    assert got.shape == (1024, 1024, 3)
    outside = got[:400, :400]
    assert (outside != before[:400, :400]).any(axis=2).mean() > 0.9, "the model does not keep untouched pixels"
    assert abs(outside[:, 200] - before[:400, 200]).mean() < 8, "only slightly off"
    assert got[200, 101:105, 0].min() > 200 and got[200, 100, 0] < 150 and got[200, 105, 0] < 150, "the stripe drifted one pixel right"
    assert abs(got[520:880, 520:880] - before[520:880, 520:880]).mean() > 20, "the white area really changed"


def test_without_a_mask_image_the_words_alone_draw_as_before(sdk) -> None:
    picture = encoded(striped((64, 64)))
    contents = ["Replace the sky", REGION_PREAMBLE, types.Part.from_bytes(data=picture, mime_type="image/png"),
                types.Part.from_bytes(data=picture, mime_type="image/png")]  # not black and white: no mask
    got = answer(sdk.models.generate_content(model=PRO, contents=contents, config=image_config("1:1", "1K")))
    assert abs(got[:60, :60] - np.asarray(striped((1024, 1024)))[:60, :60]).mean() > 20


def test_an_upscale_answers_the_same_picture_at_the_size_asked(sdk) -> None:
    picture = striped((1024, 1024))
    contents = ["Upscale", UPSCALE_PREAMBLE, types.Part.from_bytes(data=encoded(picture), mime_type="image/png")]
    got = answer(sdk.models.generate_content(model=PRO, contents=contents, config=image_config("1:1", "2K")))
    assert got.shape == (2048, 2048, 3)
    assert abs(got[::2, ::2] - np.asarray(picture).astype(int)).mean() < 6, "the same picture, larger"
