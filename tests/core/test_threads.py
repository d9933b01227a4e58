"""The edit thread's turn builder: the earlier turns sent back complete, in order, signatures byte-for-byte.

The pure builder is checked on hand-made turns; the whole path (engine, History, builder, engine again)
runs through the real SDK against the emulator, which refuses a missing or altered signature as Google does.
"""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest

from studio import threads, turns
from studio.catalogue import PRO
from studio.history import HistoryStore
from studio.request import GenerationRequest, ReferenceImage
from studio.results import FailureKind
from tests.conftest import TEST_KEY

NS = "local"


def _b64(data: bytes, urlsafe: bool = False) -> str:
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()


SIG_TEXT, SIG_IMAGE = b"\x00\xfftext-signature\xfe", b"\xfb\xff\x00image-signature"
MODEL_TURN = {"role": "model", "parts": [
    {"text": "Thinking about the kite", "thought": True},
    {"inlineData": {"mimeType": "image/png", "data": _b64(b"draft")}, "thought": True},
    {"text": "Here is your kite.", "thoughtSignature": _b64(SIG_TEXT)},
    {"inlineData": {"mimeType": "image/png", "data": _b64(b"final-image")}, "thoughtSignature": _b64(SIG_IMAGE)},
]}


def _request(prompt: str = "a red kite", **kwargs: object) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, model_id=PRO.model_id, **kwargs)  # type: ignore[arg-type]


def test_model_turn_keeps_every_final_part_in_order_and_drops_thoughts() -> None:
    kept = turns.model_turn_parts(MODEL_TURN["parts"])
    assert kept == MODEL_TURN["parts"][2:], "final parts verbatim, in order; thinking and drafts never resent"
    stored = turns.read_turn_blob(turns.turn_blob(kept))
    assert stored == {"role": "model", "parts": kept}


def test_contents_are_user_then_model_turns_with_signatures_byte_identical() -> None:
    ref = ReferenceImage(name="ref.png", data=b"reference-bytes", mime_type="image/png")
    first = turns.Turn("a red kite", (ref,), {"role": "model", "parts": turns.model_turn_parts(MODEL_TURN["parts"])})
    second = turns.Turn("make it blue", (), {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": _b64(b"second")},
         "thoughtSignature": _b64(b"\xfb\xefsecond-sig", urlsafe=True)}]})
    earlier = turns.conversation([first, second])
    assert [c["role"] for c in earlier] == ["user", "model", "user", "model"]
    assert earlier[0]["parts"][0] == {"text": "a red kite"}, "the text first, then the references (as sent)"
    assert base64.b64decode(earlier[0]["parts"][1]["inlineData"]["data"]) == b"reference-bytes"
    sent = turns.sdk_contents(earlier, _request("add a sun"))
    wire = [c.model_dump(mode="json", exclude_none=True, by_alias=True) for c in sent]
    assert [c["role"] for c in wire] == ["user", "model", "user", "model", "user"]
    assert wire[-1]["parts"] == [{"text": "add a sun"}]
    assert turns.signatures(wire) == [SIG_TEXT, SIG_IMAGE, b"\xfb\xefsecond-sig"], "bytes, in order"
    model = sent[1].parts or []
    assert [p.text for p in model] == ["Here is your kite.", None]
    assert model[1].inline_data is not None and model[1].inline_data.data == b"final-image"
    assert turns.request_body_size(earlier, _request("add a sun")) == len(json.dumps(
        {"contents": wire}, separators=(",", ":")).encode())


def test_an_unreadable_stored_turn_is_a_plain_error() -> None:
    with pytest.raises(turns.TurnError, match="cannot be read"):
        turns.read_turn_blob(b"{not json")
    with pytest.raises(turns.TurnError, match="not valid base64"):
        turns.sdk_part({"inlineData": {"mimeType": "image/png", "data": "@@@"}, "thoughtSignature": "x"})


