"""Search by meaning end to end through the real google-genai SDK and the emulator: the engine calls, the
in-process index and its cache, hybrid ranking, the runner embedding new images and backfilling History
(quota pause and resume), and the cost recorded in the spend ledger."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from google import genai
from PIL import Image

from studio.credentials import Connection, make_client
from studio.embedding_spec import default_spec
from studio.embeddings import IndexCache, VectorIndex, embed_contents, embed_query, entry_content, hybrid, trim_query
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore
from studio.history.vectors import StoredVectors
from studio.images import make_thumbnail
from studio.jobs import CredentialSource, JobRunner, RunnerLimits
from studio.jobs.indexing import IndexProgress, backfill_estimate
from studio.request import GenerationRequest
from studio.results import GeneratedImage, ImageResult, Usage
from tests.conftest import TEST_KEY

SPEC = default_spec()
PROMPTS = ["a red scooter parked on a rainy street at night", "a bowl of lemons on a wooden table",
           "a snowy mountain cabin at sunrise", "a cat sleeping on a sunny windowsill",
           "a sailing boat on a calm blue sea", "a portrait of an old wizard with a long beard"]


def _picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "PNG")
    return out.getvalue()


def _client(server: EmulatorServer) -> genai.Client:
    return make_client(Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))


def _record(store: HistoryStore, namespace: str, prompt: str, colour: str = "gray") -> str:
    request = GenerationRequest(prompt=prompt, model_id="gemini-3-pro-image")
    data = _picture(colour)
    image = GeneratedImage(data=data, mime_type="image/png", width=64, height=64)
    result = ImageResult(index=0, image=image, usage=Usage(10, 1120, 0, 1130))
    return store.record_attempt(namespace, request, result, batch_id="b").id


def _wait(predicate, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _progress(runner: JobRunner) -> IndexProgress:
    return runner.indexer.progress("local") or IndexProgress()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    s = HistoryStore.open(data_dir=tmp_path / "data")
    yield s
    s.close()


def test_a_vehicle_at_night_finds_the_scooter_first_by_meaning(emulator: EmulatorServer) -> None:
    client = _client(emulator)
    contents = [entry_content(p, make_thumbnail(_picture(c), 64)) for p, c in zip(PROMPTS, ["#202040", "#e0d040",
                "#f0f0f0", "#e0a060", "#3060d0", "#604080"], strict=True)]
    docs = asyncio.run(embed_contents(client, SPEC, contents))
    assert docs.vectors.shape == (len(PROMPTS), SPEC.dimensions) and docs.image_tokens == 258 * len(PROMPTS)
    index = VectorIndex(StoredVectors([str(i) for i in range(len(PROMPTS))], docs.vectors))
    query = asyncio.run(embed_query(client, SPEC, "a vehicle at night")).vectors[0]
    ranked = index.search(query, k=3)
    assert ranked[0][0] == "0", ranked
    like_scooter = index.search(index.vector("0"), k=3, exclude="0")  # "More like this": never itself
    assert "0" not in [i for i, _ in like_scooter]


def test_a_queued_image_fault_waits_for_an_image_request(fresh_emulator, engine_for) -> None:
    """A background embedding call between "queue a safety block" and the image must not swallow the fault: the
    embedding route only takes the faults it can show (quota, overload, server error)."""
    server = fresh_emulator()
    server.queue_fault("image_safety", 1)
    docs = asyncio.run(embed_query(_client(server), SPEC, "a red scooter"))
    assert docs.vectors.shape == (1, SPEC.dimensions), "the embedding call is answered"
    result = asyncio.run(engine_for(server).generate_one(GenerationRequest(prompt="a red scooter",
                                                                           model_id="gemini-3-pro-image"), 0))
    assert not result.ok and result.failure is not None and "safety" in result.failure.message.lower()
    server.queue_fault("quota", 1)
    with pytest.raises(genai.errors.APIError) as refused:
        asyncio.run(embed_query(_client(server), SPEC, "a red scooter"))
    assert refused.value.code == 429, "a fault an embedding call can show is still taken"


def test_a_query_longer_than_the_model_reads_is_trimmed_with_a_note() -> None:
    text, note = trim_query("a cat " * 10_000, SPEC)
    assert len(text) == SPEC.max_chars and note and f"{SPEC.max_chars:,}" in note
    assert trim_query("  a cat  ", SPEC) == ("a cat", None)


def test_hybrid_puts_exact_word_matches_first_then_meaning() -> None:
    ranked = hybrid(["w1", "m2"], [("m1", 0.9), ("m2", 0.8), ("m3", 0.5)])
    assert [i for i, _ in ranked] == ["w1", "m2", "m1", "m3"]
    assert dict(ranked)["w1"] is None and dict(ranked)["m2"] == 0.8


def test_the_cache_is_read_once_and_refreshed_when_vectors_change(store: HistoryStore) -> None:
    cache = IndexCache()
    a = _record(store, "local", "a")
    vec = np.zeros(SPEC.dimensions, dtype=np.float32)
    vec[0] = 1
    store.vectors.put_many("local", SPEC.model_id, [(a, vec)])
    first = cache.index(store.vectors, "local", SPEC)
    assert cache.index(store.vectors, "local", SPEC) is first and len(first) == 1
    b = _record(store, "local", "b")
    store.vectors.put_many("local", SPEC.model_id, [(b, vec)])
    second = cache.index(store.vectors, "local", SPEC)
    assert second is not first and len(second) == 2
    assert len(cache.index(store.vectors, "google:other", SPEC)) == 0, "per identity"


def test_each_new_image_is_embedded_in_the_background_and_its_cost_recorded(
        fresh_emulator, store: HistoryStore) -> None:
    server = fresh_emulator()
    runner = JobRunner(limits=RunnerLimits(per_identity=8, per_process=64))
    try:
        source = CredentialSource(Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))
        job = runner.submit("local", GenerationRequest(prompt="three red scooters", model_id="gemini-3-pro-image",
                                                       count=3), store, source)
        _wait(lambda: store.vectors.counts("local", SPEC.model_id) == (3, 0) and not runner.indexer.busy,
              "three vectors, and the indexer done (it writes the cost after the vectors)")
        calls = server.stats()["requests"].get("batchEmbedContents", 0)
        assert 1 <= calls <= 3, "images landing together share a call"
        rows = store.db.rows("SELECT cost_usd, estimated_usd FROM spend_ledger WHERE entry_id LIKE 'embed-%'")
        assert len(rows) == calls, "one ledger row per call"
        assert all(0 < cost < 0.001 and estimate > 0 for cost, estimate in rows)
        assert runner.view(job.id) is not None
    finally:
        runner.close()


def test_index_my_history_backfills_pauses_on_quota_and_resumes(fresh_emulator, store: HistoryStore) -> None:
    server = fresh_emulator()
    ids = [_record(store, "local", f"old entry {i}") for i in range(150)]
    count, usd = backfill_estimate(store, "local", SPEC)
    assert count == 150 and 0 < usd < 0.01
    runner = JobRunner(limits=RunnerLimits(per_identity=8, per_process=64))
    try:
        source = CredentialSource(Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))
        server.queue_fault("quota", 1)  # the first batch is refused
        assert runner.indexer.start_backfill("local", store, source)
        assert not runner.indexer.start_backfill("local", store, source), "one at a time"
        _wait(lambda: "quota" in _progress(runner).paused, "the pause")
        paused = runner.indexer.progress("local")
        assert paused is not None and paused.done == 0 and "0 of 150" in paused.paused
        _wait(lambda: not _progress(runner).running, "the backfill to finish")
        done = runner.indexer.progress("local")
        assert done is not None and done.done == 150 and not done.failed and done.cost_usd > 0
        assert store.vectors.counts("local", SPEC.model_id) == (150, 0)
        assert server.stats()["requests"]["batchEmbedContents"] == 3, "100 + 50, after one refused"
        assert set(store.vectors.load("local", SPEC.model_id, SPEC.dimensions).ids) == set(ids)
    finally:
        runner.close()


def test_a_refused_key_stops_the_backfill_in_plain_words(fresh_emulator, store: HistoryStore) -> None:
    server = fresh_emulator()
    _record(store, "local", "an old entry")
    runner = JobRunner(limits=RunnerLimits(per_identity=8, per_process=64))
    try:
        source = CredentialSource(Connection(mode="api_key", api_key="wrong-key", base_url=server.base_url))
        runner.indexer.start_backfill("local", store, source)
        _wait(lambda: bool(_progress(runner).failed), "the failure")
        failed = runner.indexer.progress("local")
        assert failed is not None and "API key not valid" in failed.failed and "wrong-key" not in failed.failed
        assert store.vectors.counts("local", SPEC.model_id) == (0, 1)
    finally:
        runner.close()


def test_the_cache_keeps_to_its_memory_budget(store: HistoryStore) -> None:
    vec = np.zeros(SPEC.dimensions, dtype=np.float32)
    vec[1] = 1
    for namespace in ("google:ann", "google:bob"):
        store.vectors.put_many(namespace, SPEC.model_id, [(_record(store, namespace, "x"), vec)])
    cache = IndexCache(max_bytes=SPEC.dimensions * 4)  # room for one identity's single vector
    ann = cache.index(store.vectors, "google:ann", SPEC)
    cache.index(store.vectors, "google:bob", SPEC)
    assert cache.index(store.vectors, "google:ann", SPEC) is not ann, "ann's index was let go for bob's"


def test_a_private_sessions_vectors_stay_in_its_memory(fresh_emulator, store: HistoryStore) -> None:
    server = fresh_emulator()
    private = HistoryStore.private(ledger=store.ledger)
    runner = JobRunner(limits=RunnerLimits(per_identity=8, per_process=64))
    try:
        source = CredentialSource(Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))
        runner.submit("local", GenerationRequest(prompt="a private scooter", model_id="gemini-3-pro-image"),
                      private, source)
        _wait(lambda: private.vectors.counts("local", SPEC.model_id) == (1, 0), "the private vector")
        assert private.data_dir is None and private.db.row("SELECT COUNT(*) FROM entry_vectors") == (1,)
        assert store.db.row("SELECT COUNT(*) FROM entry_vectors") == (0,), "nothing in the shared History"
        # the indexer stores the vectors, then charges the call: wait for the row rather than race it
        _wait(lambda: store.db.row("SELECT COUNT(*) FROM spend_ledger WHERE entry_id LIKE 'embed-%'") == (1,),
              "its cost, still counted in the shared ledger")
    finally:
        runner.close()
        private.close()
