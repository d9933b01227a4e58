"""Fixtures for the reliability suite."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture
def unused_tcp_port() -> int:
    """A loopback port nobody listens on right now (for servers that must restart on the same port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


from tests.app.conftest import isolated_studio, studio_app  # noqa: E402, F401 - the AppTest fixtures
from tests.browser.conftest import browser, page, start_studio  # noqa: E402, F401 - shared browser fixtures
