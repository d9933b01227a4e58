"""Listing models the way peers pick image models: the SDK pager, page by page and whole."""

from __future__ import annotations

from .conftest import FLASH, FLASH2, PRO


def image_models(client, page_size: int | None = None) -> list[str]:
    config = {"page_size": page_size} if page_size else None
    return [m.name.removeprefix("models/") for m in client.models.list(config=config)
            if "generateContent" in (m.supported_actions or []) and "image" in m.name]


def test_pager_walks_every_page(client) -> None:
    assert image_models(client, page_size=1) == image_models(client, page_size=2) == image_models(client)
    assert set(image_models(client)) == {PRO, FLASH2, FLASH}


def test_explicit_pages(client) -> None:
    pager = client.models.list(config={"page_size": 2})
    first = [m.name for m in pager.page]
    pager.next_page()
    assert len(first) == 2 and [m.name for m in pager.page] == [f"models/{FLASH}"]


def test_get_one_model(client) -> None:
    model = client.models.get(model=PRO)
    assert model.name == f"models/{PRO}" and model.display_name == "Nano Banana Pro"
    assert model.input_token_limit and set(model.supported_actions) == {"generateContent", "countTokens"}
