"""The Edit page in AppTest: a thread of edits through the job runner against the emulator, its tree of
versions, a branch, the compare view, a blocked edit, a refused (400) thread and "Start fresh".

AppTest follows ``st.switch_page`` from the "Edit" button; it keeps asking for the page of the last
``switch_page``, so the Edit page (with ``?entry=`` in the URL) stays shown as in a browser.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from studio import turns
from studio.history import Entry, HistoryStore, namespace_for

BLOCKED = "[[fault:image_safety]]"


def _thread(at: AppTest, data_dir: Path) -> tuple[HistoryStore, str]:
    return HistoryStore.open(data_dir=data_dir), namespace_for(at.session_state["connection"], data_dir)


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def _selected(at: AppTest) -> str:
    return str(at.session_state["edit_entry_id"])


def _apply(at: AppTest, instruction: str) -> AppTest:
    leaf = _selected(at)
    at.text_area(key=f"edit_text_{leaf}").input(instruction)
    at.button(key=f"edit_apply_{leaf}").click().run()
    assert not at.exception
    return at


def _image_captions(at: AppTest) -> list[str]:
    return [c for image in at.get("image") for c in image.captions]  # type: ignore[attr-defined]


def _strip(at: AppTest) -> list[str]:
    """The captions of the conversation strip under the edit box ("v1 · instruction"), root first."""
    return [c.value for c in at.caption if re.match(r"^v\d+ · ", c.value or "")]


def _slider_pair(at: AppTest) -> tuple[str, str] | None:
    """The entries the in-browser before/after slider was given (its data carries their ids)."""
    for node in at.get("bidi_component"):
        if node.proto.component_name == "nano_banana_compare_slider":  # type: ignore[attr-defined]
            data = json.loads(node.proto.json)  # type: ignore[attr-defined]
            assert data["before"].startswith("data:image/jpeg;base64,") and data["after"].startswith("data:image/")
            first, second = data["key"].split(":")
            return first, second
    return None


def _versions(at: AppTest) -> list[str]:
    return [b.label for b in at.button if (b.key or "").startswith("thread_pick_")]


def _start(studio_app, emulator, prompt: str, button: str = "Edit") -> AppTest:
    """Generate one image, then press its card's ``button`` ("Edit", or "Edit region")."""
    at = studio_app(emulator)
    at.text_area(key="prompt").input(prompt)
    at.button(key="generate").click().run()
    (card,) = [b for b in at.button if b.label == button]
    card.click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Edit"], f"the card's {button} button opens the Edit page"
    return at


def test_three_turns_a_branch_and_the_compare_view(studio_app, emulator, isolated_studio: Path) -> None:
    at = _start(studio_app, emulator, "a paper boat")
    root = _selected(at)
    assert at.text_area(key=f"edit_text_{root}").label == "Edit instruction"
    assert "Apply edit" in _labels(at) and "Start fresh from this image" in _labels(at)
    _apply(at, "")
    assert any("Write an edit instruction first" in e.value for e in at.error), "an empty edit is refused plainly"

    _apply(at, "put it on a puddle")
    second = _selected(at)
    assert second != root
    _apply(at, "add rain")
    third = _selected(at)
    assert _strip(at) == ["v1 · a paper boat", "v2 · put it on a puddle", "v3 · add rain"], "the conversation so far"
    assert at.selectbox(key=f"compare_before_{third}").value == second, "compared with its parent by default"
    assert at.selectbox(key=f"compare_after_{third}").value == third
    captions = _image_captions(at)
    assert any(c.startswith("Before · v2") for c in captions) and any(c.startswith("After · v3") for c in captions)
    assert _slider_pair(at) == (second, third), "the in-browser slider gets both pictures"

    at.button(key=f"thread_pick_{root}").click().run()  # back to v1, and a branch from it
    assert _selected(at) == root
    _apply(at, "make it night")
    branch = _selected(at)
    labels = _versions(at)
    assert len(labels) == 4 and labels[0].startswith("v1") and labels[1].startswith("\u2003└ v2")
    assert labels[2].startswith("\u2003\u2003└ v3") and labels[3].startswith("\u2003└ v4"), "a tree, not a list"

    store, namespace = _thread(at, isolated_studio)
    try:
        made = {e.id: e for e in store.thread_entries(namespace, root)}
        assert set(made) == {root, second, third, branch} and all(e.status == "ok" for e in made.values())
        assert made[third].thread_parent_id == second and made[branch].thread_parent_id == root
        sent = [c["role"] for c in made[third].request_json["contents"]]
        assert sent == ["user", "model", "user", "model", "user"], "the third turn sent the two before it"
    finally:
        store.close()

    assert _slider_pair(at) == (root, branch), "a branch is compared with the version it continues"
    at.selectbox(key=f"compare_before_{branch}").set_value(third).run()  # any two versions of the thread
    assert not at.exception and _slider_pair(at) == (third, branch)


