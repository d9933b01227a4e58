"""A recipe: the settings that remake an image, in one shape wherever it comes from.

A file's embedded recipe, a History entry and the detail view all restore through this one shape,
so "Reuse settings", "Re-run", "Retry" and dropping a studio image back in agree on every field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from studio.history import Entry
from studio.request import GenerationRequest, ReferenceImage

SETTINGS = ("aspect_ratio", "image_size", "output_format", "jpeg_quality", "count", "seed", "temperature",
            "system_instruction", "include_thoughts", "grounding", "thinking_level", "image_search")


def entry_recipe(entry: Entry) -> dict[str, Any]:
    """The recipe of one recorded image: its own seed (image i of a seeded batch used seed + i)."""
    recipe: dict[str, Any] = {key: entry.settings.get(key) for key in SETTINGS}
    recipe.update(prompt=entry.prompt, model=entry.model_id, aspect_ratio=entry.aspect_ratio,
                  image_size=entry.image_size, output_format=entry.output_format,
                  grounding=bool(entry.settings.get("grounding")),  # entries from before grounding: off
                  lane=str(entry.settings.get("lane") or "now"))  # recorded, shown; a re-run is sent Now
    if isinstance(entry.settings.get("region"), dict):  # a region edit: threads.region_of rebuilds it with the mask
        recipe["region"] = dict(entry.settings["region"])
    return recipe


def request_from_recipe(recipe: Mapping[str, Any], references: Sequence[ReferenceImage] = (),
                        count: int | None = None) -> GenerationRequest:
    """The request that remakes a recipe (``count=1`` to remake one image exactly).

    The references carry their roles (History keeps them per reference), so a re-run sends the same preamble.
    A batch's stored recipe of a set of prompts (one per image) keeps them when all its images are remade;
    one image remade alone (``count=1``) takes its own entry's recipe, whose prompt is its own.
    """
    listed = recipe.get("prompts")
    prompts = tuple(str(text) for text in listed) if isinstance(listed, list) else ()
    if count is None and prompts:
        count = len(prompts)
    if prompts and count != len(prompts):
        prompts = ()
    seed = recipe.get("seed")
    temperature = recipe.get("temperature")
    return GenerationRequest(
        prompt=str(recipe.get("prompt") or ""), model_id=str(recipe.get("model") or ""),
        aspect_ratio=str(recipe.get("aspect_ratio") or "1:1"), image_size=str(recipe.get("image_size") or "1K"),
        output_format=str(recipe.get("output_format") or "PNG"), jpeg_quality=int(recipe.get("jpeg_quality") or 90),
        count=int(count if count is not None else recipe.get("count") or 1), references=tuple(references),
        seed=None if seed is None else int(seed), temperature=None if temperature is None else float(temperature),
        system_instruction=recipe.get("system_instruction") or None,
        include_thoughts=bool(recipe.get("include_thoughts")), grounding=bool(recipe.get("grounding")),
        thinking_level=str(recipe["thinking_level"]) if recipe.get("thinking_level") else None,
        image_search=bool(recipe.get("image_search")), prompts=prompts)
