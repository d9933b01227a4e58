"""The Generate page against the emulator: validation, results, failures in place, nothing lost."""

from __future__ import annotations

import io

from PIL import Image

from components.state import LANE_BATCH, LANE_FLEX, LANE_NOW
from studio.images import read_recipe
from tests.app.conftest import drawn


def _png(colour: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _generate(at, prompt: str):
    at.text_area(key="prompt").input(prompt)
    at.button(key="generate").click()
    return at.run()


def test_validation_messages_show_and_nothing_is_sent(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at = _generate(at, "   ")
    assert any("Write a prompt first" in e.value for e in at.error)
    assert at.session_state["session_entry_ids"] == []


def test_a_generation_adds_results_to_the_grid_and_history(studio_app, emulator, isolated_studio) -> None:
    at = studio_app(emulator, count=3)
    served = emulator.stats()["served"]
    at = _generate(at, "a lighthouse at dawn")
    assert not at.exception
    ids = at.session_state["session_entry_ids"]
    assert len(ids) == 3
    assert emulator.stats()["served"] - served == 3, "sent once, by Generate's callback, and not again by the run"
    assert "This session · 3 generations" in [h.value for h in at.subheader]
    assert len([b for b in at.button if b.label == "Open"]) == 3
    image_files = list(isolated_studio.rglob("*.png"))
    originals = [p for p in image_files if ".thumb" not in p.name]
    assert len(originals) == 3 and read_recipe(originals[0].read_bytes())["prompt"] == "a lighthouse at dawn"


def test_failures_show_in_place_and_keep_prompt_references_and_results(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.file_uploader(key="reference_uploader_0").set_value([("a.png", _png(), "image/png")]).run()
    assert len(at.session_state["references"]) == 1
    at = _generate(at, "first good one")
    assert len(at.session_state["session_entry_ids"]) == 1
    prompt = "now blocked [[fault:image_safety]]"
    at = _generate(at, prompt)
    assert any("blocked by Google's safety filters" in e.value for e in at.error)
    assert at.text_area(key="prompt").value == prompt
    assert len(at.session_state["references"]) == 1
    assert len(at.session_state["session_entry_ids"]) == 2, "the failure is recorded, the earlier result stays"
    assert "Retry" in [b.label for b in at.button]


def test_bad_reference_file_is_named_and_nothing_is_lost(studio_app, emulator) -> None:
    at = studio_app(emulator)
    at.text_area(key="prompt").input("keep me")
    at.run()
    at.file_uploader(key="reference_uploader_0").set_value(
        [("good.png", _png(), "image/png"), ("notes.png", b"just text, not a picture", "image/png")]).run()
    assert any("notes\\.png is not an image" in e.value for e in at.error)
    assert [r.name for r in at.session_state["references"]] == ["good.png"]
    assert at.text_area(key="prompt").value == "keep me"


def test_reference_limit_is_the_models(studio_app, emulator) -> None:
    at = studio_app(emulator, model_key="flash2")
    files = [(f"r{i}.png", _png(size=(20 + i, 20)), "image/png") for i in range(15)]
    at.file_uploader(key="reference_uploader_0").set_value(files).run()
    assert len(at.session_state["references"]) == 14
    assert any("takes at most 14 reference images" in e.value for e in at.error)


def test_dropping_a_studio_image_offers_its_recipe(studio_app, emulator, isolated_studio) -> None:
    at = studio_app(emulator)
    at = _generate(at, "a recipe to restore")
    original = next(p for p in isolated_studio.rglob("*.png") if ".thumb" not in p.name).read_bytes()
    at.text_area(key="prompt").input("something else").run()
    at.file_uploader(key="reference_uploader_0").set_value([("mine.png", original, "image/png")]).run()
    at.button(key="recipe_restore").click().run()
    assert at.text_area(key="prompt").value == "a recipe to restore"


def _spec(key: str):
    from components import services

    return services.get_catalogue().by_key(key)


def test_the_button_says_what_it_will_do_and_cost(studio_app, emulator) -> None:
    at = studio_app(emulator, model_key="pro", count=4)
    pro = _spec("pro")
    now = f"${pro.estimate_cost('1K', 4):.2f}"
    assert at.button(key="generate").label == f"Generate 4 images · {now}"
    assert now == "$0.54"
    at.segmented_control(key="lane").set_value(LANE_BATCH).run()
    half = f"${pro.estimate_cost('1K', 4) * pro.price_share('batch'):.2f}"
    assert at.button(key="generate").label == f"Generate 4 in a batch · {half} · within 24 h" and half == "$0.27"
    at.segmented_control(key="lane").set_value(LANE_FLEX).run()
    assert at.button(key="generate").label.startswith("Generate 4 on Flex · $")
    at.segmented_control(key="lane").set_value(LANE_NOW).run()
    at.slider(key="count").set_value(1).run()
    assert at.button(key="generate").label == f"Generate 1 image · ${pro.estimate_cost('1K', 1):.2f}"
    assert at.sidebar.metric[0].value == f"${pro.estimate_cost('1K', 1):.3f}", "the sidebar says the same figure"


def test_the_lane_is_a_segmented_control_and_goes_back_to_now_after_sending(studio_app, fresh_emulator) -> None:
    at = studio_app(fresh_emulator(batch_delay_s=0.2), model_key="pro")
    lane = at.segmented_control(key="lane")
    assert list(lane.options) == ["Now", "Batch", "Flex"] and lane.value == LANE_NOW
    lane.set_value(LANE_BATCH).run()
    at = _generate(at, "two lamps in a batch")
    assert not at.exception and not at.error
    assert at.segmented_control(key="lane").value == LANE_NOW, "a batch is chosen per batch"
    assert at.button(key="generate").label.startswith("Generate 1 image · $")


def test_references_are_a_compact_strip_with_suggested_roles(studio_app, emulator) -> None:
    from components.uploader import role_key
    from studio import roles

    at = studio_app(emulator, model_key="pro")
    long_name = "a-very-long-file-name-for-a-reference.png"
    files = [("portrait.png", _png("red"), "image/png"), ("bg-city.png", _png("blue"), "image/png"),
             (long_name, _png("green"), "image/png")]
    at.file_uploader(key="reference_uploader_0").set_value(files).run()
    refs = at.session_state["references"]
    assert [r.role for r in refs] == ["character", "background", "other"], "roles suggested from the names"
    assert not [r for r in at.radio if r.label == "Role"], "a dropdown each, not a five-option radio"
    assert [at.selectbox(key=role_key(i, r)).value for i, r in enumerate(refs)] == ["character", "background",
                                                                                     "other"]
    captions = [c.value for c in at.caption]
    assert "3\\. a\\-very\\-long…\\.png" in captions, "the name is cut with an ellipsis, keeping its type"
    assert not any("file" in c for c in captions)
    limits = roles.limits_text(_spec("pro"))
    assert sum(limits in text for text in drawn(at)) == 1, "the limits are said once"
    assert [b.label for b in at.button if b.key and b.key.startswith("ref_remove_")] == ["✕"] * 3

    at.button(key=f"ref_right_0_{refs[0].sha256[:8]}").click().run()
    assert [r.name for r in at.session_state["references"]] == ["bg-city.png", "portrait.png", long_name]
    moved = at.session_state["references"]
    assert at.selectbox(key=role_key(1, moved[1])).value == "character", "the role moves with its image"
    at.button(key=f"ref_remove_0_{moved[0].sha256[:8]}").click().run()
    assert [r.name for r in at.session_state["references"]] == ["portrait.png", long_name]
    assert at.text_area(key="prompt").value == ""


def test_running_cards_are_placeholders_in_the_target_ratio(studio_app, fresh_emulator) -> None:
    at = studio_app(fresh_emulator(latency_s=30), settled=False, count=2, aspect_ratio="16:9")
    at = _generate(at, "two slow wide lighthouses")
    bodies = [h.proto.body for h in at.get("html") if "studio-placeholder" in h.proto.body and "<div" in h.proto.body]
    assert len(bodies) == 2, "one placeholder per running image"
    assert all("aspect-ratio: 16 / 9" in body for body in bodies), "the grid keeps its shape when images land"
    assert any("Sent to the model" in body or "Waiting in line" in body or "Next in line" in body for body in bodies)
    assert any("data-studio-elapsed=" in body and "\u00a0s</b>" in body for body in bodies), "a live clock, never wrapped"
    for button in [b for b in at.button if b.label == "Cancel job"]:
        button.click().run()


def test_only_the_latest_status_line_stays(studio_app, emulator) -> None:
    at = studio_app(emulator)
    for prompt in ("a first lighthouse", "a second lighthouse", "a third lighthouse"):
        at = _generate(at, prompt)
    lines = [c.value for c in at.caption if "images ready in" in c.value]
    assert len(lines) == 1 and lines[0].startswith("✅ 1 of 1 images ready"), lines
    assert len(at.session_state["session_entry_ids"]) == 3
