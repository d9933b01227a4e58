"""One client factory for key, OAuth bearer, Vertex and offline; secrets stay out of sight."""

from __future__ import annotations

import httpx
import pytest

from studio.credentials import Connection, _BearerAuth, check_connection, make_client, normalize_api_key
from studio.results import FailureKind

TOKEN = "test-token"  # the session emulator's bearer token (tests/conftest.py)


def test_repr_and_str_hide_secrets() -> None:
    conn = Connection(mode="oauth", api_key="AIzaSECRETKEY1234567890", access_token="ya29.SECRET-TOKEN",
                      email="a@example.com", subject="42", quota_project="proj-1")
    for shown in (repr(conn), str(conn), f"{conn}"):
        assert "SECRET" not in shown
        assert "a@example.com" in shown
    assert set(conn.secrets()) == {"AIzaSECRETKEY1234567890", "ya29.SECRET-TOKEN"}
    assert Connection(mode="vertex", project="p", location="global").vertex_project == "p"


def test_normalize_api_key() -> None:
    assert normalize_api_key("AIzaABC") == ("AIzaABC", [])
    key, notes = normalize_api_key("  AIzaABC\n")
    assert key == "AIzaABC" and "were removed" in notes[0]
    for empty in ("", "   ", None):
        with pytest.raises(ValueError, match="empty"):
            normalize_api_key(empty)
    with pytest.raises(ValueError, match="spaces in the middle"):
        normalize_api_key("AIza ABC")
    with pytest.raises(ValueError, match="curly quotes"):
        normalize_api_key("\u201cAIzaABC\u201d")


def test_bearer_auth_swaps_key_for_token_and_sets_quota_project() -> None:
    request = httpx.Request("POST", "http://x/v1beta/models", headers={"x-goog-api-key": "placeholder"})
    sent = next(_BearerAuth(lambda: "tok", "billing-proj").auth_flow(request))
    assert "x-goog-api-key" not in sent.headers
    assert sent.headers["authorization"] == "Bearer tok"
    assert sent.headers["x-goog-user-project"] == "billing-proj"
    plain = next(_BearerAuth(lambda: "tok", None).auth_flow(httpx.Request("GET", "http://x/")))
    assert "x-goog-user-project" not in plain.headers


def test_api_key_mode_checks_against_the_emulator(emulator) -> None:
    good = Connection(mode="api_key", api_key="test-key", base_url=emulator.base_url)
    assert check_connection(make_client(good), good.secrets()) is None
    bad = Connection(mode="api_key", api_key="AIzaWRONGWRONGWRONGWRONGWRONG1", base_url=emulator.base_url)
    failure = check_connection(make_client(bad), bad.secrets())
    assert failure is not None and failure.kind is FailureKind.INVALID_API_KEY
    assert "AIzaWRONG" not in failure.message + failure.detail


def test_oauth_mode_sends_bearer_and_no_api_key(emulator) -> None:
    # The emulator answers 400 "different projects" when a key and a token arrive together.
    conn = Connection(mode="oauth", access_token=TOKEN, quota_project="my-project", base_url=emulator.base_url)
    assert check_connection(make_client(conn), conn.secrets()) is None
    expired = Connection(mode="oauth", access_token="expired-token", base_url=emulator.base_url)
    failure = check_connection(make_client(expired), expired.secrets())
    assert failure is not None and failure.kind is FailureKind.TOKEN_EXPIRED
    assert "expired-token" not in failure.message + failure.detail


def test_offline_mode_uses_the_emulator_key(fresh_emulator) -> None:
    server = fresh_emulator(api_keys=frozenset({"emulator-key"}))
    conn = Connection(mode="offline", base_url=server.base_url)
    assert check_connection(make_client(conn)) is None
    with pytest.raises(ValueError, match="emulator"):
        make_client(Connection(mode="offline"))


def test_vertex_mode_builds_a_vertex_client() -> None:
    conn = Connection(mode="vertex", access_token="ya29.vertex", project="my-proj", location="us-central1",
                      quota_project="billing")
    client = make_client(conn)
    assert client.vertexai
    assert client._api_client.project == "my-proj" and client._api_client.location == "us-central1"


def test_refusals() -> None:
    with pytest.raises(ValueError, match="no API key"):
        make_client(Connection(mode="api_key"))
    with pytest.raises(ValueError, match="access token"):
        make_client(Connection(mode="oauth"))
    with pytest.raises(ValueError, match="unknown connection mode"):
        make_client(Connection(mode="carrier-pigeon"))


def test_check_connection_when_nothing_listens(fresh_emulator) -> None:
    server = fresh_emulator()
    url = server.base_url
    server.stop()
    conn = Connection(mode="api_key", api_key="test-key", base_url=url)
    failure = check_connection(make_client(conn, timeout_s=5))
    assert failure is not None and failure.kind is FailureKind.NETWORK
