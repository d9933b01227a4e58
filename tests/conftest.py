"""Shared fixtures: the Gemini API emulator on loopback, and clients pointed at it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from google import genai
from google.genai import types

from studio.credentials import Connection, make_client
from studio.emulator.server import EmulatorConfig, EmulatorServer
from studio.engine import Engine
from tests.history.postgres import PostgresServer, PostgresUnavailable, skip_allowed

TEST_KEY = "test-key"
TEST_TOKEN = "test-token"

# The suite runs on two workers (pytest-xdist, `-n 2` in pyproject.toml): the longest tests go first, so neither
# worker is left finishing a three-minute test alone at the end. Each group stays contiguous (package fixtures,
# such as tests/browser's one Chromium, are set up once per worker).
LONG_FIRST = ("tests/test_bench_smoke.py", "tests/browser/", "tests/oauth/test_oauth_browser.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid
        return next((i for i, prefix in enumerate(LONG_FIRST) if path.startswith(prefix)), len(LONG_FIRST))
    items.sort(key=rank)  # stable: the order within a group is the files' own


def _config(**kwargs: object) -> EmulatorConfig:
    kwargs.setdefault("api_keys", frozenset({TEST_KEY}))
    kwargs.setdefault("bearer_tokens", frozenset({TEST_TOKEN}))
    return EmulatorConfig(**kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """One emulator for the whole run (no faults queued on it: use fresh_emulator for those)."""
    server = EmulatorServer(_config()).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_emulator() -> Iterator[Callable[..., EmulatorServer]]:
    """Make emulators with their own config; each is stopped after the test."""
    made: list[EmulatorServer] = []

    def make(**kwargs: object) -> EmulatorServer:
        server = EmulatorServer(_config(**kwargs)).start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the session; missing or broken: fail (skip only with STUDIO_SKIP_POSTGRES=1)."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        if skip_allowed():
            pytest.skip(f"STUDIO_SKIP_POSTGRES=1: {exc}")
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server in a thread on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer  # heavy: imported only by the tests that need it

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def client(emulator: EmulatorServer) -> genai.Client:
    return genai.Client(api_key=TEST_KEY,
                        http_options=types.HttpOptions(base_url=emulator.base_url, api_version="v1beta"))


@pytest.fixture
def engine_for() -> Callable[..., Engine]:
    """An Engine on a key connection to the given emulator (fast retries unless told otherwise)."""

    def make(server: EmulatorServer, **kwargs: object) -> Engine:
        connection = Connection(mode="api_key", api_key=TEST_KEY, base_url=server.base_url)
        kwargs.setdefault("retry_base_s", 0.05)
        return Engine(make_client(connection), secrets=connection.secrets(), **kwargs)  # type: ignore[arg-type]

    return make
