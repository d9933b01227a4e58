"""AppTest fixtures: a fresh data directory and fresh process-wide caches for every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from studio.credentials import Connection
from studio.emulator.server import EmulatorServer

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def isolated_studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STUDIO_DATABASE_URL", raising=False)
    st.cache_resource.clear()
    yield tmp_path / "data"
    st.cache_resource.clear()


@pytest.fixture
def studio_app() -> Callable[..., AppTest]:
    """The whole app, optionally connected to an emulator, run once."""

    def make(emulator: EmulatorServer | None = None, **state: object) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if emulator is not None:
            at.session_state["connection"] = Connection(mode="api_key", api_key="test-key",
                                                        base_url=emulator.base_url)
        for key, value in state.items():
            at.session_state[key] = value
        return at.run()

    return make