def _raw_signatures(emulator, prompt: str) -> list[bytes]:
    """The signatures Google (the emulator, deterministic per prompt) puts on this prompt's answer."""
    body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "1:1"}}}
    answer = httpx.post(f"{emulator.base_url}/v1beta/models/{PRO.model_id}:generateContent", json=body,
                        headers={"x-goog-api-key": TEST_KEY}, timeout=30).json()
    return turns.signatures([answer["candidates"][0]["content"]])


@pytest.mark.parametrize("thinking", [False, True], ids=["answer", "stream"])
def test_three_turns_and_a_branch_through_history_and_the_sdk(emulator, engine_for, thinking: bool) -> None:
    engine = engine_for(emulator)
    store = HistoryStore.private()
    prompt = f"a paper boat {uuid.uuid4().hex[:6]}"

    def record(request: GenerationRequest):
        (result,) = engine.run(request)
        return result, store.record_attempt(NS, request, result, batch_id=uuid.uuid4().hex)

    try:
        first, root = record(_request(prompt, include_thoughts=thinking))
        assert first.ok and root.can_continue
        stored = turns.read_turn_blob(store.read_turn(NS, root.id) or b"")
        assert not any(p.get("thought") for p in stored["parts"]), "drafts and thinking are not kept for resending"
        assert turns.signatures([stored]) == _raw_signatures(emulator, prompt), "byte-for-byte as Google sent"

        def edit(leaf, instruction: str, **kwargs: object):
            earlier = threads.turns_from_store(store, NS, leaf.id)
            return record(threads.edit_request(_request(include_thoughts=thinking), leaf, earlier, instruction,
                                               **kwargs))  # type: ignore[arg-type]

        second, turn2 = edit(root, "put it on a puddle", aspect_ratio="16:9")
        assert second.ok, second.failure
        third, turn3 = edit(turn2, "add rain")
        assert third.ok, third.failure
        sent = [c["role"] for c in third.request_json["contents"]]
        assert sent == ["user", "model", "user", "model", "user"]
        assert (second.image and second.image.width > second.image.height), "the ratio changed for that turn"
        branch, turn2b = edit(root, "make it night")  # a branch from the first version
        assert branch.ok and [c["role"] for c in branch.request_json["contents"]] == ["user", "model", "user"]
        assert (turn3.thread_parent_id, turn3.thread_root_id) == (turn2.id, root.id)
        assert turn2b.thread_parent_id == root.id and turn2b.thread_root_id == root.id
        assert [e.id for e in store.thread_chain(NS, turn3.id)] == [root.id, turn2.id, turn3.id]
        assert {e.id for e in store.thread_entries(NS, root.id)} == {root.id, turn2.id, turn3.id, turn2b.id}
    finally:
        store.close()
        engine.close()


def test_an_altered_stored_signature_is_refused_plainly_and_loses_nothing(emulator, engine_for) -> None:
    engine = engine_for(emulator)
    store = HistoryStore.private()
    try:
        request = _request("a lighthouse")
        (result,) = engine.run(request)
        root = store.record_attempt(NS, request, result, batch_id="b1")
        earlier = threads.turns_from_store(store, NS, root.id)
        parts = [dict(p) for p in earlier[0].model["parts"]]
        image_part = next(p for p in parts if "inlineData" in p)
        sig = bytearray(turns.decode_b64(image_part["thoughtSignature"]))
        sig[3] ^= 0xFF
        image_part["thoughtSignature"] = _b64(bytes(sig))
        tampered = [turns.Turn(earlier[0].prompt, earlier[0].references, {"role": "model", "parts": parts})]
        (refused,) = engine.run(threads.edit_request(request, root, tampered, "make it blue"))
        assert refused.failure is not None and refused.failure.kind is FailureKind.INVALID_REQUEST
        assert refused.failure.http_status == 400 and "Corrupted thought signature" in refused.failure.detail
        assert store.read_turn(NS, root.id) and store.read_image(NS, root.id), "the thread's versions are intact"
        store.sweep_orphans(grace_s=0)
        assert store.read_turn(NS, root.id), "a kept turn is not an orphan file"
    finally:
        store.close()
        engine.close()


