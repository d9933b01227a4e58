"""A set of prompts in one job (Variations, issue 24): image i is made from prompt i, on the Now lane and as one
Google batch, each recorded with its own prompt and linked to the version it varies; Retry repeats its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio import images
from studio.catalogue import DEFAULT_CATALOGUE
from studio.history import HistoryStore
from studio.jobs import ImageState, JobRunner, RunnerLimits
from studio.recipes import entry_recipe, request_from_recipe
from studio.request import ValidationError, problems_with

from .test_runner import key_source, request, wait_job, wait_until

ORIGINAL = "a red scooter parked on a rainy street at night"
# the emulator's caption markers prove which prompt each request carried over the wire: only the second has one
SET = ("a red scooter under neon rain [[fault:no_caption]]",
       "a red scooter at dawn on a wet street [[fault:with_caption]]",
       "a red scooter in a snowy alley at night [[fault:no_caption]]")


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    r = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3))
    yield r
    r.close()


def _origin(runner: JobRunner, store: HistoryStore, server) -> str:
    """The original prompt's version, made first (the variations are new versions of it)."""
    job = runner.submit("local", request(ORIGINAL), store, key_source(server))
    return wait_job(runner, job.id).entry_ids[0]


def _sent_text(entry) -> str:
    return entry.request_json["contents"][-1]["parts"][0]["text"]


def _assert_each_has_its_own_prompt(store: HistoryStore, entry_ids: list[str], origin: str) -> None:
    entries = store.get_many("local", entry_ids)
    assert [e.prompt for e in entries] == list(SET), "image i is recorded with prompt i"
    assert [e.status for e in entries] == ["ok"] * 3
    assert [e.parent_id for e in entries] == [origin] * 3, "each a new version of the original prompt's version"
    assert [_sent_text(e) for e in entries] == list(SET), "the request History shows carries its own prompt"
    assert [bool(e.text) for e in entries] == [False, True, False], "Google answered each its own prompt"
    assert all(e.settings["variation_of"] == ORIGINAL for e in entries)
    assert [e.settings["index"] for e in entries] == [0, 1, 2]
    recipes = [images.read_recipe(store.read_image("local", e.id) or b"") or {} for e in entries]
    assert [r.get("prompt") for r in recipes] == list(SET), "the file's embedded recipe names its own prompt"
    assert not any("prompts" in r for r in recipes), "an image's recipe remakes that image alone"
    assert [e.id for e in store.lineage("local", entries[1].id)] == [origin, entries[1].id]


def test_one_job_with_three_prompts_makes_three_entries_each_with_its_own_prompt(fresh_emulator, runner,
                                                                              store) -> None:
    server = fresh_emulator()
    origin = _origin(runner, store, server)
    job = runner.submit("local", request(ORIGINAL, count=3, prompts=SET, seed=11), store, key_source(server),
                        parent_id=origin)
    assert job.count == 3 and job.prompt == ORIGINAL, "one job; the live panel names the prompt it varies"
    running = store.get_many("local", job.entry_ids)
    assert [e.prompt for e in running] == list(SET), "recorded with its own prompt from submit on"
    done = wait_job(runner, job.id)
    assert [i.state for i in done.images] == [ImageState.DONE] * 3
    assert len(runner.jobs_for("local")) == 2, "the original, then ONE job for the whole set"
    assert [j.variations for j in runner.jobs_for("local")] == [True, False], \
        "the live panel says \"3 variations of: …\" for the set, not for the original"
    assert server.stats()["requests"]["generateContent"] == 4
    _assert_each_has_its_own_prompt(store, done.entry_ids, origin)
    entries = store.get_many("local", done.entry_ids)
    assert [e.settings["seed"] for e in entries] == [11, 12, 13], "image i keeps seed + i"
    spec = DEFAULT_CATALOGUE.resolve(request("x").model_id)
    assert sum(e.estimated_cost_usd for e in entries) == pytest.approx(spec.estimate_cost("1K", 3)), \
        "the estimate counts every image of the set"


def test_the_batch_lane_sends_one_batch_whose_requests_carry_each_prompt(fresh_emulator, runner, store) -> None:
    server = fresh_emulator(batch_delay_s=0.3)
    origin = _origin(runner, store, server)
    job = runner.submit("local", request(ORIGINAL, count=3, prompts=SET, lane="batch"), store,
                        key_source(server), parent_id=origin)
    done = wait_job(runner, job.id)
    assert [i.state for i in done.images] == [ImageState.DONE] * 3
    assert server.stats()["requests"]["batchGenerateContent"] == 1, "one Google batch for the set"
    (batch,) = server.state.batches._batches.values()  # what Google received
    sent = [item["contents"][-1]["parts"][0]["text"] for _key, item in batch.items]
    assert sent == list(SET), "each inline request carries its own prompt"
    assert [key for key, _item in batch.items] == done.entry_ids
    _assert_each_has_its_own_prompt(store, done.entry_ids, origin)


