"""Vertex AI mode in the real studio, in Chromium: sign in with Google (oidc-provider-mock stands in for Google,
through streamlit-oauth's real popup), choose Vertex AI with a project and location, generate a 1K JPEG.

The studio's Vertex endpoint is a test emulator (STUDIO_VERTEX_BASE_URL) that accepts the provider's tokens
through its userinfo check, so the test can see the request arrived on the Vertex path, with the project and
location the person typed, and that the downloaded file is the server's JPEG with the recipe added.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import oidc_provider_mock
import pytest
from oidc_provider_mock import User
from PIL import Image
from playwright.sync_api import Page, expect

from bench.studio_page import download_from_first_card, generate
from bench.studio_process import StudioProcess
from studio.emulator.server import EmulatorServer
from studio.images import read_recipe
from studio.request import GenerationRequest
from tests.conftest import TEST_TOKEN
from tests.core.test_engine_vertex import jpeg_without_app_segments, server_image

from .conftest import wait_for_app_run

pytestmark = pytest.mark.browser
ALICE = User(sub="alice-sub-vertex", claims={"email": "alice@example.com", "name": "Alice Example"})
BUTTON_FRAME = 'iframe[title="streamlit_oauth.authorize_button"]'
PROJECT, LOCATION = "alice-vertex-project", "us-central1"
LANDED_MS = 60_000


@pytest.fixture
def provider_url() -> Iterator[str]:
    """A real OIDC provider on loopback; any client id and secret are accepted."""
    with oidc_provider_mock.run_server_in_thread(user_claims=[ALICE]) as server:
        yield f"http://localhost:{server.server_port}"


def oauth_secrets(provider: str) -> str:
    section = {"client_id": "studio-test-client", "client_secret": "studio-test-secret",
               "authorize_url": f"{provider}/oauth2/authorize", "token_url": f"{provider}/oauth2/token",
               "userinfo_url": f"{provider}/userinfo"}
    return "[oauth]\n" + "".join(f'{key} = "{value}"\n' for key, value in section.items())


def sign_in(page: Page) -> None:
    with page.expect_popup() as popup_info:
        page.frame_locator(BUTTON_FRAME).get_by_role("button").click()
    popup_info.value.get_by_role("button", name=ALICE.sub).click()  # the provider's consent form
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=LANDED_MS)
    wait_for_app_run(page)


def use_vertex(page: Page) -> None:
    page.get_by_role("link", name="Account").click()
    wait_for_app_run(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Vertex AI", exact=True).click()  # the expander
    main.get_by_label("Vertex AI project id", exact=True).fill(PROJECT)
    main.get_by_label("Vertex AI project id", exact=True).press("Enter")
    wait_for_app_run(page)
    main.get_by_label("Vertex AI location", exact=True).fill(LOCATION)
    main.get_by_label("Vertex AI location", exact=True).press("Enter")
    wait_for_app_run(page)
    main.get_by_role("button", name="Use Vertex AI").click()
    expect(main.get_by_text(f"Vertex AI project: {PROJECT} in {LOCATION}")).to_be_visible(timeout=LANDED_MS)
    wait_for_app_run(page)


def test_vertex_mode_generates_a_server_encoded_jpeg(
        start_studio: Callable[..., StudioProcess], fresh_emulator: Callable[..., EmulatorServer], page: Page,
        provider_url: str) -> None:
    emulator = fresh_emulator(userinfo_url=f"{provider_url}/userinfo", api_keys=frozenset())  # + test-token
    studio = start_studio(env={"STUDIO_VERTEX_BASE_URL": emulator.base_url}, secrets_toml=oauth_secrets(provider_url))
    page.set_default_timeout(30_000)
    page.goto(studio.url)
    wait_for_app_run(page)
    sign_in(page)
    use_vertex(page)

    page.get_by_role("link", name="Generate").click()
    wait_for_app_run(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("1K", exact=True).click()
    wait_for_app_run(page)
    sidebar.get_by_text("JPEG", exact=True).click()
    expect(sidebar.get_by_role("slider", name="JPEG quality")).to_be_visible()
    wait_for_app_run(page)
    generate(page, "a pear on a windowsill, through Vertex AI")
    expect(page.get_by_text("1 of 1 images ready")).to_be_visible(timeout=LANDED_MS)
    wait_for_app_run(page)

    requests = emulator.stats()["requests"]
    vertex_calls = requests.get("vertex_generateContent", 0) + requests.get("vertex_streamGenerateContent", 0)
    assert vertex_calls == 1 and requests[f"vertex {PROJECT}/{LOCATION}"] == 1
    assert requests.get("ok") == 1  # the one call on the Vertex path is the only generate call that succeeded

    data, _ = download_from_first_card(page)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (1024, 1024)
    recipe = read_recipe(data)
    assert recipe["prompt"] == "a pear on a windowsill, through Vertex AI"
    # the emulator draws the same bytes for the same request: ask it again with the recipe's seed and quality
    request = GenerationRequest(prompt=recipe["prompt"], model_id=recipe["model"], aspect_ratio=recipe["aspect_ratio"],
                                image_size=recipe["image_size"], output_format="JPEG",
                                jpeg_quality=recipe["jpeg_quality"], seed=recipe["seed"])
    sent = server_image(emulator, request, token=TEST_TOKEN)
    assert jpeg_without_app_segments(data) == jpeg_without_app_segments(sent)  # the server's JPEG, not re-encoded
