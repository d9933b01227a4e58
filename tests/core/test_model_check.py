"""Model drift: the credential's model list, paged through the real SDK over HTTP, compared with the registry.

An unknown listed model is offered as custom only when its listing says it makes images, never by its ID.
"""

from __future__ import annotations

from studio.catalogue import DEFAULT_CATALOGUE, Catalogue
from studio.credentials import Connection, make_client
from studio.model_check import ListedModel, compare, listed_model_ids, makes_images
from tests.conftest import TEST_KEY, TEST_TOKEN

NB21, PRO, LITE = "gemini-nano-banana-2.1", "gemini-3-pro-image", "gemini-3.1-flash-lite-image"


def _listed(server) -> list[ListedModel]:
    return listed_model_ids(make_client(Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url)))


def test_a_custom_image_model_is_found_by_its_listing_not_its_name(fresh_emulator) -> None:
    # "canvas" has no "image" in its ID but its listing says it makes images; the captioner's ID says "image"
    # but its listing is a text model's
    server = fresh_emulator(extra_models=("gemini-5-canvas",), extra_text_models=("gemini-4-image-captioner",))
    listed = _listed(server)
    assert {NB21, PRO, LITE, "gemini-5-canvas", "gemini-4-image-captioner", "gemini-3.5-flash"} <= set(listed)
    check = compare(DEFAULT_CATALOGUE, listed)
    assert check.new_image_models == ("gemini-5-canvas",), "found by its listing; text models are not offered"
    assert check.missing == ()
    assert check.missing_note(NB21) is None


def test_the_default_model_is_seen_although_its_id_has_no_image(fresh_emulator) -> None:
    listed = _listed(fresh_emulator())
    nb21 = next(m for m in listed if m == NB21)
    assert nb21.display_name == "Nano Banana 2.1" and "generateContent" in nb21.methods
    assert makes_images(nb21, DEFAULT_CATALOGUE.discovery)
    assert not makes_images(next(m for m in listed if m == "gemini-3.5-flash"), DEFAULT_CATALOGUE.discovery)
    assert not makes_images("gemini-9-pro-image", DEFAULT_CATALOGUE.discovery), "a bare ID is never enough"


def test_a_registry_model_missing_from_the_list_is_reported_with_a_reason(fresh_emulator) -> None:
    server = fresh_emulator(lineup="2025")  # a credential that still sees the 2025 lineup only
    check = compare(DEFAULT_CATALOGUE, _listed(server))
    assert check.missing == (NB21, LITE), "offered models only: retired ones are not reported missing"
    note = check.missing_note(LITE) or ""
    assert "Google no longer lists gemini-3.1-flash-lite-image (Nano Banana 2 Lite)" in note
    assert "Choose Nano Banana 2.1" in note and "Custom model ID" in note
    assert "Choose another model" in (check.missing_note(NB21) or ""), "2.1 is the default: no 2.1 to suggest"
    assert check.new_image_models == (), "Nano Banana 2 and Nano Banana are known to the registry"
    assert check.missing_note(PRO) is None


def test_a_renamed_id_is_reported_missing(fresh_emulator) -> None:
    renamed = Catalogue.from_config({"pro": "gemini-3-pro-image-retired"})
    check = compare(renamed, _listed(fresh_emulator()))
    assert check.missing == ("gemini-3-pro-image-retired",)
    assert "no longer lists gemini-3-pro-image-retired" in (check.missing_note("gemini-3-pro-image-retired") or "")
    assert check.new_image_models == (PRO,), "the old ID is now unknown, and its listing says Image"


def test_vertex_lists_publisher_models_and_the_registry_is_found_there(fresh_emulator) -> None:
    """Vertex names models ``publishers/google/models/ID`` and lists no description: nothing looks missing,
    and an unknown ID is not offered (there is no listing to say it makes images)."""
    server = fresh_emulator(extra_models=("gemini-4-pro-image",))
    client = make_client(Connection(mode="vertex", access_token=TEST_TOKEN, project="p", location="global",
                                    base_url=server.base_url))
    listed = listed_model_ids(client)
    assert NB21 in listed and "gemini-4-pro-image" in listed
    check = compare(DEFAULT_CATALOGUE, listed)
    assert check.missing == () and check.new_image_models == ()
    assert server.stats()["requests"]["vertex_listPublisherModels"] == 1
