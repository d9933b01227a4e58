"""Listing models the way peers pick image models: the SDK pager, page by page and whole.

Peers that pick image models by "image" in the ID miss Nano Banana 2.1 (its ID has none); the studio reads
the listing instead (studio.model_check.makes_images), and finds all three.
"""

from __future__ import annotations

from studio.catalogue import DEFAULT_CATALOGUE
from studio.model_check import listed_model_ids, makes_images

from .conftest import FLASH, FLASH2, LITE, NB21, PRO


def image_models(client, page_size: int | None = None) -> list[str]:
    config = {"page_size": page_size} if page_size else None
    return [m.name.removeprefix("models/") for m in client.models.list(config=config)
            if "generateContent" in (m.supported_actions or []) and "image" in m.name]


def test_pager_walks_every_page(client, legacy_client) -> None:
    assert image_models(client, page_size=1) == image_models(client, page_size=2) == image_models(client)
    assert set(image_models(client)) == {PRO, LITE}, "a name-based peer misses 2.1"
    assert set(image_models(legacy_client)) == {PRO, FLASH2, FLASH}
    found = {str(m) for m in listed_model_ids(client) if makes_images(m, DEFAULT_CATALOGUE.discovery)}
    assert found == {NB21, PRO, LITE}, "the listing, not the ID, says which models make images"


def test_explicit_pages(client) -> None:
    pager = client.models.list(config={"page_size": 2})
    first = [m.name for m in pager.page]
    pager.next_page()
    assert first == [f"models/{NB21}", f"models/{PRO}"] and next(m.name for m in pager.page) == f"models/{LITE}"


def test_get_one_model(client) -> None:
    model = client.models.get(model=PRO)
    assert model.name == f"models/{PRO}" and model.display_name == "Nano Banana Pro"
    assert model.input_token_limit and set(model.supported_actions) == {"generateContent", "countTokens"}
