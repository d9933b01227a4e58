"""The recorder builds what History will hold before anything is written: rows, blobs and drafts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from studio.catalogue import DEFAULT_CATALOGUE
from studio.history.recorder import RUNNING, finished_record, started_row
from studio.results import GeneratedImage, Usage

from .conftest import failed_result, make_request, ok_result, png


def test_a_started_row_is_running_with_the_images_own_seed_and_the_estimate() -> None:
    request = make_request(refs=2, seed=40, count=3)
    row = started_row(DEFAULT_CATALOGUE, "e" * 32, "local", request, 2, batch_id="b", parent_id=None,
                      job_id="j", owner="host|1|x", now=100.0)
    settings = json.loads(row["settings_json"])
    assert row["status"] == RUNNING and row["heartbeat_at"] == 100.0 and row["references_count"] == 2
    assert settings["seed"] == 42 and settings["batch_seed"] == 40 and settings["index"] == 2
    assert row["estimated_cost_usd"] == pytest.approx(0.1344 + 2 * 0.0011)


def test_a_finished_record_names_its_blobs_and_prices_the_usage() -> None:
    request = make_request()
    draft = GeneratedImage(data=png("gold", (32, 32)), mime_type="image/png", width=32, height=32)
    result = replace(ok_result(request), drafts=(draft,), usage=Usage(100, 1120, 50, 1270))
    record = finished_record(DEFAULT_CATALOGUE, "f" * 32, request, result)
    assert sorted(record.blobs) == ["f" * 32 + ".d0.png", "f" * 32 + ".png", "f" * 32 + ".thumb.jpg"]
    assert record.values["status"] == "ok"
    assert record.values["cost_usd"] == pytest.approx(100 * 2e-6 + 1120 * 120e-6 + 50 * 12e-6)
    assert record.drafts == [("f" * 32, 0, "f" * 32 + ".d0.png", "image/png", 32, 32)]


def test_a_blocked_answer_records_no_blob_and_costs_nothing() -> None:
    record = finished_record(DEFAULT_CATALOGUE, "a" * 32, make_request(), failed_result())
    assert record.blobs == {} and record.values["cost_usd"] == 0 and record.values["status"] == "blocked"
