"""The guarantee of a region edit, unit by unit: masks from the canvas, the blend, extend plans, upscale."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from studio import turns
from studio.catalogue import DEFAULT_CATALOGUE
from studio.regions import RegionEdit, blend, frame, masks
from studio.regions.edit import REGION_PREAMBLE, WHOLE_IMAGE_NOTE, problems
from studio.request import GenerationRequest, problems_with

PRO = "gemini-3-pro-image"


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, quality=80)
    return out.getvalue()


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


def rect_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> bytes:
    return masks.mask_from_shapes(size, size, [masks.Rect(box)])


def changed(a: bytes, b: Image.Image) -> np.ndarray:
    return (np.asarray(blend.decode(a)).astype(int) != np.asarray(b).astype(int)).any(axis=2)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("feather", [0, 4, 9])
def test_only_the_mask_and_its_feather_change_exactly(fmt: str, feather: int) -> None:
    base = noise((300, 200))
    base_bytes = encoded(base, fmt)
    decoded = blend.decode(base_bytes)  # the guarantee is about the original's decoded pixels
    answer = encoded(Image.new("RGB", (300, 200), (250, 10, 10)))
    result = blend.composite(base_bytes, rect_mask((300, 200), (100, 50, 180, 120)), answer, feather)
    diff = changed(result.png, decoded)
    ys, xs = np.nonzero(diff)
    reach = 2 * max(1, feather // 2) if feather else 0
    assert xs.min() >= 100 - reach and xs.max() <= 180 + reach and ys.min() >= 50 - reach and ys.max() <= 120 + reach
    assert diff[50:121, 100:181].all(), "the whole painted area takes the answer"
    if feather:
        assert diff[50:121, 100 - reach:100].any(), "the feather softens the edge outside the mask"
    assert result.png[:8] == b"\x89PNG\r\n\x1a\n" and result.note == ""


def test_the_feather_ramps_between_answer_and_original() -> None:
    base = Image.new("RGB", (120, 60), (0, 0, 0))
    answer = encoded(Image.new("RGB", (120, 60), (200, 200, 200)))
    result = blend.decode(blend.composite(encoded(base), rect_mask((120, 60), (60, 0, 119, 59)), answer, 8).png)
    row = [result.getpixel((x, 30))[0] for x in range(48, 62)]
    assert row == sorted(row) and row[0] == 0 and row[-1] == 200 and len(set(row)) > 4


def test_extend_feathers_inward_so_nothing_outside_the_white_area_changes() -> None:
    base = noise((100, 100))
    canvas, mask = frame.extend_canvas(encoded(base), frame.plan_for_ratio((100, 100), "16:9"))
    answer = encoded(Image.new("RGB", (178, 100), (0, 255, 0)))
    result = blend.decode(blend.composite(canvas, mask, answer, 10, inward=True).png)
    assert result.size == (178, 100)
    assert (np.asarray(result.crop((39, 0, 139, 100))) == np.asarray(base)).all()
    assert result.getpixel((0, 50)) == (0, 255, 0), "far from the seam the new area is the model's"


def test_an_answer_of_another_size_is_scaled_and_aligned_with_a_note() -> None:
    base = noise((1024, 1024))
    answer = encoded(Image.new("RGB", (2048, 2048), (9, 9, 9)))
    result = blend.composite(encoded(base), rect_mask((1024, 1024), (0, 0, 99, 99)), answer, 2)
    assert "2048×2048" in result.note and "1024×1024" in result.note and "aligned" in result.note
    assert not changed(result.png, base)[200:, 200:].any()


@pytest.mark.parametrize(("answer_size", "fits"), [((1376, 768), True), ((1820, 1024), True), ((1024, 1024), False),
                                                   ((1584, 672), False)])
def test_a_ratio_beyond_the_tolerance_cannot_be_aligned(answer_size: tuple[int, int], fits: bool) -> None:
    canvas = encoded(noise((1820, 1024)))
    mask = rect_mask((1820, 1024), (0, 0, 300, 1023))
    answer = encoded(Image.new("RGB", answer_size))
    if fits:
        assert blend.composite(canvas, mask, answer, 4).width == 1820
    else:
        with pytest.raises(blend.AlignmentError, match="original is kept"):
            blend.composite(canvas, mask, answer, 4)


def test_no_answer_or_an_unreadable_one_is_a_plain_alignment_error() -> None:
    base, mask = encoded(noise((40, 40))), rect_mask((40, 40), (0, 0, 9, 9))
    with pytest.raises(blend.AlignmentError, match="no picture"):
        blend.composite(base, mask, None, 4)
    with pytest.raises(blend.AlignmentError, match="could not be read"):
        blend.composite(base, mask, b"not an image", 4)


def test_masks_from_the_canvas_scale_to_the_image_and_say_what_they_mean() -> None:
    drawing = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    drawing.paste((255, 0, 0, 90), (50, 25, 100, 75))  # a translucent stroke still counts as painted
    mask = masks.load_mask(masks.mask_from_drawing(encoded(drawing), (400, 200)))
    assert mask.size == (400, 200) and mask.getbbox() == (100, 50, 200, 150)
    assert masks.check_mask(masks.blank_mask((400, 200))).message == "Paint the area to change first"
    assert not masks.check_mask(None).can_send
    whole = masks.invert_mask(masks.blank_mask((40, 40)))
    assert masks.check_mask(whole) == masks.MaskCheck("whole", WHOLE_IMAGE_NOTE, 1.0)
    strokes = masks.mask_from_shapes((100, 100), (50, 50), [
        masks.Stroke(((5, 5), (45, 5)), width=4), masks.Rect((20, 20, 30, 30)), masks.Rect((22, 22, 28, 28), erase=True)])
    painted = masks.load_mask(strokes)
    assert painted.getpixel((50, 10)) == 255 and painted.getpixel((50, 50)) == 0 and painted.getpixel((42, 42)) == 255
    check = masks.check_mask(strokes)
    assert check.state == "region" and 0 < check.share < 0.5


def test_extend_plans_grow_to_a_ratio_the_model_takes() -> None:
    spec = DEFAULT_CATALOGUE.resolve(PRO)
    plan = frame.plan_for_ratio((1024, 1024), "16:9")
    assert plan.size == (1820, 1024) and plan.margins == (398, 0, 398, 0)
    margins = frame.plan_for_margins((1024, 1024), (0, 0, 300, 0), spec.ratios)
    assert margins.aspect_ratio == "4:3" and margins.margins[2] >= 300 and margins.margins[0] == 0
    width, height = margins.size
    assert abs(width / height - 4 / 3) < 0.01
    with pytest.raises(ValueError, match="negative"):
        frame.plan_for_margins((10, 10), (-1, 0, 0, 0), spec.ratios)


def test_upscale_offers_the_larger_sizes_with_their_price() -> None:
    spec = DEFAULT_CATALOGUE.resolve(PRO)
    assert frame.upscale_targets("1K") == ("2K", "4K") and frame.upscale_targets("2K") == ("4K",)
    assert frame.upscale_targets("4K") == ()
    assert frame.upscale_cost(spec, "4K") == spec.estimate_cost("4K", 1, 1) > frame.upscale_cost(spec, "2K")
    assert frame.upscale_region(b"png", "4K").target_size == "4K"


def test_the_user_turn_carries_instruction_preamble_picture_then_mask() -> None:
    picture, mask = encoded(noise((20, 20))), rect_mask((20, 20), (0, 0, 4, 4))
    region = RegionEdit(mode="paint", base=picture, mask_png=mask)
    request = GenerationRequest(prompt="Replace the sky with a sunset", model_id=PRO, region=region)
    content = turns.user_content(request.prompt, request.references, request.region)
    parts = content["parts"]
    assert [p.get("text") for p in parts[:2]] == ["Replace the sky with a sunset", REGION_PREAMBLE]
    assert [turns.decode_b64(p["inlineData"]["data"]) for p in parts[2:]] == [picture, mask]
    assert request.recipe()["region"] == {"mode": "paint", "feather_px": 4, "mask_sha256": region.mask_sha256}
    sdk = turns.sdk_contents((), request)
    assert sdk[-1].parts[3].inline_data.data == mask  # type: ignore[union-attr,index]


def test_bad_region_requests_say_why_in_plain_words() -> None:
    picture = encoded(noise((20, 20)))
    assert problems(RegionEdit(mode="paint", base=picture)) == ["Paint the area to change first"]
    assert problems(RegionEdit(mode="paint", base=picture, mask_png=masks.blank_mask((20, 20)))) == [
        "Paint the area to change first"]
    assert "missing" in problems(RegionEdit(mode="upscale", base=b"", target_size="2K"))[0]
    assert problems(RegionEdit(mode="upscale", base=picture, target_size="8K")) == ["Upscale to 2K or 4K."]
    batch = GenerationRequest(prompt="x", model_id=PRO, lane="batch",
                              region=RegionEdit(mode="paint", base=picture, mask_png=rect_mask((20, 20), (0, 0, 3, 3))))
    assert any("runs Now" in p for p in problems_with(batch))


def test_a_mask_over_the_whole_image_sends_a_whole_image_edit() -> None:
    from studio import threads
    from studio.history.entry import Entry

    leaf = Entry(id="leaf", namespace="n", batch_id="b", parent_id=None, created_at=0.0, prompt="p", model_id=PRO,
                 aspect_ratio="1:1", image_size="1K", output_format="PNG", settings={}, status="ok",
                 failure_kind=None, failure_message=None, failure_detail=None, finish_reason=None, block_reason=None,
                 latency_s=0.0, attempts=1, prompt_tokens=0, output_tokens=0, total_tokens=0, cost_usd=0.0,
                 model_version=None, response_id=None, text=None, request_json={}, response_json={},
                 image_file="leaf.png", thumb_file=None, width=20, height=20, mime_type="image/png", favorite=False,
                 deleted_at=None, references_count=0)
    base = GenerationRequest(prompt="p", model_id=PRO)
    picture = encoded(noise((20, 20)))
    whole = RegionEdit(mode="paint", base=picture, mask_png=masks.invert_mask(masks.blank_mask((20, 20))))
    assert threads.region_request(base, leaf, [], "Make it night", whole).region is None
    part = RegionEdit(mode="paint", base=picture, mask_png=rect_mask((20, 20), (0, 0, 5, 5)))
    sent = threads.region_request(base, leaf, [], "Make it night", part)
    assert sent.region is part and sent.thread_parent_id == "leaf" and sent.count == 1


def test_the_picture_and_mask_count_against_the_models_image_limit() -> None:
    from studio.request import ReferenceImage

    spec = DEFAULT_CATALOGUE.resolve(PRO)
    picture = encoded(noise((20, 20)))
    refs = tuple(ReferenceImage(name=f"r{i}", data=picture, mime_type="image/png") for i in range(spec.max_references))
    region = RegionEdit(mode="paint", base=picture, mask_png=rect_mask((20, 20), (0, 0, 5, 5)))
    found = problems_with(GenerationRequest(prompt="x", model_id=PRO, references=refs, region=region))
    assert any("mask count too, so remove 2" in p for p in found)


def test_an_inward_feather_ramps_at_a_seam_inside_the_frame() -> None:
    """Extending upwards only: the seam lies inside the picture, and the ramp must still be there (the
    rectangle the blend works on must not pass its own edge off as more white area)."""
    base = encoded(Image.new("RGB", (100, 100), (0, 0, 0)))
    answer = encoded(Image.new("RGB", (100, 100), (200, 200, 200)))
    mask = rect_mask((100, 100), (0, 0, 99, 49))
    column = blend.decode(blend.composite(base, mask, answer, 8, inward=True).png)
    values = [column.getpixel((50, y))[0] for y in range(0, 52)]
    assert values[0] == 200 and values[50:] == [0, 0], "the new area is the model's, the original exact"
    assert 0 < values[49] < 200 and values[40:50] == sorted(values[40:50], reverse=True), "a ramp at the seam"
