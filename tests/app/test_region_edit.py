"""Paint to edit in AppTest: the "Edit area" control, "Edit region" from a card, what an empty or a full mask
does, a painted region sent through the job runner with its mask, "Use the model's whole image", Extend and
Upscale with their cost, and a version whose image file is missing.

The canvas is a custom component (an ``UnknownElement`` to AppTest): the tests seed what it hands over on
"Use this area" (``region_masks``), and tests/browser/test_paint_to_edit.py paints it for real.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

from components.region_editor import AREA_LABEL, MARGINS, MISSING_IMAGE, PAINTED, USE_WHOLE_LABEL, WHOLE
from components.state import EDIT_AREA, REGION_MASKS
from studio.history import HistoryStore, namespace_for
from studio.regions.edit import WHOLE_IMAGE_NOTE
from tests.app.test_edit_thread import _start


def _store(at: AppTest, data_dir: Path) -> tuple[HistoryStore, str]:
    return HistoryStore.open(data_dir=data_dir), namespace_for(at.session_state["connection"], data_dir)


def _selected(at: AppTest) -> str:
    return str(at.session_state["edit_entry_id"])


def _open_region(studio_app, emulator, prompt: str) -> AppTest:
    """Generate one image, then press its card's "Edit region"."""
    return _start(studio_app, emulator, prompt, button="Edit region")


def _image_size(at: AppTest, data_dir: Path, entry_id: str) -> tuple[int, int]:
    store, namespace = _store(at, data_dir)
    try:
        with Image.open(io.BytesIO(store.read_image(namespace, entry_id) or b"")) as img:
            return img.size
    finally:
        store.close()


def _mask(size: tuple[int, int], box: tuple[int, int, int, int] | None) -> bytes:
    mask = Image.new("L", size, 0 if box else 255)
    if box:
        mask.paste(255, box)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def _paint(at: AppTest, entry_id: str, mask: bytes) -> None:
    """What the canvas hands over when the person presses "Use this area" (already at the image's size)."""
    at.session_state[REGION_MASKS] = {entry_id: ("painted-1", mask)}


def _apply_region(at: AppTest, instruction: str) -> AppTest:
    leaf = _selected(at)
    at.text_area(key=f"edit_text_{leaf}").input(instruction)
    at.button(key=f"region_apply_{leaf}").click().run()
    assert not at.exception
    return at


def test_edit_region_opens_painted_region_and_an_empty_mask_sends_nothing(studio_app, emulator,
                                                                          isolated_studio: Path) -> None:
    at = _open_region(studio_app, emulator, "a harbour at noon")
    root = _selected(at)
    (area,) = [c for c in at.get("button_group") if c.label == AREA_LABEL]  # type: ignore[attr-defined]
    assert list(area.options) == [WHOLE, PAINTED] and area.value == PAINTED
    assert at.session_state[EDIT_AREA] == PAINTED, "Edit region opens the page in that mode"
    assert at.slider(key=f"region_feather_{root}").label == "Soft edge (pixels)"
    assert any(c.value.startswith("Estimated cost: $") for c in at.caption), "the cost is shown before sending"

    _apply_region(at, "Replace the sky with a sunset")
    assert [e.value for e in at.error] == ["Paint the area to change first"]
    _paint(at, root, _mask(_image_size(at, isolated_studio, root), (0, 0, 0, 0)))  # pressed with nothing painted
    _apply_region(at, "Replace the sky with a sunset")
    assert [e.value for e in at.error] == ["Paint the area to change first"]
    assert _selected(at) == root
    assert at.text_area(key=f"edit_text_{root}").value == "Replace the sky with a sunset", "nothing typed is lost"
    store, namespace = _store(at, isolated_studio)
    try:
        assert [e.id for e in store.thread_entries(namespace, root)] == [root], "nothing was sent"
    finally:
        store.close()

    at.session_state[EDIT_AREA] = WHOLE  # the control back on "Whole image": the whole-image edit box
    at.run()
    assert [b.label for b in at.button if b.key == f"edit_apply_{root}"] == ["Apply edit"]
    assert at.text_area(key=f"edit_text_{root}").value == "Replace the sky with a sunset", "kept across modes"
    assert not [b for b in at.button if b.key == f"region_apply_{root}"]


