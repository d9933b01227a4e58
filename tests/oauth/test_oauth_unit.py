"""studio/oauth.py: config parsing, expiry maths, refresh keeping the refresh token, identity, revoke."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from studio import oauth
from studio.oauth import ConfigError, OAuthConfig, SignInRequired

# --- config ---------------------------------------------------------------------------------


def test_not_configured_without_client_id() -> None:
    assert oauth.load_config(None, env={}) is None
    assert oauth.load_config({}, env={}) is None
    assert oauth.load_config({"client_id": "  "}, env={}) is None


def test_google_defaults() -> None:
    config = oauth.load_config({"client_id": "id", "client_secret": "sec"}, env={})
    assert config is not None
    assert config.authorize_url == oauth.GOOGLE_AUTHORIZE_URL
    assert config.token_url == config.refresh_url == oauth.GOOGLE_TOKEN_URL
    assert config.revoke_url == oauth.GOOGLE_REVOKE_URL
    assert config.userinfo_url == oauth.GOOGLE_USERINFO_URL
    assert config.scopes == oauth.DEFAULT_SCOPES
    assert config.scope.split() == [
        "openid", "email", "profile",
        "https://www.googleapis.com/auth/cloud-platform",
        "https://www.googleapis.com/auth/generative-language.retriever",
    ]
    assert config.redirect_uri is None and config.gemini_base_url is None
    assert config.allows_vertex


def test_secret_never_in_repr() -> None:
    config = oauth.load_config({"client_id": "id", "client_secret": "very-secret-value"}, env={})
    assert "very-secret-value" not in repr(config)


def test_missing_secret_is_an_error() -> None:
    with pytest.raises(ConfigError, match="client_secret"):
        oauth.load_config({"client_id": "id"}, env={})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["openid", "email"], ("openid", "email")),
        ("openid email  profile", ("openid", "email", "profile")),
        ("openid,email,openid", ("openid", "email")),
        ("", oauth.DEFAULT_SCOPES),
        (None, oauth.DEFAULT_SCOPES),
    ],
)
def test_scopes_configurable(value: Any, expected: tuple[str, ...]) -> None:
    assert oauth.parse_scopes(value) == expected


def test_scopes_of_wrong_type() -> None:
    with pytest.raises(ConfigError):
        oauth.parse_scopes(42)


def test_custom_endpoints_and_base_url() -> None:
    section = {
        "client_id": "id", "client_secret": "s", "redirect_uri": "http://localhost:8501/component/x",
        "authorize_url": "http://idp/auth", "token_url": "http://idp/token", "userinfo_url": "http://idp/me",
        "scopes": ["openid", "email"], "gemini_base_url": "http://127.0.0.1:9999",
    }
    config = oauth.load_config(section, env={"STUDIO_GEMINI_BASE_URL": "http://ignored"})
    assert config is not None
    assert config.refresh_url == "http://idp/token"  # defaults to the token endpoint
    assert config.revoke_url is None  # Google's revoke URL is not assumed for another provider
    assert config.gemini_base_url == "http://127.0.0.1:9999"
    assert not config.allows_vertex


def test_base_url_from_env() -> None:
    config = oauth.load_config({"client_id": "id", "client_secret": "s"}, env={"STUDIO_GEMINI_BASE_URL": "http://e"})
    assert config is not None and config.gemini_base_url == "http://e"


def test_vertex_base_url_from_section_or_env() -> None:
    section = {"client_id": "id", "client_secret": "s", "vertex_base_url": "http://127.0.0.1:7777"}
    config = oauth.load_config(section, env={"STUDIO_VERTEX_BASE_URL": "http://ignored"})
    assert config is not None and config.vertex_base_url == "http://127.0.0.1:7777"
    config = oauth.load_config({"client_id": "id", "client_secret": "s"},
                               env={"STUDIO_VERTEX_BASE_URL": "http://v", "STUDIO_GEMINI_BASE_URL": "http://g"})
    assert config is not None and (config.vertex_base_url, config.gemini_base_url) == ("http://v", "http://g")
    config = oauth.load_config({"client_id": "id", "client_secret": "s"}, env={})
    assert config is not None and config.vertex_base_url is None  # Google's (or the SDK's GOOGLE_VERTEX_BASE_URL)


def test_bad_url_rejected() -> None:
    with pytest.raises(ConfigError, match="token_url"):
        oauth.load_config({"client_id": "id", "client_secret": "s", "token_url": "ftp://x"}, env={})


def test_redirect_uri_from_app_url() -> None:
    assert oauth.redirect_uri_for("https://app.streamlit.app/account?x=1") == (
        "https://app.streamlit.app/component/streamlit_oauth.authorize_button"
    )


# --- expiry maths ----------------------------------------------------------------------------


def test_expiry_maths() -> None:
    now = 1_000_000.0
    assert oauth.seconds_left({"expires_at": now + 600}, now) == 600
    assert not oauth.needs_refresh({"expires_at": now + 301}, now)
    assert oauth.needs_refresh({"expires_at": now + 300}, now)  # within 5 minutes
    assert oauth.needs_refresh({"expires_at": now - 5}, now)  # already expired
    assert not oauth.needs_refresh({}, now)  # unknown expiry: let the API decide
    assert oauth.seconds_left({"expires_at": "junk"}, now) is None


def test_merge_keeps_old_refresh_token() -> None:
    old = {"access_token": "a1", "refresh_token": "r1", "expires_at": 1, "scope": "openid email"}
    merged = oauth.merge_refreshed(old, {"access_token": "a2", "expires_in": 3600, "token_type": "Bearer"}, now=100)
    assert merged["access_token"] == "a2"
    assert merged["refresh_token"] == "r1"
    assert merged["expires_at"] == 3700
    assert merged["scope"] == "openid email"


def test_merge_takes_rotated_refresh_token() -> None:
    merged = oauth.merge_refreshed({"refresh_token": "r1"}, {"access_token": "a2", "refresh_token": "r2"}, now=0)
    assert merged["refresh_token"] == "r2"


# --- against a real OIDC provider -------------------------------------------------------------


def _config(provider: Any, **extra: Any) -> OAuthConfig:
    config = oauth.load_config(provider.oauth_section(**extra), env={})
    assert config is not None
    return config


def test_identity_from_userinfo(provider: Any) -> None:
    token = provider.obtain_token()
    identity = oauth.fetch_identity(_config(provider), token["access_token"])
    assert identity == oauth.Identity(
        subject="alice-sub-0001", email="alice@example.com", name="Alice Example",
        picture="https://example.com/alice.png",
    )


def test_identity_refused_for_unknown_token(provider: Any) -> None:
    with pytest.raises(SignInRequired):
        oauth.fetch_identity(_config(provider), "not-a-token")


def test_refresh_twice_keeps_refresh_token(provider: Any) -> None:
    token = provider.obtain_token()
    first_refresh = token["refresh_token"]
    config = _config(provider)
    second = oauth.refresh(config, token)
    assert second["access_token"] != token["access_token"]
    assert second["refresh_token"] == first_refresh  # the answer carried none; the old one is kept
    third = oauth.refresh(config, second)  # fails with streamlit-oauth 0.1.14's own refresh
    assert third["refresh_token"] == first_refresh
    assert third["expires_at"] > time.time()
    assert [c["refresh_token"] for c in provider.grants("refresh_token")] == [first_refresh, first_refresh]
    assert all("refresh_token" not in c for c in provider.grants("authorization_code"))  # never logged wrongly
    assert oauth.fetch_identity(config, third["access_token"]).subject == "alice-sub-0001"
    with pytest.raises(SignInRequired):  # the provider retires the replaced access token
        oauth.fetch_identity(config, token["access_token"])


def test_refresh_without_refresh_token_asks_to_sign_in(provider: Any) -> None:
    with pytest.raises(SignInRequired):
        oauth.refresh(_config(provider), {"access_token": "x", "expires_at": 0})


def test_refresh_refused_asks_to_sign_in(provider: Any) -> None:
    with pytest.raises(SignInRequired):
        oauth.refresh(_config(provider), {"access_token": "x", "refresh_token": "bogus"})


def test_short_lived_tokens(make_provider: Any) -> None:
    provider = make_provider(access_token_max_age=timedelta(seconds=60))
    token = provider.obtain_token()
    assert oauth.needs_refresh(oauth.merge_refreshed({}, token))


def test_revoke_ends_the_grant(provider: Any) -> None:
    token = provider.obtain_token()
    config = _config(provider)
    assert oauth.revoke(config, token)
    with pytest.raises(SignInRequired):
        oauth.fetch_identity(config, token["access_token"])
    with pytest.raises(SignInRequired):
        oauth.refresh(config, token)
    assert {c["token_type_hint"] for c in provider.revocations()} == {"refresh_token", "access_token"}


def test_revoke_unreachable_is_quiet() -> None:
    config = OAuthConfig(client_id="i", client_secret="s", revoke_url="http://127.0.0.1:9/revoke")
    assert oauth.revoke(config, {"access_token": "a"}) is False
    assert oauth.revoke(OAuthConfig(client_id="i", client_secret="s", revoke_url=None), {"access_token": "a"}) is False


def test_unreachable_provider_is_not_sign_in_required() -> None:
    config = OAuthConfig(client_id="i", client_secret="s", refresh_url="http://127.0.0.1:9/token")
    with pytest.raises(oauth.OAuthError) as info:
        oauth.refresh(config, {"refresh_token": "r"}, http=httpx.Client(timeout=2))
    assert not isinstance(info.value, SignInRequired)


# --- billing ---------------------------------------------------------------------------------


def test_no_quota_explanation() -> None:
    detail = "429 RESOURCE_EXHAUSTED. Quota exceeded for metric: generate_content_free_tier_requests, limit: 0, model: gemini-3-pro-image"
    text = oauth.no_quota_explanation(detail, "my-proj")
    assert text is not None and "my-proj" in text and "billing" in text
    assert "no quota project set" in (oauth.no_quota_explanation(detail, None) or "")
    assert oauth.no_quota_explanation("429 RESOURCE_EXHAUSTED limit: 10", "p") is None
