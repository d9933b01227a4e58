"""Retry of a region edit from the grid repeats the same region on the same version (issue 23, item 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio import threads
from studio.regions import RegionEdit, blend, masks
from studio.results import Failure, FailureKind, ImageResult
from tests.app.test_edit_thread import _selected, _start, _thread


def test_retry_of_a_failed_region_edit_sends_the_same_mask_again(studio_app, emulator, isolated_studio: Path) -> None:
    at = _start(studio_app, emulator, "a quiet harbour")
    root = _selected(at)
    store, namespace = _thread(at, isolated_studio)
    try:
        leaf = store.get(namespace, root)
        assert leaf is not None
        original = store.read_image(namespace, root) or b""
        mask = masks.mask_from_shapes((1024, 1024), (1024, 1024), [masks.Rect((100, 100, 400, 300))])
        region = RegionEdit(mode="paint", base=original, mask_png=mask, feather_px=2)
        request = threads.region_request(_request_of(leaf), leaf, [], "Replace the sky with a sunset", region)
        failed = store.record_attempt(namespace, request, ImageResult(0, failure=Failure(
            FailureKind.OVERLOADED, "busy")), batch_id="b", parent_id=root)
        at.session_state["session_entry_ids"] = [failed.id, *at.session_state["session_entry_ids"]]
        at.session_state["retry_entry_id"] = failed.id
        at.switch_page("app_pages/generate.py").run()
        assert not at.exception and [e.value for e in at.error] == ["busy"], "only the failed card says why"
        (again,) = [v for v in store.thread_entries(namespace, root) if v.id not in (root, failed.id)]
        assert again.status == "ok" and again.thread_parent_id == root, again.failure_message
        assert store.read_mask(namespace, again.id) == mask and again.settings["region"]["feather_px"] == 2
        before = np.asarray(blend.decode(original)).astype(int)
        after = np.asarray(blend.decode(store.read_image(namespace, again.id) or b"")).astype(int)
        assert (after[400:, :] == before[400:, :]).all() and (after[110:290, 110:390] != before[110:290, 110:390]).any()
    finally:
        store.close()


def _request_of(entry):  # the recipe's request, as the grid's Retry rebuilds it
    from studio.recipes import entry_recipe, request_from_recipe

    return request_from_recipe(entry_recipe(entry), count=1)