def test_a_file_batch_carries_each_prompt_on_its_own_line(fresh_emulator, store) -> None:
    server = fresh_emulator(batch_delay_s=0.3)
    runner = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3, batch_inline_max=2))
    try:
        job = runner.submit("local", request(ORIGINAL, count=3, prompts=SET, lane="batch"), store,
                            key_source(server))
        done = wait_job(runner, job.id)
    finally:
        runner.close()
    assert store.batches.get(job.id).source == "file"
    (batch,) = server.state.batches._batches.values()
    assert batch.from_file and [item["contents"][-1]["parts"][0]["text"] for _k, item in batch.items] == list(SET)
    assert [e.prompt for e in store.get_many("local", done.entry_ids)] == list(SET)


def test_a_restarted_batch_still_records_each_prompt(fresh_emulator, tmp_path: Path) -> None:
    server = fresh_emulator(batch_delay_s=1.5)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first_store = HistoryStore.open(url, data_dir=tmp_path / "data")
    first = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3), owner="first")
    job = first.submit("local", request(ORIGINAL, count=3, prompts=SET, lane="batch"), first_store,
                       key_source(server))
    wait_until(lambda: first_store.batches.get(job.id).name is not None, what="the batch to reach Google")
    first.close()  # the process ends; the batch goes on at Google
    first_store.close()
    second_store = HistoryStore.open(url, data_dir=tmp_path / "data")
    second = JobRunner(limits=RunnerLimits(batch_poll_s=0.1, batch_poll_max_s=0.3), owner="second")
    try:
        assert second.resume_batches("local", second_store, key_source(server)) == 1
        done = wait_job(second, job.id)
        entries = second_store.get_many("local", done.entry_ids)
        assert [e.status for e in entries] == ["ok"] * 3
        assert [e.prompt for e in entries] == list(SET)
        recipes = [images.read_recipe(second_store.read_image("local", e.id) or b"") or {} for e in entries]
        assert [r.get("prompt") for r in recipes] == list(SET), "the rebuilt request kept the set"
    finally:
        second.close()
        second_store.close()


def test_retry_of_one_variation_repeats_its_own_prompt(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    origin = _origin(runner, store, server)
    job = runner.submit("local", request(ORIGINAL, count=3, prompts=SET), store, key_source(server),
                        parent_id=origin)
    second = store.get("local", wait_job(runner, job.id).entry_ids[1])
    again = request_from_recipe(entry_recipe(second), store.read_references("local", second.id), count=1)
    assert again.prompt == SET[1] and again.prompts == () and again.count == 1
    redo = wait_job(runner, runner.submit("local", again, store, key_source(server), parent_id=second.parent_id).id)
    remade = store.get("local", redo.entry_ids[0])
    assert remade.prompt == SET[1] and _sent_text(remade) == SET[1] and remade.text, "its own prompt again"
    assert remade.settings["seed"] == second.settings["seed"]


def test_a_set_that_does_not_match_its_count_is_refused_plainly(fresh_emulator, runner, store) -> None:
    server = fresh_emulator()
    with pytest.raises(ValidationError) as refused:
        runner.submit("local", request(ORIGINAL, count=4, prompts=SET), store, key_source(server))
    assert refused.value.problems == ["This set has 3 prompts for 4 images: each image needs exactly one prompt."]
    assert problems_with(request(ORIGINAL, count=3, prompts=(SET[0], "  ", SET[2]))) == [
        "Prompt 2 of the set is empty: write it or leave it out."]
    assert any("Prompt 1 of the set is 30,001 characters" in p
               for p in problems_with(request(ORIGINAL, count=1, prompts=("x" * 30_001,))))
    assert store.count_entries("local") == 0 and server.stats()["served"] == 0, "nothing recorded or sent"


def test_a_batch_record_keeps_the_set_for_a_restart() -> None:
    asked = request(ORIGINAL, count=3, prompts=SET, lane="batch")
    from studio.jobs.runner import batch_recipe

    stored = json.loads(json.dumps(batch_recipe(asked)))
    assert request_from_recipe(stored, count=3).prompts == SET
    assert request_from_recipe(stored, count=1).prompts == (), "one image alone takes its entry's own prompt"
