"""Which models search: the emulator and the registry agree, for web search and for image search."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from studio.catalogue import BUILTIN

from .conftest import image_config

IMAGE_SEARCH = types.Tool(google_search=types.GoogleSearch(search_types=types.SearchTypes(
    image_search=types.ImageSearch())))
WEB_AND_IMAGE = types.Tool(google_search=types.GoogleSearch(search_types=types.SearchTypes(
    web_search=types.WebSearch(), image_search=types.ImageSearch())))


def _client(spec, sdk, legacy):
    return sdk if spec.offered else legacy  # retired models answer only on the 2025 lineup


@pytest.mark.parametrize("spec", BUILTIN, ids=lambda s: s.key)
def test_the_emulator_grounds_exactly_the_models_the_registry_says(sdk, legacy, spec) -> None:
    client = _client(spec, sdk, legacy)
    config = image_config("1:1", None, tools=[types.Tool(google_search=types.GoogleSearch())])
    if "web_search" in spec.grounding:
        answer = client.models.generate_content(model=spec.model_id, contents="today's headline", config=config)
        assert answer.candidates[0].grounding_metadata.search_entry_point.rendered_content
    else:
        with pytest.raises(errors.ClientError) as caught:
            client.models.generate_content(model=spec.model_id, contents="today's headline", config=config)
        assert caught.value.code == 400 and caught.value.message == "Search Grounding is not supported."
    assert [s.key for s in BUILTIN if s.supports_search] == ["nb21", "pro", "flash2"]


@pytest.mark.parametrize("spec", BUILTIN, ids=lambda s: s.key)
def test_image_search_only_where_the_registry_has_it(sdk, legacy, spec) -> None:
    client = _client(spec, sdk, legacy)
    config = image_config("1:1", None, tools=[IMAGE_SEARCH])
    if "image_search" in spec.grounding:
        answer = client.models.generate_content(model=spec.model_id, contents="the new bridge", config=config)
        meta = answer.candidates[0].grounding_metadata
        images = [c.image for c in meta.grounding_chunks if c.image]
        assert images and all(i.source_uri and i.image_uri and i.title for i in images)
        assert meta.image_search_queries and not meta.web_search_queries, "image search only: no web queries"
        assert not [c.web for c in meta.grounding_chunks if c.web]
    else:
        with pytest.raises(errors.ClientError) as caught:
            client.models.generate_content(model=spec.model_id, contents="the new bridge", config=config)
        assert caught.value.code == 400 and "Image Search grounding is not supported" in caught.value.message
    assert [s.key for s in BUILTIN if "image_search" in s.grounding] == ["nb21", "flash2"]


def test_web_and_image_search_together_bring_both_kinds_of_sources(sdk) -> None:
    answer = sdk.models.generate_content(model="gemini-nano-banana-2.1", contents="the comet tonight",
                                         config=image_config("16:9", "1K", tools=[WEB_AND_IMAGE]))
    meta = answer.candidates[0].grounding_metadata
    assert [c.web for c in meta.grounding_chunks if c.web] and [c.image for c in meta.grounding_chunks if c.image]
    assert meta.web_search_queries and meta.image_search_queries
    assert answer.usage_metadata.tool_use_prompt_token_count


def test_search_types_are_checked_strictly(emulator) -> None:
    import httpx

    from .conftest import KEY, body
    payload = {**body("x"), "tools": [{"googleSearch": {"searchTypes": {"videoSearch": {}}}}]}
    answer = httpx.post(f"{emulator.base_url}/v1beta/models/gemini-nano-banana-2.1:generateContent", json=payload,
                        headers={"x-goog-api-key": KEY})
    assert answer.status_code == 400
    assert 'Unknown name "videoSearch" at \'tools[0].google_search.search_types\'' in answer.json()["error"]["message"]