def test_a_painted_region_goes_through_the_runner_with_its_mask(studio_app, emulator, isolated_studio: Path) -> None:
    at = _open_region(studio_app, emulator, "a field under a blue sky")
    root = _selected(at)
    size = _image_size(at, isolated_studio, root)
    box = (size[0] // 4, size[1] // 8, size[0] // 2, size[1] // 3)
    mask = _mask(size, box)
    _paint(at, root, mask)
    at.run()
    assert any(c.value.startswith("Painted area: ") for c in at.caption), "the painted share is said"
    _apply_region(at, "Replace the sky with a sunset")
    made = _selected(at)
    assert made != root, "the region edit is a new version of the thread"
    assert at.session_state[EDIT_AREA] == PAINTED, "the new version opens in Painted region again"
    store, namespace = _store(at, isolated_studio)
    try:
        entry = store.get(namespace, made)
        assert entry is not None and entry.status == "ok" and entry.thread_parent_id == root
        assert entry.is_region_edit and entry.region_mode == "paint"
        assert store.read_mask(namespace, made) == mask, "History keeps the mask the person painted"
        with Image.open(io.BytesIO(store.read_image(namespace, root) or b"")) as before, \
                Image.open(io.BytesIO(store.read_image(namespace, made) or b"")) as after:
            a, b = before.convert("RGB"), after.convert("RGB")
            assert a.size == b.size
            far = (0, size[1] - 10, size[0], size[1])  # well outside the painted box and its soft edge
            assert a.crop(far).tobytes() == b.crop(far).tobytes(), "untouched pixels stay exactly as they were"
            assert a.crop(box).tobytes() != b.crop(box).tobytes(), "the painted area changed"
        assert entry.has_raw_answer
        with Image.open(io.BytesIO(store.read_raw(namespace, made) or b"")) as raw:
            untouched_by_model = raw.convert("RGB").resize(size).crop(far).tobytes() == a.crop(far).tobytes()
        assert not untouched_by_model, "the model's own answer moved those pixels: the composite kept them"
    finally:
        store.close()
    at.switch_page("app_pages/generate.py").run()  # the detail view shows both pictures too
    at.button(key=f"open_{made}").click().run()
    (dialog,) = at.get("dialog")
    captions = [c for image in dialog.get("image") for c in image.captions]  # type: ignore[attr-defined]
    assert any(c.startswith("The composite (this version)") for c in captions)
    assert "The model's whole answer, as it drew it" in captions
    assert USE_WHOLE_LABEL in [b.label for b in dialog.button]
    at.switch_page("app_pages/edit.py").run()
    assert any(b.label == USE_WHOLE_LABEL for b in at.button), "the Edit page offers the model's whole image"
    at.button(key=f"use_raw_{made}").click().run()
    assert not at.exception
    whole = _selected(at)
    assert whole not in (root, made), "the raw answer became a version of its own"
    store, namespace = _store(at, isolated_studio)
    try:
        with Image.open(io.BytesIO(store.read_image(namespace, whole) or b"")) as kept, \
                Image.open(io.BytesIO(store.read_raw(namespace, made) or b"")) as raw:
            assert kept.convert("RGB").tobytes() == raw.convert("RGB").tobytes(), "the model's picture, as drawn"
    finally:
        store.close()


def test_a_mask_covering_everything_runs_as_a_whole_image_edit(studio_app, emulator, isolated_studio: Path) -> None:
    at = _open_region(studio_app, emulator, "a quiet street")
    root = _selected(at)
    _paint(at, root, _mask(_image_size(at, isolated_studio, root), None))
    at.run()
    assert WHOLE_IMAGE_NOTE in [i.value for i in at.info], "said before sending"
    _apply_region(at, "make it snow")
    made = _selected(at)
    assert made != root
    assert WHOLE_IMAGE_NOTE in [i.value for i in at.info], "and said beside the new version"
    store, namespace = _store(at, isolated_studio)
    try:
        entry = store.get(namespace, made)
        assert entry is not None and entry.status == "ok" and not entry.is_region_edit
        assert store.read_mask(namespace, made) is None
    finally:
        store.close()


def test_extend_and_upscale_show_their_cost_and_make_versions(studio_app, emulator, isolated_studio: Path) -> None:
    at = _open_region(studio_app, emulator, "a lighthouse on a cliff")
    root = _selected(at)
    assert any(c.value.startswith("Upscale to 2K: estimated cost $") for c in at.caption)
    assert any(c.value.startswith("Upscale to 4K: estimated cost $") for c in at.caption)
    at.selectbox(key=f"extend_ratio_{root}").set_value(MARGINS).run()
    assert any(c.value.startswith("Choose a wider or taller") for c in at.caption), "no margins: nothing to send"
    at.number_input(key=f"extend_top_{root}").set_value(512).run()
    assert any(c.value.startswith("New canvas ") and "estimated cost $" in c.value for c in at.caption), \
        "margins per side grow the canvas to a ratio the model takes"
    at.selectbox(key=f"extend_ratio_{root}").set_value("16:9").run()
    assert any(c.value.startswith("New canvas ") and "(16:9)" in c.value and "estimated cost $" in c.value
               for c in at.caption)
    at.button(key=f"extend_apply_{root}").click().run()
    assert not at.exception
    extended = _selected(at)
    at.button(key=f"thread_pick_{root}").click().run()
    at.button(key=f"upscale_2K_{root}").click().run()
    assert not at.exception
    upscaled = _selected(at)
    store, namespace = _store(at, isolated_studio)
    try:
        wide, big = store.get(namespace, extended), store.get(namespace, upscaled)
        assert wide is not None and wide.status == "ok" and wide.region_mode == "extend"
        assert wide.aspect_ratio == "16:9" and wide.thread_parent_id == root
        assert big is not None and big.status == "ok" and big.region_mode == "upscale" and big.image_size == "2K"
    finally:
        store.close()


def test_history_offers_edit_region_and_a_missing_file_says_so(studio_app, emulator, isolated_studio: Path) -> None:
    at = studio_app(emulator)
    at.text_area(key="prompt").input("a red kite")
    at.button(key="generate").click().run()
    at.switch_page("app_pages/history.py").run()
    at._page_hash = ""  # stay on the page the last run finished on, as a browser does
    at.session_state["history_view"] = "List"  # the table's row selection opens the entry with its actions
    at.session_state["history_table"] = {"selection": {"rows": [0]}}
    at.run()
    (region,) = [b for b in at.button if b.label == "Edit region"]
    region.click().run()
    assert not at.exception and [t.value for t in at.title] == ["Edit"]
    assert at.session_state[EDIT_AREA] == PAINTED, "History's Edit region opens the Edit page in that mode"
    root = _selected(at)
    store, namespace = _store(at, isolated_studio)
    try:
        entry = store.get(namespace, root)
        assert entry is not None and entry.image_file
        store.blobs.delete(namespace, entry.image_file)
    finally:
        store.close()
    at.run()
    assert not at.exception
    assert any(w.value.startswith(MISSING_IMAGE) for w in at.warning)
    assert not [b for b in at.button if b.key == f"region_apply_{root}"], "nothing to paint on, nothing to send"
