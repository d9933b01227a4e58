"""One client factory for key, OAuth bearer, Vertex and offline; secrets stay out of sight."""

from __future__ import annotations

import httpx
import pytest

from studio.credentials import (
    Connection,
    _BearerAuth,
    back_to_google,
    check_connection,
    make_client,
    normalize_api_key,
    with_server_key,
)
from studio.history import namespace_for
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


def test_the_server_key_keeps_a_google_identity(tmp_path) -> None:
    """History and the team check follow the Google subject; the key is the server's, hidden, and redacted."""
    google = Connection(mode="oauth", access_token="ya29.SECRET-TOKEN", subject="108-ann", email="ann@example.com",
                        name="Ann", quota_project="ann-project")
    server = with_server_key(google, "AIzaOWNERSECRETKEY", email="ann@example.com", email_verified=True,
                             base_url="http://127.0.0.1:9")
    assert (server.mode, server.server_key, server.api_key, server.access_token) == (
        "api_key", True, "AIzaOWNERSECRETKEY", None)
    assert (server.subject, server.email, server.email_verified, server.name) == ("108-ann", "ann@example.com", True,
                                                                                  "Ann")
    assert server.google_subject == "108-ann" and server.label == "Key configured on this server"
    assert namespace_for(server, tmp_path) == namespace_for(google, tmp_path) == "google:108-ann"
    assert "SECRET" not in repr(server) and server.secrets() == ("AIzaOWNERSECRETKEY",), "redacted like any key"
    assert make_client(server)._api_client.api_key == "AIzaOWNERSECRETKEY"
    back = back_to_google(server, access_token="ya29.NEW", expires_at=123.0, base_url=None)
    assert (back.mode, back.api_key, back.access_token, back.subject, back.quota_project) == (
        "oauth", None, "ya29.NEW", "108-ann", "ann-project")


def test_only_a_google_sign_in_can_carry_its_identity_to_the_server_key(tmp_path) -> None:
    for not_google in (Connection(mode="api_key", api_key="AIzaMINE", subject="108-ann"),
                       Connection(mode="offline", api_key="x", base_url="http://127.0.0.1:9"),
                       Connection(mode="oauth", access_token="t")):  # no subject: nobody to be
        with pytest.raises(ValueError, match="Google sign-in"):
            with_server_key(not_google, "AIzaOWNER", email=None, email_verified=False)
    claimed = Connection(mode="api_key", api_key="AIzaMINE", subject="108-ann")
    assert claimed.google_subject is None, "a subject on a plain key connection claims nothing"
    assert namespace_for(claimed, tmp_path).startswith("key:")
    with pytest.raises(ValueError):
        back_to_google(claimed, access_token="t", expires_at=None, base_url=None)


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
