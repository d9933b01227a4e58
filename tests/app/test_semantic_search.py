"""History's "Search by meaning", "More like this" and "Index my History" in AppTest, against the emulator's
embedding model through the real SDK and the app's own job runner."""

from __future__ import annotations

import io
import time
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

from studio.history import HistoryStore, namespace_for
from studio.results import GeneratedImage, ImageResult, Usage
from tests.history.conftest import make_request

SCENES = [("a red scooter parked on a rainy street at night", "#202040"),
          ("a bowl of lemons on a wooden table", "#e0d040"),
          ("a snowy mountain cabin at sunrise", "#f0f0f0"),
          ("a cat sleeping on a sunny windowsill", "#e0a060"),
          ("a sailing boat on a calm blue sea", "#3060d0"),
          ("a portrait of an old wizard with a long beard", "#604080")]


def _picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def _seed(data_dir: Path, namespace: str, scenes: list[tuple[str, str]]) -> list[str]:
    store = HistoryStore.open(data_dir=data_dir)
    ids = []
    for prompt, colour in scenes:
        request = make_request(prompt)
        image = GeneratedImage(data=_picture(colour), mime_type="image/png", width=64, height=48)
        ids.append(store.record_attempt(namespace, request, ImageResult(index=0, image=image,
                                                                        usage=Usage(10, 1120, 0, 1130)),
                                        batch_id="b").id)
    store.close()
    return ids


def _history(studio_app, emulator, data_dir: Path) -> tuple[AppTest, str, list[str]]:
    at = studio_app(emulator)
    namespace = namespace_for(at.session_state["connection"], data_dir)
    ids = _seed(data_dir, namespace, SCENES)
    at.session_state["history_view"] = "List"  # these tests read the table (History opens as a gallery)
    at.switch_page("app_pages/history.py").run()
    assert not at.exception
    return at, namespace, ids


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def _index(at: AppTest, namespace: str) -> AppTest:
    """Press "Index my History" and wait for the app's runner to finish the backfill."""
    from components import services

    at.button(key="index_history").click().run()
    indexer = services.get_runner().indexer
    deadline = time.monotonic() + 30
    while (indexer.progress(namespace) is None or indexer.progress(namespace).running) and time.monotonic() < deadline:
        time.sleep(0.02)
    return at.run()


def test_index_my_history_shows_its_cost_first_then_indexes(studio_app, emulator, isolated_studio) -> None:
    at, namespace, _ = _history(studio_app, emulator, isolated_studio)
    assert any("0 of 6 entries are indexed" in c for c in _captions(at))
    estimate = next(c for c in _captions(at) if "Indexing the 6 older entries costs about $" in c)
    assert "$0.0" in estimate
    at = _index(at, namespace)
    assert not at.exception
    assert any("6 of 6 entries are indexed" in c for c in _captions(at))
    assert any(s.value.startswith("Indexed 6 entries for $") for s in at.success)
    assert not [b for b in at.button if b.key == "index_history"], "nothing left to index"


def test_search_by_meaning_finds_the_scooter_where_no_word_matches(studio_app, emulator, isolated_studio) -> None:
    at, namespace, _ids = _history(studio_app, emulator, isolated_studio)
    at = _index(at, namespace)
    at.text_input(key="history_query").input("a vehicle at night").run()
    assert any("No entry matches" in i.value for i in at.info), "words alone find nothing"
    at.toggle(key="history_meaning").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert next(iter(table["prompt"])) == SCENES[0][0]
    assert all("alike" in m for m in table["match"])
    assert any("Search by meaning" in h.value for h in at.subheader)
    # exact words first: a query whose words match puts that entry first, marked as a word match
    at.text_input(key="history_query").input("lemons").run()
    assert next(iter(at.dataframe[0].value["match"])).startswith("words")
    assert next(iter(at.dataframe[0].value["prompt"])) == SCENES[1][0]


