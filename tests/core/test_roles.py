"""Reference roles: the preamble the studio writes, and the per-model limits it enforces in plain words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from studio import roles
from studio.catalogue import FLASH, FLASH2, PRO, custom_model
from studio.engine import build_config, build_contents, request_json
from studio.recipes import request_from_recipe
from studio.request import GenerationRequest, ReferenceImage, ValidationError, problems_with, validate


def _refs(*tags: str) -> tuple[ReferenceImage, ...]:
    return tuple(ReferenceImage(name=f"r{i}.png", data=bytes([i]) * 8, mime_type="image/png", role=tag)
                 for i, tag in enumerate(tags))


def _request(*tags: str, model: str = PRO.model_id) -> GenerationRequest:
    return GenerationRequest(prompt="a picnic", model_id=model, references=_refs(*tags))


def test_the_preamble_names_each_image_in_the_order_sent() -> None:
    text = roles.preamble(["character", "object", "style", "background", "other"])
    assert text.startswith("Image 1 is a character")
    for number, word in ((2, "is an object"), (3, "is the style reference"), (4, "is the background"),
                         (5, "is another reference")):
        assert f"Image {number} {word}" in text
    assert text.index("Image 1") < text.index("Image 2") < text.index("Image 5")


def test_untagged_references_send_no_preamble_so_old_recipes_ask_as_before() -> None:
    assert roles.preamble([]) == roles.preamble(["other", "other"]) == ""
    request = GenerationRequest(prompt="a picnic", model_id=PRO.model_id,
                                references=(ReferenceImage(name="a.png", data=b"x", mime_type="image/png"),))
    assert request.references[0].role == "other"
    assert build_contents(request)[0] == "a picnic" and len(build_contents(request)) == 2
    sent = request_json(request, build_config(request, PRO, None, vertex=False), PRO.model_id)
    assert [p.get("text") for p in sent["contents"][0]["parts"]] == ["a picnic", None]


def test_tagged_references_send_the_preamble_after_the_prompt_and_before_the_images() -> None:
    request = _request("character", "style")
    contents = build_contents(request)
    assert contents[0] == "a picnic"
    assert contents[1] == "Image 1 is a character: keep their face, build and clothing the same. " \
                          "Image 2 is the style reference: match its look, palette and technique, not its content."
    assert len(contents) == 4
    parts = request_json(request, build_config(request, PRO, None, vertex=False), PRO.model_id)["contents"][0]["parts"]
    assert parts[1]["text"] == contents[1] and "inlineData" in parts[2]


def test_unknown_roles_read_as_other() -> None:
    assert roles.normalized("Character ") == "character"
    assert roles.normalized("villain") == roles.normalized(None) == "other"


@pytest.mark.parametrize(("spec", "characters", "objects"), [(PRO, 5, 6), (FLASH2, 4, 10)])
def test_limits_on_characters_and_objects(spec, characters: int, objects: int) -> None:
    assert roles.problems(["character"] * characters + ["object"] * objects, spec) == []
    too_many_people = roles.problems(["character"] * (characters + 1), spec)
    assert too_many_people == [f"{spec.label} keeps at most {characters} characters consistent; you tagged "
                               f"{characters + 1}. Tag the others as another role, or remove them."]
    too_many_things = roles.problems(["object"] * (objects + 1), spec)
    assert too_many_things[0].startswith(f"{spec.label} keeps at most {objects} objects faithful; "
                                         f"you tagged {objects + 1}.")
    assert f"up to {characters} characters and {objects} objects" in roles.limits_text(spec)


def test_nano_banana_keeps_three_character_or_object_images() -> None:
    assert roles.problems(["character", "object", "object", "style", "background"], FLASH) == []
    found = roles.problems(["character", "character", "object", "object"], FLASH)
    assert found == ["Nano Banana keeps at most 3 images tagged character or object; you tagged 4. "
                     "Tag fewer, or choose another model (each model's limits show beside the picker)."]
    assert "up to 3 images" in roles.limits_text(FLASH)


def test_validation_refuses_too_many_characters_before_anything_is_sent() -> None:
    with pytest.raises(ValidationError) as caught:
        validate(_request(*["character"] * 5, model=FLASH2.model_id))
    assert caught.value.problems == ["Nano Banana 2 keeps at most 4 characters consistent; you tagged 5. "
                                     "Tag the others as another role, or remove them."]
    assert problems_with(_request(*["character"] * 5)) == [], "Pro keeps five"


def test_grounding_needs_a_model_that_searches() -> None:
    assert PRO.supports_search and FLASH2.supports_search and not FLASH.supports_search
    assert not custom_model("gemini-9-image").supports_search
    assert problems_with(replace(_request(), grounding=True)) == []
    assert problems_with(replace(_request(model=FLASH.model_id), grounding=True)) == [
        "Nano Banana cannot search Google: turn off Grounding with Google Search, or choose a model that can "
        "search."]


def test_grounding_goes_out_as_the_google_search_tool() -> None:
    request = replace(_request(), grounding=True)
    config = build_config(request, PRO, None, vertex=False)
    assert config.tools and config.tools[0].google_search is not None
    sent = request_json(request, config, PRO.model_id)
    assert sent["tools"] == [{"googleSearch": {}}] and "tools" not in sent["generationConfig"]
    assert not build_config(_request(), PRO, None, vertex=False).tools


def test_roles_and_grounding_are_part_of_the_recipe() -> None:
    request = replace(_request("character", "background"), grounding=True)
    recipe = request.recipe()
    assert recipe["reference_roles"] == ["character", "background"] and recipe["grounding"] is True
    again = request_from_recipe(recipe, request.references)
    assert again.grounding and again.preamble() == request.preamble()
    assert not request_from_recipe({"prompt": "old", "model": PRO.model_id}).grounding, "old recipes: off"
