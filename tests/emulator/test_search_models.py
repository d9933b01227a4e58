"""Which models search: the emulator and the catalogue agree (Pro and Nano Banana 2 ground, Nano Banana refuses)."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from studio.catalogue import BUILTIN

from .conftest import image_config


@pytest.mark.parametrize("spec", BUILTIN, ids=lambda s: s.key)
def test_the_emulator_grounds_exactly_the_models_the_catalogue_says(sdk, spec) -> None:
    config = image_config("1:1", None, tools=[types.Tool(google_search=types.GoogleSearch())])
    if spec.supports_search:
        answer = sdk.models.generate_content(model=spec.model_id, contents="today's headline", config=config)
        assert answer.candidates[0].grounding_metadata.search_entry_point.rendered_content
    else:
        with pytest.raises(errors.ClientError) as caught:
            sdk.models.generate_content(model=spec.model_id, contents="today's headline", config=config)
        assert caught.value.code == 400 and caught.value.message == "Search Grounding is not supported."
    assert [s.key for s in BUILTIN if s.supports_search] == ["pro", "flash2"]