def test_search_says_how_much_is_not_indexed_and_trims_a_long_query(studio_app, emulator, isolated_studio) -> None:
    at, namespace, _ = _history(studio_app, emulator, isolated_studio)
    at = _index(at, namespace)
    _seed(isolated_studio, namespace, [("a yellow taxi in the city", "#e0c020")])
    at.toggle(key="history_meaning").set_value(True)
    at.text_input(key="history_query").input("scooter " * 5000).run()
    assert not at.exception
    captions = _captions(at)
    assert any("1 of 7 entries are not indexed yet" in c for c in captions)
    assert any("only its first 32,768 characters were used" in c for c in captions)
    assert next(iter(at.dataframe[0].value["prompt"])) == SCENES[0][0], "search works on what is indexed"


def test_more_like_this_on_a_history_row_ranks_the_others(studio_app, emulator, isolated_studio) -> None:
    at, namespace, ids = _history(studio_app, emulator, isolated_studio)
    at = _index(at, namespace)
    prompts = list(at.dataframe[0].value["prompt"])
    at.session_state["history_table"] = {"selection": {"rows": [prompts.index(SCENES[0][0])]}}
    at.run()
    at.button(key=f"h_more_{ids[0]}").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert next(iter(table["match"])) == "this one" and next(iter(table["prompt"])) == SCENES[0][0]
    assert len(table) > 1 and all("alike" in m for m in list(table["match"])[1:])
    assert any("More like" in h.value for h in at.subheader)
    at.button(key="more_like_back").click().run()
    assert "match" not in at.dataframe[0].value.columns and len(at.dataframe[0].value) == 6


def test_more_like_this_before_indexing_says_so(studio_app, emulator, isolated_studio) -> None:
    at, _namespace, ids = _history(studio_app, emulator, isolated_studio)
    at.session_state["history_table"] = {"selection": {"rows": [0]}}
    at.run()
    first = next(iter(at.dataframe[0].value["prompt"]))
    entry_id = ids[[p for p, _ in SCENES].index(first)]
    at.button(key=f"h_more_{entry_id}").click().run()
    assert any("not indexed yet" in c for c in _captions(at))


def test_more_like_this_on_a_card_opens_history_ranked(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.text_area(key="prompt").input(SCENES[0][0])
    at.button(key="generate").click().run()
    entry_id = at.session_state["session_entry_ids"][0]
    at.button(key=f"more_{entry_id}").click().run()
    assert not at.exception
    assert any(f"More like “{SCENES[0][0]}”" in h.value for h in at.subheader), "History, ranked like the card"
    assert next(iter(at.dataframe[0].value["match"])) == "this one"


def test_more_like_this_in_the_detail_view_opens_history_ranked(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.text_area(key="prompt").input(SCENES[1][0])
    at.button(key="generate").click().run()
    entry_id = at.session_state["session_entry_ids"][0]
    at.button(key=f"open_{entry_id}").click().run()
    assert at.get("dialog")
    at.button(key=f"open_{entry_id}").click()  # the dialog is drawn by the run that sees the click (AppTest)
    at.button(key=f"detail_more_{entry_id}").click().run()
    assert not at.exception
    assert any(f"More like “{SCENES[1][0]}”" in h.value for h in at.subheader)


def test_a_quota_answer_pauses_indexing_with_the_count_done(studio_app, fresh_emulator, isolated_studio) -> None:
    from components import services

    server = fresh_emulator()
    at, namespace, _ = _history(studio_app, server, isolated_studio)
    server.queue_fault("quota", 3)  # three refusals, each with Google's 1 s retry delay, then it goes through
    at.button(key="index_history").click().run()
    indexer = services.get_runner().indexer
    deadline = time.monotonic() + 30
    while not (indexer.progress(namespace) and indexer.progress(namespace).paused) and time.monotonic() < deadline:
        time.sleep(0.02)
    at.run()
    assert any("quota ran out after 0 of 6 entries" in i.value and "Search works on what is indexed" in i.value
               for i in at.info)
    while indexer.progress(namespace).running and time.monotonic() < deadline:
        time.sleep(0.02)
    at.run()
    assert any("6 of 6 entries are indexed" in c for c in _captions(at)), "resumed by itself"
