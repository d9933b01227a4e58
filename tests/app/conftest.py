"""AppTest fixtures: a fresh data directory and fresh process-wide caches for every test."""

from __future__ import annotations

import contextlib
import time
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
    _close_runner()
    st.cache_resource.clear()


def _close_runner() -> None:
    """Stop this test's runner thread (the next test gets a fresh one with a fresh store)."""
    from components import services

    with contextlib.suppress(Exception):  # no runner was made, or it failed to start: nothing to stop
        services.get_runner().close()


def settling(at: AppTest, timeout_s: float = 60.0) -> None:
    """Make every run of ``at`` (``at.run()`` and widget ``.run()``) wait until nothing is in flight.

    AppTest does not fire a fragment's ``run_every`` timer, so after a run that left jobs running this
    waits on the job runner (the app's own: ``st.cache_resource`` is process-wide) and runs once more.
    """
    from components import services

    original = at._run

    def run(widget_state=None, timeout=None):  # type: ignore[no-untyped-def]
        try:
            runner = services.get_runner()
        except services.StoreUnavailable:  # the app itself shows why; there is nothing to wait for
            return original(widget_state, timeout=timeout)
        before = {ns: runner.version(ns) for ns in runner.namespaces()}
        result = original(widget_state, timeout=timeout)
        deadline = time.monotonic() + timeout_s
        while any(runner.has_active(ns) for ns in runner.namespaces()):
            if time.monotonic() > deadline:
                raise AssertionError("jobs still running after the deadline")
            for ns in runner.namespaces():
                runner.wait_for_change(ns, runner.version(ns), 0.05)
        changed = {ns: runner.version(ns) for ns in runner.namespaces()} != before
        return original(at._tree.get_widget_states(), timeout=timeout) if changed else result

    at._run = run  # type: ignore[method-assign]


@pytest.fixture
def studio_app() -> Callable[..., AppTest]:
    """The whole app, optionally connected to an emulator, run once; by default every run settles.

    ``settled=False`` gives the plain AppTest, to look at the page while a batch is still running.
    """

    def make(emulator: EmulatorServer | None = None, settled: bool = True, **state: object) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if settled:
            settling(at)
        if emulator is not None:
            at.session_state["connection"] = Connection(mode="api_key", api_key="test-key",
                                                        base_url=emulator.base_url)
        for key, value in state.items():
            at.session_state[key] = value
        return at.run()

    return make


def drawn(at: AppTest) -> list[str]:
    """Everything the last run drew, main area and sidebar, as the messages the browser is sent (an element's
    repr leaves out its text: ``Markdown()``), every nested block included."""
    def walk(node: object) -> list[str]:
        found = [repr(node), str(getattr(node, "proto", ""))]
        for child in getattr(node, "children", {}).values():
            found += walk(child)
        return found

    return walk(at.main) + walk(at.sidebar)
