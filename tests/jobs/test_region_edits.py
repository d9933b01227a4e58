"""Region edits end to end: the real SDK sends the picture and mask to the emulator over HTTP, the emulator
perturbs every pixel outside the mask (as real models do), and the runner's composite keeps them exact."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from studio import threads
from studio.regions import frame, masks
from studio.regions.edit import REGION_PREAMBLE
from studio.request import GenerationRequest
from tests.jobs.test_runner import key_source, wait_job

PRO = "gemini-3-pro-image"
BOX = (200, 300, 520, 600)  # the painted rectangle on the 1024x1024 image (left, top, right, bottom)


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def outside(box: tuple[int, int, int, int], margin: int, shape: tuple[int, ...]) -> np.ndarray:
    keep = np.ones(shape[:2], dtype=bool)
    left, top, right, bottom = box
    keep[max(0, top - margin):bottom + margin + 1, max(0, left - margin):right + margin + 1] = False
    return keep


def first_version(runner, store, server):
    base = GenerationRequest(prompt="a lighthouse on a cliff at noon", model_id=PRO)
    done = wait_job(runner, runner.submit("local", base, store, key_source(server)).id)
    return base, store.get("local", done.entry_ids[0])


def test_pixels_outside_the_mask_stay_identical_although_the_model_moved_them(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    base, leaf = first_version(runner, store, server)
    original = store.read_image("local", leaf.id)
    mask = masks.mask_from_shapes((1024, 1024), (512, 512), [masks.Rect(tuple(v / 2 for v in BOX))])
    region = threads.base_image(store, "local", leaf)
    from studio.regions import RegionEdit

    edit = RegionEdit(mode="paint", base=region, mask_png=mask, feather_px=4)
    turns = threads.turns_from_store(store, "local", leaf.id)
    request = threads.region_request(base, leaf, turns, "Replace the sky with a sunset", edit)
    done = wait_job(runner, runner.submit("local", request, store, key_source(server), parent_id=leaf.id).id)
    version = store.get("local", done.entry_ids[0])
    assert version.status == "ok", version.failure_message
    assert version.thread_parent_id == leaf.id and version.mime_type == "image/png"

    before, after = pixels(original), pixels(store.read_image("local", version.id))
    raw_bytes = store.read_raw("local", version.id) or b""
    assert raw_bytes[:2] == b"\xff\xd8", "the model's JPEG is kept as sent, not encoded as a PNG beside the composite"
    raw = pixels(raw_bytes)
    far = outside(BOX, 4, before.shape)
    assert (after[far] == before[far]).all(), "every pixel outside the mask and its feather is the original's"
    assert (raw[far] != before[far]).any(axis=1).mean() > 0.5, "the emulator really did perturb the rest"
    inside = (slice(BOX[1] + 5, BOX[3] - 5), slice(BOX[0] + 5, BOX[2] - 5))
    assert (after[inside] != before[inside]).any(axis=2).mean() > 0.5, "the painted area changed"
    assert (after[inside] == raw[inside]).all(), "inside the mask the version is the model's drawing"
    assert store.read_mask("local", version.id) == mask
    assert version.settings["region"]["mode"] == "paint" and version.is_region_edit and version.has_raw_answer

    sent = version.request_json["contents"][-1]["parts"]
    assert sent[1]["text"] == REGION_PREAMBLE and len([p for p in sent if "inlineData" in p]) == 2

    again = threads.region_of(store, "local", version)  # Re-run and Retry repeat the same region
    assert again is not None and again.mask_png == mask and again.base == original and again.feather_px == 4

    whole = threads.use_whole_image(store, "local", version.id)
    assert whole.thread_parent_id == leaf.id and whole.cost_usd == 0.0 and whole.parent_id == version.id
    assert (pixels(store.read_image("local", whole.id)) == raw).all()
    assert store.read_turn("local", whole.id) == store.read_turn("local", version.id), "the thread can continue"


def test_extend_keeps_the_original_area_exact_and_fills_the_new_one(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    base, leaf = first_version(runner, store, server)
    original = store.read_image("local", leaf.id)
    plan = frame.plan_for_ratio((1024, 1024), "16:9")
    edit = frame.extend_region(original, plan, feather_px=6)
    request = threads.region_request(base, leaf, threads.turns_from_store(store, "local", leaf.id),
                                     "Continue the coastline", edit, aspect_ratio=plan.aspect_ratio)
    done = wait_job(runner, runner.submit("local", request, store, key_source(server), parent_id=leaf.id).id)
    version = store.get("local", done.entry_ids[0])
    assert version.status == "ok", version.failure_message
    after = pixels(store.read_image("local", version.id))
    assert after.shape[:2] == (plan.size[1], plan.size[0])
    assert version.region_note and "scaled" in version.region_note, "1376x768 answer placed on the 1820x1024 canvas"
    left, top, _, _ = plan.margins
    assert (after[top:top + 1024, left:left + 1024] == pixels(original)).all(), "the original area is exact"
    assert (after[:, : left - 8] != 127).any(), "the new area was filled"
    again = threads.region_of(store, "local", version)  # Retry rebuilds the same canvas from the parent's image
    assert again is not None and (again.base, again.mask_png, again.margins) == (edit.base, edit.mask_png, edit.margins)


def test_an_answer_that_cannot_be_aligned_fails_the_turn_and_keeps_the_original(fresh_emulator, runner,
                                                                                store) -> None:
    server = fresh_emulator()
    base, leaf = first_version(runner, store, server)
    original = store.read_image("local", leaf.id)
    mask = masks.mask_from_shapes((1024, 1024), (1024, 1024), [masks.Rect((0, 0, 100, 100))])
    from studio.regions import RegionEdit

    edit = RegionEdit(mode="paint", base=original, mask_png=mask)
    request = threads.region_request(base, leaf, [], "Add a moon", edit, aspect_ratio="16:9")  # answer 1376x768
    done = wait_job(runner, runner.submit("local", request, store, key_source(server), parent_id=leaf.id).id)
    version = store.get("local", done.entry_ids[0])
    assert version.status == "failed" and "original is kept" in (version.failure_message or "")
    assert store.read_image("local", leaf.id) == original and store.read_mask("local", version.id) == mask
    assert version.cost_usd > 0 and store.read_raw("local", version.id), "Google billed the answer: it is kept"


def test_upscale_records_a_larger_version_in_the_thread_at_the_price_shown(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    base, leaf = first_version(runner, store, server)
    edit = frame.upscale_region(threads.base_image(store, "local", leaf), "2K")
    request = threads.region_request(base, leaf, threads.turns_from_store(store, "local", leaf.id), "Upscale", edit)
    spec = store.catalogue.resolve(PRO)
    done = wait_job(runner, runner.submit("local", request, store, key_source(server), parent_id=leaf.id).id)
    version = store.get("local", done.entry_ids[0])
    assert version.status == "ok" and version.thread_parent_id == leaf.id
    assert (version.image_size, version.width, version.height) == ("2K", 2048, 2048)
    assert version.estimated_cost_usd == frame.upscale_cost(spec, "2K")
    assert version.settings["region"] == {"mode": "upscale", "feather_px": 0, "target_size": "2K"}
    upscaled = pixels(store.read_image("local", version.id))[::2, ::2]
    assert abs(upscaled - pixels(store.read_image("local", leaf.id))).mean() < 8, "the same picture, larger"


def test_a_version_whose_image_file_is_gone_gives_a_plain_message(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    _, leaf = first_version(runner, store, server)
    store.blobs.delete("local", str(leaf.image_file))
    with pytest.raises(threads.RegionError, match="missing from History"):
        threads.base_image(store, "local", leaf)


def test_the_mask_is_kept_from_the_start_so_a_cancelled_region_edit_can_be_retried(fresh_emulator, runner,
                                                                                    store) -> None:
    server = fresh_emulator(latency_s=5.0)
    from studio.regions import RegionEdit

    base = GenerationRequest(prompt="a lighthouse on a cliff at noon", model_id=PRO)
    leaf = store.record_attempt("local", base, _ok(base), batch_id="b0")
    mask = masks.mask_from_shapes((64, 48), (64, 48), [masks.Rect((0, 0, 10, 10))])
    edit = RegionEdit(mode="paint", base=store.read_image("local", leaf.id) or b"", mask_png=mask)
    request = threads.region_request(base, leaf, [], "Add a gull", edit)
    job = runner.submit("local", request, store, key_source(server), parent_id=leaf.id)
    assert store.read_mask("local", job.entry_ids[0]) == mask, "kept the moment the edit is queued"
    runner.cancel(job.id, namespace="local")
    done = wait_job(runner, job.id)
    cancelled = store.get("local", done.entry_ids[0])
    assert cancelled.status == "cancelled"
    again = threads.region_of(store, "local", cancelled)
    assert again is not None and again.mask_png == mask


def _ok(request: GenerationRequest):
    from studio.images import encode_output
    from studio.results import ImageResult

    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "PNG")
    return ImageResult(0, image=encode_output(out.getvalue(), "PNG", 90, request.recipe()))
