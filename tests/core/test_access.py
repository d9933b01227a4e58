"""Team access rules (studio/access.py) and the configured namespace salt (studio/history/namespaces.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from studio.access import (
    TeamConfigError,
    TeamPolicy,
    host_is_local,
    is_allowed,
    listens_on_loopback,
    local_midnight,
    may_use_server_key,
    reached_locally,
    spend_cap_reached,
    spent_today,
)
from studio.credentials import Connection
from studio.history import HistoryStore, namespace_for
from studio.history.namespaces import (
    SaltNotConfigured,
    check_salt,
    is_anonymous,
    is_browser_id,
    new_browser_id,
    salt_required,
    shared_history_setting,
)
from studio.request import GenerationRequest

TEAM = TeamPolicy.from_config({"allowed_domains": ["Example.com"], "allowed_emails": ["Guest@Partner.org"]}, env={})


# ---- reading [team] -----------------------------------------------------------------------------


def test_empty_section_is_an_open_studio() -> None:
    policy = TeamPolicy.from_config(None, env={})
    assert not policy.has_list and policy.server_key_for is None and policy.daily_spend_cap_usd is None


def test_section_is_normalised() -> None:
    policy = TeamPolicy.from_config({"allowed_domains": ["@Example.COM ", ""], "allowed_emails": "a@x.io, B@Y.io",
                                     "server_key_for": "Everyone", "daily_spend_cap_usd": 5,
                                     "contact": " admin@example.com "}, env={})
    assert policy.allowed_domains == ("example.com",)
    assert policy.allowed_emails == ("a@x.io", "b@y.io")
    assert policy.server_key_for == "everyone" and policy.daily_spend_cap_usd == 5.0
    assert policy.contact == "admin@example.com" and policy.has_list


def test_server_key_for_from_the_environment() -> None:
    assert TeamPolicy.from_config({}, env={"STUDIO_SERVER_KEY_FOR": "everyone"}).server_key_for == "everyone"
    assert TeamPolicy.from_config({}, env={}).server_key_for is None


@pytest.mark.parametrize(("section", "words"), [
    ({"allowed_domains": 3}, "list of strings"),
    ({"allowed_domains": ["example.com", 7]}, "list of strings"),
    ({"allowed_domains": ["me@example.com"]}, "not a domain"),
    ({"allowed_emails": ["not-an-email"]}, "not an email"),
    ({"server_key_for": "team"}, "can only be \"everyone\""),
    ({"daily_spend_cap_usd": "lots"}, "number of US dollars"),
    ({"daily_spend_cap_usd": True}, "number of US dollars"),
    ({"daily_spend_cap_usd": -1}, "cannot be negative"),
])
def test_malformed_section_is_refused_plainly(section: dict, words: str) -> None:
    with pytest.raises(TeamConfigError, match=words):
        TeamPolicy.from_config(section, env={})


def test_bad_environment_value_is_refused() -> None:
    with pytest.raises(TeamConfigError, match="STUDIO_SERVER_KEY_FOR"):
        TeamPolicy.from_config({}, env={"STUDIO_SERVER_KEY_FOR": "all"})


# ---- who is allowed -----------------------------------------------------------------------------


def test_without_a_list_everyone_is_allowed() -> None:
    assert is_allowed(TeamPolicy(), None, False)


@pytest.mark.parametrize(("email", "allowed"), [
    ("ann@example.com", True),
    ("ANN@EXAMPLE.COM", True),
    ("guest@partner.org", True),
    ("other@partner.org", False),  # the email list is exact, not a domain
    ("ann@mail.example.com", False),  # subdomains are other domains
    ("ann@badexample.com", False),
    ("ann@example.com.evil.io", False),
    ("example.com@evil.io", False),
    ("ann@", False),
    ("", False),
    (None, False),
])
def test_list_matches_emails_and_whole_domains(email: str | None, allowed: bool) -> None:
    assert is_allowed(TEAM, email, True) is allowed


def test_an_unverified_email_is_not_matched() -> None:
    assert not is_allowed(TEAM, "ann@example.com", False)


def test_server_key_with_a_list_is_for_allowed_signed_in_people_only() -> None:
    assert may_use_server_key(TEAM, "ann@example.com", True, False)
    assert not may_use_server_key(TEAM, "ann@example.com", False, True), "localhost does not matter with a list"
    assert not may_use_server_key(TEAM, "eve@elsewhere.net", True, True)
    everyone = TeamPolicy(allowed_domains=("example.com",), server_key_for="everyone")
    assert not may_use_server_key(everyone, None, False, False), "a list wins over everyone"


def test_server_key_without_a_list() -> None:
    assert not may_use_server_key(TeamPolicy(), None, False, False)
    assert may_use_server_key(TeamPolicy(), None, False, True)
    assert may_use_server_key(TeamPolicy(server_key_for="everyone"), None, False, False)


@pytest.mark.parametrize(("host", "local"), [
    ("localhost", True), ("localhost:8501", True), ("LOCALHOST:8501", True), ("127.0.0.1:8501", True),
    ("[::1]:8501", True), ("[::1]", True), ("::1", True),
    ("studio.example.com", False), ("localhost.example.com", False), ("192.168.1.5:8501", False),
    ("[2001:db8::1]:8501", False), ("", False), (None, False),
])
def test_host_is_local(host: str | None, local: bool) -> None:
    assert host_is_local(host) is local


def test_reached_locally_needs_a_loopback_peer_and_no_proxy() -> None:
    def local(host: str, forwarded: bool = False, peer: bool = True) -> bool:
        return reached_locally(host, forwarded=forwarded, peer_is_loopback=peer, server_address="127.0.0.1")

    assert local("localhost:8501")
    assert not local("localhost:8501", forwarded=True), "a proxy rewrote Host"
    assert not local("localhost:8501", peer=False), "a forged Host"
    assert not local("studio.example.com")


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "[::]", "192.168.1.5", "studio.example.com"])
def test_a_proxy_that_says_localhost_is_not_local_unless_the_server_listens_on_loopback(address: str | None) -> None:
    """A reverse proxy on the same machine connects from loopback, may send ``Host: localhost`` and no
    forwarding header: a server listening on every interface (Streamlit's default, the Docker image) or on a
    public address is reachable from the internet, so nobody counts as local there."""
    assert not listens_on_loopback(address)
    assert not reached_locally("localhost", forwarded=False, peer_is_loopback=True, server_address=address)
    assert not may_use_server_key(TeamPolicy(), None, False,
                                  reached_locally("localhost", False, True, server_address=address))


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_a_server_on_loopback_alone_keeps_the_localhost_rule(address: str) -> None:
    assert listens_on_loopback(address)
    assert reached_locally("localhost:8501", forwarded=False, peer_is_loopback=True, server_address=address)


# ---- the daily spend cap ------------------------------------------------------------------------


def test_cap_is_passed_only_when_exceeded() -> None:
    capped = TeamPolicy(daily_spend_cap_usd=1.0)
    assert not spend_cap_reached(TeamPolicy(), 1e9)
    assert not spend_cap_reached(capped, 0.99) and not spend_cap_reached(capped, 1.0)
    assert spend_cap_reached(capped, 1.01)
    assert spend_cap_reached(TeamPolicy(daily_spend_cap_usd=0.0), 0.01)


def test_spent_today_adds_this_identitys_estimates_since_midnight(tmp_path: Path) -> None:
    store = HistoryStore.open(data_dir=tmp_path)
    request = GenerationRequest(prompt="a lighthouse", model_id="gemini-3-pro-image", image_size="1K")
    per_image = store.catalogue.resolve(request.model_id).estimate_cost("1K", 1)
    assert per_image > 0
    for index in range(3):
        store.start_entry("google:ann", request, index, batch_id="b1")
    store.start_entry("google:bob", request, 0, batch_id="b2")
    now = time.time()
    assert spent_today(store, "google:ann", now) == pytest.approx(3 * per_image)
    assert spent_today(store, "google:bob", now) == pytest.approx(per_image)
    assert spent_today(store, "google:nobody", now) == 0.0
    tomorrow = local_midnight(now) + 36 * 3600
    assert spent_today(store, "google:ann", tomorrow) == 0.0, "yesterday's spend does not count"
    store.close()


def test_spent_today_counts_deleted_entries(tmp_path: Path) -> None:
    """The cap reads the spend ledger: deleting and purging today's entries gives nothing back (issue 20)."""
    store = HistoryStore.open(data_dir=tmp_path)
    request = GenerationRequest(prompt="p", model_id="gemini-3-pro-image")
    started = [store.start_entry("google:ann", request, index, batch_id="b") for index in range(5)]
    for entry in started:
        store.delete("google:ann", entry.id)
    store.purge(older_than_s=-1)
    per_image = store.catalogue.resolve(request.model_id).estimate_cost("1K", 1)
    assert spent_today(store, "google:ann") == pytest.approx(5 * per_image)
    assert spent_today(store, None) == pytest.approx(5 * per_image), "the team's day"
    store.close()


def test_local_midnight() -> None:
    now = time.time()
    midnight = local_midnight(now)
    assert midnight <= now < midnight + 25 * 3600
    assert time.localtime(midnight)[3:6] == (0, 0, 0)


# ---- the namespace salt ------------------------------------------------------------------------


KEY = Connection(mode="api_key", api_key="AIza-some-key")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("STUDIO_DATABASE_URL", "STUDIO_REQUIRE_CONFIGURED_SALT", "STUDIO_NAMESPACE_SALT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_default_sqlite_keeps_a_salt_file(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("STUDIO_DATABASE_URL", f"sqlite:///{tmp_path / 'h.sqlite3'}")
    assert not salt_required()
    check_salt()
    first = namespace_for(KEY, tmp_path / "a")
    assert (tmp_path / "a" / "namespace.salt").exists()
    assert namespace_for(KEY, tmp_path / "a") == first
    assert namespace_for(KEY, tmp_path / "b") != first, "each installation has its own salt"


@pytest.mark.parametrize("env", [{"STUDIO_DATABASE_URL": "postgresql://u:p@db:5432/studio"},
                                 {"STUDIO_REQUIRE_CONFIGURED_SALT": "1"}])
def test_shared_backend_refuses_without_a_configured_salt(tmp_path: Path, clean_env: pytest.MonkeyPatch,
                                                          env: dict[str, str]) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert salt_required()
    with pytest.raises(SaltNotConfigured, match="STUDIO_NAMESPACE_SALT") as refused:
        check_salt()
    assert "u:p@" not in str(refused.value), "the database password is never repeated"
    with pytest.raises(SaltNotConfigured):
        namespace_for(KEY, tmp_path)
    assert not (tmp_path / "namespace.salt").exists(), "no local salt file is made for a shared backend"
    assert namespace_for(Connection(mode="oauth", access_token="t", subject="42"), tmp_path) == "google:42"


def test_two_replicas_share_a_configured_salt(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("STUDIO_REQUIRE_CONFIGURED_SALT", "1")
    check_salt("from-secrets")
    from_secrets = namespace_for(KEY, tmp_path / "replica-1", salt="from-secrets")
    assert from_secrets == namespace_for(KEY, tmp_path / "replica-2", salt="from-secrets")
    clean_env.setenv("STUDIO_NAMESPACE_SALT", "from-env")
    check_salt()
    from_env = namespace_for(KEY, tmp_path / "replica-1", salt="from-secrets")
    assert from_env == namespace_for(KEY, tmp_path / "replica-2") != from_secrets, "the environment wins"
    assert not list(tmp_path.rglob("namespace.salt"))


def test_a_postgres_url_from_the_secrets_also_requires_a_configured_salt() -> None:
    from studio.history.namespaces import SaltNotConfigured, check_salt

    with pytest.raises(SaltNotConfigured):
        check_salt(None, env={}, database_url="postgresql://studio@db.internal/history")
    check_salt("a-long-random-salt", env={}, database_url="postgresql://studio@db.internal/history")
    check_salt(None, env={}, database_url="sqlite:///tmp/history.sqlite3")


# ---- anonymous visitors: a History per browser ---------------------------------------------------


OFFLINE = Connection(mode="offline", api_key="emulator-key")
SERVER_KEY = Connection(mode="api_key", api_key="AIza-the-owners-key", shared_key=True)


def test_each_browser_gets_its_own_history_offline_and_with_the_servers_key(tmp_path: Path,
                                                                            clean_env: pytest.MonkeyPatch) -> None:
    a, b = new_browser_id(), new_browser_id()
    assert a != b and is_browser_id(a) and len(a) == 43
    for connection in (OFFLINE, SERVER_KEY):
        mine = namespace_for(connection, tmp_path, browser_id=a)
        assert mine.startswith("browser:") and a not in mine, "the cookie's id never reaches the database"
        assert mine == namespace_for(connection, tmp_path, browser_id=a), "the same browser finds it again"
        assert mine != namespace_for(connection, tmp_path, browser_id=b), "another browser never does"
        assert mine != namespace_for(connection, tmp_path / "other-install", browser_id=a), "salted"
    assert namespace_for(OFFLINE, tmp_path, browser_id=a) != namespace_for(SERVER_KEY, tmp_path, browser_id=a), \
        "emulated images and paid ones stay apart"


def test_a_shared_history_is_only_what_the_operator_chose(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    browser = new_browser_id()
    assert namespace_for(OFFLINE, tmp_path, browser_id=browser, shared=True) == "local"
    assert namespace_for(SERVER_KEY, tmp_path, browser_id=browser, shared=True) == namespace_for(
        Connection(mode="api_key", api_key="AIza-the-owners-key"), tmp_path), "where every visitor was before"
    assert not shared_history_setting(None, env={})
    assert shared_history_setting(True, env={}) and shared_history_setting("true", env={})
    assert not shared_history_setting(False, env={"STUDIO_SHARED_HISTORY": "true"}), "the secrets win"
    assert shared_history_setting(None, env={"STUDIO_SHARED_HISTORY": "on"})
    with pytest.raises(ValueError, match="true or false"):
        shared_history_setting("everyone", env={})


def test_people_who_say_who_they_are_keep_their_history_whatever_their_browser(tmp_path: Path,
                                                                              clean_env: pytest.MonkeyPatch) -> None:
    browser = new_browser_id()
    google = Connection(mode="oauth", access_token="t", subject="108-ann")
    assert namespace_for(google, tmp_path, browser_id=browser) == "google:108-ann"
    own_key = Connection(mode="api_key", api_key="AIza-anns-own-key")
    assert namespace_for(own_key, tmp_path, browser_id=browser) == namespace_for(own_key, tmp_path)
    assert not is_anonymous(google) and not is_anonymous(own_key)
    assert is_anonymous(OFFLINE) and is_anonymous(SERVER_KEY)


@pytest.mark.parametrize("cookie", ["", "abc", "x" * 42, "x" * 44, "a" * 42 + "=", "<script>" + "a" * 35, 43])
def test_a_hand_made_browser_id_is_refused(cookie: object, tmp_path: Path) -> None:
    assert not is_browser_id(cookie)
    with pytest.raises(ValueError):
        namespace_for(OFFLINE, tmp_path, browser_id=cookie)  # type: ignore[arg-type]
