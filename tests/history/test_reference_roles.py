"""History keeps each reference's role and a grounded answer's sources, on SQLite and on PostgreSQL,
through re-runs, export and import; entries from before roles read as untagged."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from studio.grounding import sources_from_response
from studio.history import HistoryStore
from studio.history.database import Database
from studio.history.schema import migrate
from studio.recipes import entry_recipe, request_from_recipe

from .conftest import make_request, ok_result

GROUNDED = {"candidates": [{"content": {"parts": []}, "groundingMetadata": {
    "searchEntryPoint": {"renderedContent": "<div class=\"chips\">weather</div>"},
    "groundingChunks": [{"web": {"uri": "https://example.org/forecast", "title": "example.org"}},
                        {"web": {"uri": "javascript:alert(1)", "title": "not a link"}}],
    "webSearchQueries": ["weather paris"]}}]}


def _tagged(store: HistoryStore, *tags: str):
    request = make_request("a team photo", refs=len(tags), grounding=True)
    request = replace(request, references=tuple(replace(ref, role=tag)
                                                for ref, tag in zip(request.references, tags, strict=True)))
    result = replace(ok_result(request), response_json=GROUNDED)
    return request, store.record_attempt("local", request, result, batch_id="b")


def test_roles_come_back_with_the_references_and_a_rerun_sends_the_same_preamble(store) -> None:
    request, entry = _tagged(store, "character", "style", "other")
    refs = store.read_references("local", entry.id)
    assert [r.role for r in refs] == ["character", "style", "other"]
    again = request_from_recipe(entry_recipe(entry), refs, count=1)
    assert again.preamble() == request.preamble() != ""
    assert again.grounding, "grounding is part of the recipe"


def test_a_grounded_answer_keeps_its_sources_in_history(store) -> None:
    _, entry = _tagged(store, "object")
    sources = sources_from_response(store.get("local", entry.id).response_json)
    assert sources is not None and "weather" in sources.entry_point_html
    assert [(s.uri, s.title) for s in sources.links] == [("https://example.org/forecast", "example.org")]
    assert sources.queries == ("weather paris",)


def test_export_and_import_carry_the_roles(store) -> None:
    _tagged(store, "background", "character")
    imported = store.import_zip("google:me", store.export_zip("local"))
    refs = store.read_references("google:me", imported[0].id)
    assert [r.role for r in refs] == ["background", "character"]
    assert sources_from_response(imported[0].response_json) is not None


def test_references_recorded_before_roles_read_as_untagged(tmp_path: Path, fresh_database_url: str) -> None:
    sha = hashlib.sha256(b"reference bytes").hexdigest()
    db = Database.connect(fresh_database_url)
    migrate(db, target=5)
    with db.transaction():
        db.run("INSERT INTO entries (id, namespace, batch_id, created_at, prompt, model_id, aspect_ratio, image_size, "
               "output_format, settings_json, status) VALUES ('old', 'local', 'b', 1.0, 'before roles', "
               "'gemini-3-pro-image', '1:1', '1K', 'PNG', '{}', 'ok')")
        db.run("INSERT INTO entry_references (entry_id, position, sha256, name, mime_type) "
               "VALUES ('old', 0, ?, 'r.png', 'image/png')", (sha,))
    db.close()
    store = HistoryStore.open(url=fresh_database_url, data_dir=tmp_path / "data")
    try:
        store.blobs.put("local", f"{sha}.bin", b"reference bytes")
        refs = store.read_references("local", "old")
        assert [(r.name, r.role) for r in refs] == [("r.png", "other")]
        assert not request_from_recipe(entry_recipe(store.get("local", "old")), refs).preamble()
    finally:
        store.close()