def test_a_blocked_edit_is_a_failed_turn_and_the_thread_goes_on(studio_app, emulator) -> None:
    at = _start(studio_app, emulator, "a lighthouse")
    root = _selected(at)
    _apply(at, f"paint it red {BLOCKED}")
    failed = _selected(at)
    assert failed != root
    assert any("This edit did not make an image" in w.value for w in at.warning)
    assert any(label.startswith("\u2003└ v2 🚫") for label in _versions(at)), "the failed turn is in the tree"
    at.button(key=f"edit_back_{failed}").click().run()
    assert _selected(at) == root
    assert at.text_area(key=f"edit_text_{root}").value == f"paint it red {BLOCKED}", "the instruction is kept"
    _apply(at, "paint it blue")
    assert len(_versions(at)) == 3 and not at.exception


def test_a_refused_thread_says_so_and_offers_start_fresh(studio_app, emulator, isolated_studio: Path) -> None:
    at = _start(studio_app, emulator, "a windmill")
    root = _selected(at)
    store, namespace = _thread(at, isolated_studio)
    try:
        entry = store.get(namespace, root)
        assert isinstance(entry, Entry) and entry.turn_file
        turn = json.loads(store.read_turn(namespace, root) or b"{}")
        for part in turn["parts"]:  # the stored signature altered: Google (the emulator) cannot verify it
            if part.get("thoughtSignature"):
                raw = bytearray(turns.decode_b64(part["thoughtSignature"]))
                raw[0] ^= 0xFF
                part["thoughtSignature"] = base64.b64encode(bytes(raw)).decode()
        store.blobs.put(namespace, entry.turn_file, json.dumps(turn).encode())
    finally:
        store.close()
    _apply(at, "add sails")
    refused = _selected(at)
    assert any("Google refused to continue this thread" in e.value and "Corrupted thought signature" in e.value
               for e in at.error)
    assert len(_versions(at)) == 2, "nothing in the thread is lost"
    at.button(key=f"edit_fresh_failed_{refused}").click().run()
    fresh = _selected(at)
    assert fresh not in (root, refused) and not at.exception
    assert len(_versions(at)) == 1, "a new conversation with just that image"
    assert len(_strip(at)) == 1, "the conversation so far: one turn"
    assert any("with 1 reference image(s)" in (c.value or "") for c in at.caption)
    assert not at.error


