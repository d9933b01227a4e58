"""A region edit in History: the composite as the image, the mask and the raw answer as blobs, on every store
backend; export/import carry them; "Use the model's whole image" makes the raw answer a version of its own."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from studio.history import HistoryStore
from studio.history.schema import LATEST_VERSION, MIGRATIONS
from studio.images import encode_output
from studio.regions import RegionEdit, masks
from studio.results import GeneratedImage, ImageResult, Usage

from .conftest import make_request, ok_result, png, stored_objects

MASK = masks.mask_from_shapes((96, 64), (96, 64), [masks.Rect((10, 10, 40, 30))])


def record_region_edit(store: HistoryStore, namespace: str = "local", raw_png: bool = True):
    first = make_request("a harbour")
    leaf = store.record_attempt(namespace, first, ok_result(first), batch_id="b1")
    region = RegionEdit(mode="paint", base=store.read_image(namespace, leaf.id) or b"", mask_png=MASK, feather_px=3)
    request = make_request("Replace the sky with a sunset", region=region, thread_parent_id=leaf.id)
    composite = encode_output(png("orange"), "PNG", 90, request.recipe())
    raw = GeneratedImage(png("purple"), "image/png", 96, 64) if raw_png else encode_output(
        png("purple"), "JPEG", 90, {})
    result = ImageResult(index=0, image=composite, raw_image=raw, region_note="scaled to fit",
                         usage=Usage(10, 1120, 0, 1130), model_parts=({"text": "done"},))
    return leaf, store.record_attempt(namespace, request, result, batch_id="b2", parent_id=leaf.id)


def test_history_keeps_the_composite_the_mask_and_the_raw_answer(store: HistoryStore) -> None:
    leaf, version = record_region_edit(store)
    assert store.read_mask("local", version.id) == MASK
    assert store.read_raw("local", version.id) == png("purple")
    assert store.read_image("local", version.id) != store.read_raw("local", version.id), "the image is the composite"
    assert version.region_note == "scaled to fit" and version.region_mode == "paint" and version.has_raw_answer
    assert version.settings["region"] == {"mode": "paint", "feather_px": 3, "mask_sha256": RegionEdit(
        "paint", b"", MASK).mask_sha256}
    names = stored_objects(store)
    assert any(n.endswith(f"{version.id}.mask.png") for n in names)
    assert any(n.endswith(f"{version.id}.raw.png") for n in names)
    assert store.sweep_orphans(grace_s=0) == 0, "the sweep keeps the files a row names"
    assert store.read_mask("local", leaf.id) is None and not leaf.is_region_edit


def test_use_the_models_whole_image_is_a_version_of_its_own_and_not_billed(store: HistoryStore) -> None:
    leaf, version = record_region_edit(store)
    before = store.total_cost("local", [version.id])
    spent = store.ledger.spent(0.0, "local")
    whole = store.adopt_raw("local", version.id)
    assert whole.id != version.id and whole.parent_id == version.id and whole.thread_parent_id == leaf.id
    assert store.read_image("local", whole.id) == png("purple") and not whole.is_region_edit
    assert whole.cost_usd == 0 and whole.estimated_cost_usd == 0
    assert store.read_turn("local", whole.id) == store.read_turn("local", version.id)
    assert store.total_cost("local", [version.id, whole.id]) == before, "the ledger bills nothing new"
    assert store.ledger.spent(0.0, "local") == spent
    assert (whole.output_format, whole.mime_type) == ("PNG", "image/png")


def test_a_jpeg_answer_used_whole_is_a_jpeg_version(store: HistoryStore) -> None:
    """Gemini 3 answers JPEG and the raw answer is kept as sent: the adopted version says JPEG, not the
    composite's PNG (the download and the recipe go by it)."""
    _leaf, version = record_region_edit(store, raw_png=False)
    assert version.output_format == "PNG"
    whole = store.adopt_raw("local", version.id)
    assert (whole.output_format, whole.mime_type) == ("JPEG", "image/jpeg")
    assert (store.read_image("local", whole.id) or b"")[:3] == b"\xff\xd8\xff"


def test_export_and_import_carry_the_mask_and_the_raw_answer(store: HistoryStore, tmp_path: Path) -> None:
    _leaf, version = record_region_edit(store)
    data = store.export_zip("local")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        record = next(r for r in manifest["entries"] if r["id"] == version.id)
        assert archive.read(record["mask"]) == MASK and archive.read(record["raw"]) == png("purple")
    other = HistoryStore.open(data_dir=tmp_path / "other")
    try:
        imported = {e.prompt: e for e in other.import_zip("google:me", data)}
        copy = imported["Replace the sky with a sunset"]
        assert other.read_mask("google:me", copy.id) == MASK
        assert other.read_raw("google:me", copy.id) == png("purple")
        assert copy.region_note == "scaled to fit" and copy.settings["region"]["feather_px"] == 3
        assert copy.thread_parent_id == imported["a harbour"].id
    finally:
        other.close()


def test_migration_10_brings_the_region_columns() -> None:
    step = next(m for m in MIGRATIONS if m.version == 10)
    assert LATEST_VERSION >= 10 and "region" in step.name
