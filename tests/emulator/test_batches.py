"""The Batch API through the real SDK: inline and file sources, states over time, cancel, list, delete, errors."""

from __future__ import annotations

import io
import json
import time

import httpx
import pytest
from google.genai import errors, types

from .conftest import KEY, PRO, sdk_client


def _inline(prompts: list[str]) -> list[types.InlinedRequest]:
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                         image_config=types.ImageConfig(aspect_ratio="1:1", image_size="1K"))
    return [types.InlinedRequest(contents=p, config=config, metadata={"key": f"k{i}"}) for i, p in enumerate(prompts)]


def _wait(sdk, name: str, timeout_s: float = 20) -> types.BatchJob:
    deadline = time.monotonic() + timeout_s
    while True:
        job = sdk.batches.get(name=name)
        if job.state.name not in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING"):
            return job
        assert time.monotonic() < deadline, f"batch stuck in {job.state}"
        time.sleep(0.1)


def test_inline_batch_moves_from_pending_to_succeeded_with_every_answer(fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=1.0)
    sdk = sdk_client(api)
    job = sdk.batches.create(model=PRO, src=_inline(["a red boat", "a blue boat [[fault:image_safety]]",
                                                     "a green boat [[fault:server_error]]"]),
                             config={"display_name": "three boats"})
    assert job.name.startswith("batches/") and job.state.name == "JOB_STATE_PENDING"
    assert job.display_name == "three boats"
    done = _wait(sdk, job.name)
    assert done.state.name == "JOB_STATE_SUCCEEDED" and done.end_time is not None
    answers = done.dest.inlined_responses
    assert [a.metadata["key"] for a in answers] == ["k0", "k1", "k2"], "answers keep the requests' order and keys"
    first = answers[0].response
    assert any(p.inline_data and not p.thought for p in first.candidates[0].content.parts)
    assert answers[1].response.candidates[0].finish_reason.name == "IMAGE_SAFETY", "a block is an answer"
    assert answers[2].error is not None and answers[2].response is None, "a refused item is an error beside them"
    assert "internal error" in answers[2].error.message


def test_file_source_answers_with_a_downloadable_jsonl_file(fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=0.5)
    sdk = sdk_client(api)
    lines = [json.dumps({"key": f"shot-{i}", "request": {
        "contents": [{"role": "user", "parts": [{"text": f"product shot {i}"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"imageSize": "1K"}}}})
        for i in range(3)]
    uploaded = sdk.files.upload(file=io.BytesIO("\n".join(lines).encode()), config={"mime_type": "jsonl"})
    job = sdk.batches.create(model=PRO, src=uploaded.name)
    done = _wait(sdk, job.name)
    assert done.state.name == "JOB_STATE_SUCCEEDED" and done.dest.file_name
    rows = [json.loads(line) for line in sdk.files.download(file=done.dest.file_name).decode().splitlines()]
    assert [r["key"] for r in rows] == ["shot-0", "shot-1", "shot-2"]
    assert all("inlineData" in json.dumps(r["response"]) for r in rows)
    refused = httpx.get(f"{api.base_url}/v1beta/{uploaded.name}:download", params={"alt": "media"},
                        headers={"x-goog-api-key": KEY})
    assert refused.status_code == 400, "only generated files download, as at Google"


def test_cancel_list_and_delete(fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=30)
    sdk = sdk_client(api)
    job = sdk.batches.create(model=PRO, src=_inline(["slow one"]))
    sdk.batches.cancel(name=job.name)
    assert sdk.batches.get(name=job.name).state.name == "JOB_STATE_CANCELLED"
    assert [j.name for j in sdk.batches.list()] == [job.name]
    sdk.batches.delete(name=job.name)
    with pytest.raises(errors.ClientError) as caught:
        sdk.batches.get(name=job.name)
    assert caught.value.code == 404


@pytest.mark.parametrize(("marker", "state"), [("batch_failed", "JOB_STATE_FAILED"),
                                                ("batch_expired", "JOB_STATE_EXPIRED")])
def test_a_batch_can_fail_or_expire_whole(fresh_emulator, marker: str, state: str) -> None:
    api = fresh_emulator(batch_delay_s=0.2)
    sdk = sdk_client(api)
    job = sdk.batches.create(model=PRO, src=_inline([f"doomed [[fault:{marker}]]", "fine"]))
    done = _wait(sdk, job.name)
    assert done.state.name == state and done.dest is None
    raw = httpx.get(f"{api.base_url}/v1beta/{job.name}", headers={"x-goog-api-key": KEY}).json()
    assert raw["done"] is True and raw["error"]["message"]


def test_bad_batch_input_gets_googles_error_shape(fresh_emulator) -> None:
    api = fresh_emulator()
    url = f"{api.base_url}/v1beta/models/{PRO}:batchGenerateContent"
    headers = {"x-goog-api-key": KEY}
    empty = httpx.post(url, json={"batch": {"inputConfig": {"requests": {"requests": []}}}}, headers=headers)
    assert empty.status_code == 400 and empty.json()["error"]["status"] == "INVALID_ARGUMENT"
    both = httpx.post(url, json={"batch": {"inputConfig": {"fileName": "files/x", "requests": {"requests": []}}}},
                      headers=headers)
    assert both.status_code == 400 and "exactly one" in both.json()["error"]["message"]
    missing = httpx.post(url, json={"batch": {"inputConfig": {"fileName": "files/nope"}}}, headers=headers)
    assert missing.status_code == 403
    unknown = httpx.post(f"{api.base_url}/v1beta/models/gemini-9:batchGenerateContent",
                         json={"batch": {"inputConfig": {"requests": {"requests": [{"request": {}}]}}}},
                         headers=headers)
    assert unknown.status_code == 404
    nokey = httpx.post(url, json={})
    assert nokey.status_code in (401, 403)