def test_the_page_without_a_thread_says_how_to_start(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.switch_page("app_pages/edit.py").run()
    assert any("Press **Edit** on any image" in i.value for i in at.info)
    at.query_params["entry"] = "0" * 32
    at.run()
    assert any("not in your History" in w.value for w in at.warning)


def test_history_compares_two_selected_rows_and_opens_an_edit(studio_app, emulator) -> None:
    at = studio_app(emulator, count=2)
    at.text_area(key="prompt").input("two harbours")
    at.button(key="generate").click().run()
    at.switch_page("app_pages/history.py").run()
    at._page_hash = ""  # stay on the page the last run finished on, as a browser does
    at.session_state["history_view"] = "List"  # rows are picked in the List view; the Gallery opens one
    at.session_state["history_table"] = {"selection": {"rows": [0, 1]}}
    at.run()
    assert not at.exception
    assert "Compare" in [h.value for h in at.subheader]
    captions = _image_captions(at)
    assert sum(c.startswith("Before · ") for c in captions) == 1 and sum(c.startswith("After · ") for c in captions) == 1
    assert _slider_pair(at) is not None, "the two rows in the in-browser slider"
    at.session_state["history_table"] = {"selection": {"rows": [0]}}
    at.run()
    (edit,) = [b for b in at.button if b.label == "Edit"]
    edit.click().run()
    assert [t.value for t in at.title] == ["Edit"] and not at.exception


def test_a_thread_too_large_for_one_request_is_not_sent(studio_app, emulator, monkeypatch) -> None:
    at = _start(studio_app, emulator, "a castle")
    root = _selected(at)
    monkeypatch.setattr(turns, "INLINE_REQUEST_LIMIT", 10_000)  # the first image alone is larger
    _apply(at, "add a moat")
    assert any("too large for one request" in e.value and "Start fresh from this image" in e.value for e in at.error)
    assert _selected(at) == root and len(_versions(at)) == 1, "nothing was sent, nothing is lost"
    assert at.text_area(key=f"edit_text_{root}").value == "add a moat", "the instruction is kept"
    at.button(key=f"edit_fresh_{root}").click().run()
    assert _selected(at) != root and len(_strip(at)) == 1


def test_retry_of_a_failed_edit_on_the_grid_stays_in_its_thread(studio_app, emulator, isolated_studio) -> None:
    at = _start(studio_app, emulator, "a tram")
    root = _selected(at)
    _apply(at, "paint it green [[fault:image_safety*1]]")  # blocked once, then it goes through
    failed = _selected(at)
    at.switch_page("app_pages/generate.py").run()
    at.button(key=f"retry_{failed}").click().run()
    assert not at.exception
    store, namespace = _thread(at, isolated_studio)
    try:
        versions = store.thread_entries(namespace, root)
        (again,) = [v for v in versions if v.id not in (root, failed)]
        assert again.status == "ok" and again.thread_parent_id == root and again.parent_id == root
        assert [c["role"] for c in again.request_json["contents"]] == ["user", "model", "user"]
    finally:
        store.close()


def test_an_edit_changes_ratio_and_size_and_adds_a_reference_for_its_turn(studio_app, emulator,
                                                                          isolated_studio: Path) -> None:
    import io

    from PIL import Image

    at = _start(studio_app, emulator, "a garden")
    root = _selected(at)
    picture = io.BytesIO()
    Image.new("RGB", (80, 60), "gold").save(picture, "PNG")
    at.file_uploader(key=f"edit_refs_{root}").set_value([("sun.png", picture.getvalue(), "image/png")]).run()
    at.selectbox(key=f"edit_ratio_{root}").set_value("16:9").run()
    at.selectbox(key=f"edit_size_{root}").set_value("2K").run()
    _apply(at, "add this sun")
    store, namespace = _thread(at, isolated_studio)
    try:
        edit = store.get(namespace, _selected(at))
        assert edit is not None and edit.status == "ok"
        assert (edit.aspect_ratio, edit.image_size, edit.width, edit.height) == ("16:9", "2K", 2752, 1536)
        assert edit.references_count == 1
        last = edit.request_json["contents"][-1]
        assert last["role"] == "user" and [("text" in p, "inlineData" in p) for p in last["parts"]] == [
            (True, False), (False, True)], "the instruction, then this turn's reference"
    finally:
        store.close()


def test_a_thread_with_deleted_versions_still_opens_and_continues(studio_app, emulator, isolated_studio) -> None:
    """Deleting the root and a middle version crashed the Edit page of every later version with a KeyError;
    the deleted ones are placeholders, the next edit still sends the whole conversation, and the purge keeps
    the turns a later version continues (issue 20, item 10b)."""
    at = _start(studio_app, emulator, "a red kite")
    root = _selected(at)
    _apply(at, "make it blue")
    middle = _selected(at)
    _apply(at, "add a sun")
    leaf = _selected(at)
    store, namespace = _thread(at, isolated_studio)
    try:
        assert store.delete(namespace, root) and store.delete(namespace, middle)
    finally:
        store.close()
    at.run()  # the page of the later version: a KeyError before
    assert not at.exception, at.exception
    labels = _versions(at)
    assert labels[0] == "v1 🗑️ deleted" and labels[1] == "\u2003└ v2 🗑️ deleted" and "v3" in labels[2]
    assert [b.disabled for b in at.button if (b.key or "").startswith("thread_pick_")] == [True, True, False]
    assert sum("was deleted" in (c.value or "") for c in at.caption) == 2
    store, namespace = _thread(at, isolated_studio)
    try:
        assert store.purge(older_than_s=-1) == 0, "a later version continues both: they stay"
    finally:
        store.close()
    _apply(at, "add a gull")
    newest = _selected(at)
    assert newest != leaf and not at.error
    store, namespace = _thread(at, isolated_studio)
    try:
        sent = store.get(namespace, newest)
        assert sent is not None and sent.status == "ok", sent
        roles = [c["role"] for c in sent.request_json["contents"]]
        assert roles == ["user", "model"] * 3 + ["user"], "the conversation from the first turn, deleted ones too"
        for version in (leaf, newest):
            assert store.delete(namespace, version)
        assert store.purge(older_than_s=-1) == 4, "nothing continues them any more: the whole thread goes"
    finally:
        store.close()


def test_an_edit_never_sends_a_thread_that_starts_mid_way(isolated_studio, studio_app, emulator) -> None:
    """A version whose earlier turn is gone from History (purged before, or a partial import) cannot continue
    as a conversation: a plain message, nothing sent."""
    at = _start(studio_app, emulator, "a green kite")
    _apply(at, "make it yellow")
    second = _selected(at)
    store, namespace = _thread(at, isolated_studio)
    try:
        root = store.get(namespace, second).thread_parent_id  # type: ignore[union-attr]
        store.db.run("DELETE FROM entries WHERE id = ?", (root,))  # what the purge did before
    finally:
        store.close()
    at.run()
    assert not at.exception, at.exception
    _apply(at, "add a cloud")
    assert _selected(at) == second, "nothing was sent"
    assert any("An earlier version of this thread is no longer in History" in e.value for e in at.error)


def _in_order(node) -> list:
    """Every element under ``node`` in the order the page draws them (blocks flattened)."""
    children = getattr(node, "children", None)
    if not children:
        return [node]
    return [leaf for _, child in sorted(children.items()) for leaf in _in_order(child)]


def test_the_edit_page_puts_the_image_first_and_the_instruction_right_under_it(studio_app, emulator) -> None:
    """Issue 22 item 5: the version large, then Edit instruction and Apply edit, then the turns as a strip,
    then Compare; the versions' tree is beside it with a thumbnail each; the sidebar shows only the edit's."""
    at = _start(studio_app, emulator, "a paper boat")
    _apply(at, "put it on a puddle")
    _apply(at, "add rain")
    third = _selected(at)
    order: list[str] = []
    for element in _in_order(at.main):
        kind, label = element.type, getattr(element, "label", None) or getattr(element, "value", None)
        if kind == "image" and not order:
            order.append("image")
        elif kind == "text_area" and label == "Edit instruction":
            order.append("instruction")
        elif kind == "button" and label == "Apply edit":
            order.append("apply")
        elif kind == "markdown" and label == "**The conversation so far**":
            order.append("strip")
        elif kind == "subheader" and label in ("Compare", "Versions"):
            order.append(label)
    assert order == ["image", "instruction", "apply", "strip", "Compare", "Versions"], order
    current = at.get("image")[0]
    assert current.captions[0].startswith("v3 · "), "the first picture is the version being edited"  # type: ignore[attr-defined]
    rows = [k for k in (b.key or "" for b in at.button) if k.startswith("thread_pick_")]
    assert len(rows) == 3 and rows[-1] == f"thread_pick_{third}"
    sidebar = [getattr(e, "label", None) for e in _in_order(at.sidebar)]
    assert "Private session" in sidebar
    for generate_only in ("Model", "Aspect ratio", "Resolution", "Images", "Seed", "Output format"):
        assert generate_only not in sidebar, f"{generate_only} belongs to Generate, not to an edit"
    assert not any(getattr(m, "label", "") == "Estimated cost" for m in at.sidebar.metric)
    at.switch_page("app_pages/generate.py").run()
    assert "Aspect ratio" in [s.label for s in at.sidebar.selectbox], "Generate's settings come back on Generate"
