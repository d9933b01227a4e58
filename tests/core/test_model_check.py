"""Model drift: the credential's model list, paged through the real SDK, compared with the catalogue."""

from __future__ import annotations

from studio.catalogue import Catalogue
from studio.credentials import Connection, make_client
from studio.model_check import compare, listed_model_ids
from tests.conftest import TEST_KEY


def test_missing_catalogue_models_and_new_image_models_are_found(fresh_emulator) -> None:
    server = fresh_emulator(extra_models=("gemini-4-pro-image", "gemini-4-text-only"))
    client = make_client(Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url))
    listed = listed_model_ids(client)
    assert "gemini-3-pro-image" in listed and "gemini-4-pro-image" in listed
    renamed = Catalogue.from_config({"pro": "gemini-3-pro-image-retired"})
    check = compare(renamed, listed)
    assert check.missing == ("gemini-3-pro-image-retired",)
    assert check.new_image_models == ("gemini-3-pro-image", "gemini-4-pro-image"), "text models are not offered"
    assert "no longer lists gemini-3-pro-image-retired" in (check.missing_note("gemini-3-pro-image-retired") or "")
    assert check.missing_note("gemini-2.5-flash-image") is None


def test_vertex_lists_publisher_models_and_the_catalogue_is_found_there(fresh_emulator) -> None:
    """Vertex names models ``publishers/google/models/ID``: read as IDs, nothing in the catalogue looks retired."""
    from studio.catalogue import DEFAULT_CATALOGUE
    from tests.conftest import TEST_TOKEN

    server = fresh_emulator(extra_models=("gemini-4-pro-image",))
    client = make_client(Connection(mode="vertex", access_token=TEST_TOKEN, project="p", location="global",
                                    base_url=server.base_url))
    listed = listed_model_ids(client)
    assert "gemini-3-pro-image" in listed and "gemini-4-pro-image" in listed
    check = compare(DEFAULT_CATALOGUE, listed)
    assert check.missing == () and check.new_image_models == ("gemini-4-pro-image",)
    assert server.stats()["requests"]["vertex_listPublisherModels"] == 1
