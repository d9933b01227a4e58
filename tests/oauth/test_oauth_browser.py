"""The real Sign in with Google flow in headless Chromium, with oidc-provider-mock as Google.

Real streamlit-oauth popup, PKCE and state, code exchange, userinfo identity, the emulator checking
the bearer token against the provider's userinfo, refresh before expiry (the provider issues
120-second tokens, inside the 5-minute margin, so every generation renews; the second renewal only
works because the old refresh token is kept), sign-out with revocation, and a forged state refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bench.studio_page import launch_chromium
from bench.studio_process import StudioProcess, free_port
from studio.emulator.server import EmulatorConfig, EmulatorServer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).with_name("harness_app.py")
BUTTON_FRAME = 'iframe[title="streamlit_oauth.authorize_button"]'
ALICE_SUB = "alice-sub-0001"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Any]:
    """Factory: run harness_app.py with an ``[oauth]`` section and env; yields its base URL."""
    started: list[StudioProcess] = []

    def start(oauth_section: dict[str, Any], env: dict[str, str]) -> str:
        lines = ["[oauth]"] + [f'{k} = "{v}"' for k, v in oauth_section.items()]
        secrets = tmp_path / "secrets.toml"
        secrets.write_text("\n".join(lines) + "\n")
        pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
        studio = StudioProcess(free_port(), {**os.environ, "PYTHONPATH": pythonpath, **env},
                               tmp_path / "harness.log", secrets, script=HARNESS, cwd=tmp_path)
        started.append(studio.start())  # moves to a fresh port if the proposed one was taken meanwhile
        return studio.url

    yield start
    for studio in started:
        studio.stop()


@pytest.fixture
def emulator_for(request: pytest.FixtureRequest) -> Iterator[Any]:
    servers: list[EmulatorServer] = []

    def start(userinfo_url: str) -> EmulatorServer:
        server = EmulatorServer(EmulatorConfig(userinfo_url=userinfo_url, userinfo_cache_s=0)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _open(browser: Browser, base_url: str) -> Page:
    page = browser.new_context().new_page()
    page.set_default_timeout(30_000)
    page.goto(base_url)
    page.frame_locator(BUTTON_FRAME).get_by_role("button").wait_for()
    return page


def _sign_in(page: Page, subject: str = ALICE_SUB) -> None:
    with page.expect_popup() as popup_info:
        page.frame_locator(BUTTON_FRAME).get_by_role("button").click()
    popup = popup_info.value
    popup.get_by_role("button", name=subject).click()  # the provider's authorization form


def _emulator_status(emulator: EmulatorServer, token: str) -> int:
    answer = httpx.post(
        f"{emulator.base_url}/v1beta/models/gemini-3-pro-image:generateContent",
        headers={"Authorization": f"Bearer {token}"},
        json={"contents": [{"role": "user", "parts": [{"text": "a pear"}]}]},
        timeout=30,
    )
    return answer.status_code


def test_sign_in_generate_refresh_sign_out(
    browser: Browser, make_provider: Any, short_refreshed_tokens: None, harness: Any, emulator_for: Any
) -> None:
    provider = make_provider(access_token_max_age=timedelta(seconds=120))
    emulator = emulator_for(provider.userinfo_url)
    base_url = harness(provider.oauth_section(), {"STUDIO_GEMINI_BASE_URL": emulator.base_url})
    page = _open(browser, base_url)

    _sign_in(page)
    page.get_by_text("SIGNED IN AS alice@example.com (Alice Example)").wait_for()
    assert provider.pkce_verified()
    authorize = next(c for c in provider.calls if c["path"] == "/oauth2/authorize")
    assert authorize["state"] and authorize["access_type"] == "offline" and authorize["prompt"] == "consent"
    assert authorize["redirect_uri"] == f"{base_url}/component/streamlit_oauth.authorize_button"
    first = provider.issued[0]
    assert first["refresh_token"]

    page.get_by_role("button", name="Generate").click()
    page.get_by_text("GENERATED 1 IMAGE(S), RUN 1").wait_for()
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("GENERATED 1 IMAGE(S), RUN 2").wait_for()
    refreshes = provider.grants("refresh_token")
    assert [c["refresh_token"] for c in refreshes] == [first["refresh_token"]] * 2  # old one kept
    assert all("refresh_token" not in answer for answer in provider.issued[1:])  # as Google does
    current = provider.issued[-1]["access_token"]
    assert _emulator_status(emulator, first["access_token"]) == 401  # replaced tokens are dead
    assert _emulator_status(emulator, current) == 200

    page.get_by_role("button", name="Sign out").click()
    page.frame_locator(BUTTON_FRAME).get_by_role("button").wait_for()
    assert {c["token_type_hint"] for c in provider.revocations()} == {"refresh_token", "access_token"}
    assert httpx.get(provider.userinfo_url, headers={"Authorization": f"Bearer {current}"}).status_code >= 400
    assert _emulator_status(emulator, current) == 401
    assert current not in page.content()


def test_forged_state_is_refused(browser: Browser, provider: Any, harness: Any, emulator_for: Any) -> None:
    emulator = emulator_for(provider.userinfo_url)
    base_url = harness(provider.oauth_section(), {"STUDIO_GEMINI_BASE_URL": emulator.base_url})
    page = _open(browser, base_url)
    redirect = f"{base_url}/component/streamlit_oauth.authorize_button"
    # An attacker's callback: a code and a state this session never issued.
    page.context.route(
        f"{provider.base_url}/oauth2/authorize*",
        lambda route: route.fulfill(status=302, headers={"Location": f"{redirect}?code=forged&state=forged"}),
    )
    with page.expect_popup():
        page.frame_locator(BUTTON_FRAME).get_by_role("button").click()
    page.get_by_text("state check failed").wait_for()
    assert provider.grants("authorization_code") == []  # nothing was exchanged

    page.context.unroute(f"{provider.base_url}/oauth2/authorize*")
    _sign_in(page)  # a fresh button (new key, new state) still works
    page.get_by_text("SIGNED IN AS alice@example.com").wait_for()