def test_the_cheap_size_estimate_matches_what_the_sdk_sends() -> None:
    first = turns.Turn("a red kite", (), {"role": "model", "parts": turns.model_turn_parts(MODEL_TURN["parts"])})
    earlier = turns.conversation([first])
    request = _request("add a sun", references=(ReferenceImage("r.png", b"x" * 3000, "image/png"),))
    exact, estimate = turns.request_body_size(earlier, request), turns.estimated_body_size(earlier, request)
    assert abs(exact - estimate) < 100, (exact, estimate)
    assert "too large for one request (120 MB of Google's 100 MB limit)" in turns.too_large_message(120_000_000)


def test_the_version_tree_puts_branches_under_the_turn_they_continue() -> None:
    from types import SimpleNamespace

    def version(name: str, at: float, parent: str | None = None):
        return SimpleNamespace(id=name, created_at=at, thread_parent_id=parent)

    versions = [version("v1", 1), version("v2", 2, "v1"), version("v3", 3, "v2"), version("v4", 4, "v1"),
                version("v5", 5, "gone")]
    tree = threads.version_tree(versions)  # type: ignore[arg-type]
    assert [(v.id, depth) for v, depth in tree] == [("v1", 0), ("v2", 1), ("v3", 2), ("v4", 1), ("v5", 0)]


def test_a_thread_survives_export_and_import(emulator, engine_for) -> None:
    engine = engine_for(emulator)
    source, target = HistoryStore.private(), HistoryStore.private()
    try:
        request = _request("a harbour crane")
        (result,) = engine.run(request)
        root = source.record_attempt(NS, request, result, batch_id="b1")
        edit = threads.edit_request(request, root, threads.turns_from_store(source, NS, root.id), "paint it red")
        (edited,) = engine.run(edit)
        turn2 = source.record_attempt(NS, edit, edited, batch_id="b2")
        imported = {e.prompt: e for e in target.import_zip(NS, source.export_zip(NS))}
        new_root, new_turn2 = imported["a harbour crane"], imported["paint it red"]
        assert new_turn2.thread_parent_id == new_root.id and new_turn2.thread_root_id == new_root.id
        assert target.read_turn(NS, new_turn2.id) == source.read_turn(NS, turn2.id), "the raw turn, byte for byte"
        earlier = threads.turns_from_store(target, NS, new_turn2.id)
        (again,) = engine.run(threads.edit_request(request, new_turn2, earlier, "add a gull"))
        assert again.ok, again.failure  # the imported thread continues: Google accepts its signatures
    finally:
        source.close()
        target.close()
        engine.close()


def test_the_wire_format_stands_apart_from_the_store() -> None:
    """store <-> archive <-> threads was a circle hidden by deferred imports: the wire format imports nothing of
    History, and History imports nothing of the store-reading thread module (issue 20, item 18)."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    loaded = subprocess.run([sys.executable, "-c", "import sys, studio.turns; "
                             "print(sorted(m for m in sys.modules if m.startswith('studio.')))"],
                            capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2]).stdout
    assert "studio.history" not in loaded and "studio.threads" not in loaded
    root = Path(__file__).parents[2] / "studio"
    for path in [*sorted((root / "history").glob("*.py")), root / "threads.py", root / "turns.py"]:
        text = path.read_text()
        deferred = re.search(r"^ {8,}from studio\.(history\.(store|archive)|threads|turns)\b", text, re.M)
        assert not deferred, f"{path.name} imports {deferred and deferred.group(1)} inside a function"
        assert not re.search(r"^ *(from|import) studio\.threads\b", text, re.M), f"{path.name} reads threads"
    assert "TYPE_CHECKING" not in (root / "threads.py").read_text() + (root / "turns.py").read_text()
    assert not re.search(r"^\s*(from|import) studio\.history\.store", (root / "history" / "archive.py").read_text(), re.M)
