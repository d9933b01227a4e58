"""The Generate page against the emulator: validation, results, failures in place, nothing lost."""

from __future__ import annotations

import io

from PIL import Image

from studio.images import read_recipe


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
