"""A press acts once and whole: components/press_guard's two patches, on Streamlit's real request classes.

The races themselves need a loaded browser to show (tests/browser/test_semantic_search caught both); these
tests pin each patch's effect, and fail when Streamlit's internals change shape under an upgrade.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

import pytest
from streamlit import config
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.scriptrunner_utils.script_requests import (
    RerunData,
    ScriptRequest,
    ScriptRequests,
    ScriptRequestType,
)
from streamlit.runtime.scriptrunner_utils.script_run_context import RunLocation, ThreadState
from streamlit.runtime.state.safe_session_state import SafeSessionState
from streamlit.runtime.state.session_state import SessionState

from components import press_guard

T = TypeVar("T")


@pytest.fixture(autouse=True)
def installed() -> None:
    assert press_guard.install(), "Streamlit's internals changed: see components/press_guard.py"


def _tick_with_press() -> ClientState:
    """A fragment's timer tick that left while Generate's press waited for its own message."""
    state = ClientState(fragment_id="live-fragment", is_auto_rerun=True)
    press = state.widget_states.widgets.add(id="$$ID-generate")
    press.trigger_value = True
    chat = state.widget_states.widgets.add(id="$$ID-chat")
    chat.json_trigger_value = '["sent"]'
    prompt = state.widget_states.widgets.add(id="$$ID-prompt")
    prompt.string_value = "a bowl of lemons"
    return state


def _ids(state: ClientState) -> list[str]:
    return [widget.id for widget in state.widget_states.widgets]


def test_a_ticks_copy_of_a_press_is_dropped_and_values_kept() -> None:
    tick = _tick_with_press()
    cleaned = press_guard.without_stray_presses(tick)
    assert cleaned is not None
    assert _ids(cleaned) == ["$$ID-prompt"]
    assert cleaned.fragment_id == "live-fragment" and cleaned.is_auto_rerun
    assert _ids(tick) == ["$$ID-generate", "$$ID-chat", "$$ID-prompt"]  # the message itself is left as it came


def test_a_press_in_its_own_message_is_kept() -> None:
    own = _tick_with_press()
    own.is_auto_rerun = False
    assert press_guard.without_stray_presses(own) is own
    released = ClientState(is_auto_rerun=True)
    released.widget_states.widgets.add(id="$$ID-generate").trigger_value = False  # not a press
    assert press_guard.without_stray_presses(released) is released


class _RecordingRunner:
    """Stands in for the session's ScriptRunner: what would the run have been asked to do?"""

    def __init__(self) -> None:
        self.requests: list[RerunData] = []

    def request_rerun(self, rerun_data: RerunData) -> bool:
        self.requests.append(rerun_data)
        return True


class _Session:
    """Just what AppSession.request_rerun reads before handing the request to its runner."""

    _state = AppSessionState.APP_IS_RUNNING

    def __init__(self) -> None:
        self._scriptrunner = _RecordingRunner()
        self._client_state = ClientState()

    def has_fragment(self, fragment_id: str) -> bool:
        return True


@pytest.fixture
def slow_reruns() -> Iterator[None]:
    """Fast reruns off, as .streamlit/config.toml sets them: requests go to the running ScriptRunner."""
    before = config.get_option("runner.fastReruns")
    config.set_option("runner.fastReruns", False)
    yield
    config.set_option("runner.fastReruns", before)


def test_streamlits_session_hands_the_runner_a_tick_without_the_press(slow_reruns: None) -> None:
    session = _Session()
    AppSession.request_rerun(session, _tick_with_press())  # type: ignore[arg-type]
    (sent,) = session._scriptrunner.requests
    assert sent.widget_states is not None
    assert [widget.id for widget in sent.widget_states.widgets] == ["$$ID-prompt"]
    assert sent.fragment_id == "live-fragment" and sent.is_auto_rerun


def _pending_rerun() -> ScriptRequests:
    requests = ScriptRequests()
    assert requests.request_rerun(RerunData(query_string="next keystroke"))
    return requests


def _in_a_script_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on a thread set up as Streamlit sets up a script run's thread."""
    result: list[T] = []

    def run() -> None:
        ThreadState.initialize()
        result.append(work())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0]


def _in_a_callback() -> AbstractContextManager[None]:
    return ThreadState.scoped(run_location=RunLocation.CALLBACK)


@contextmanager
def _nested_whole() -> Iterator[None]:
    with press_guard.whole():
        with press_guard.whole():  # nested: held until the outer block ends
            pass
        yield


def _yield_during_and_after(requests: ScriptRequests,
                            holding: Callable[[], AbstractContextManager[None]]) -> tuple[ScriptRequest | None, ...]:
    """What the run's yield takes inside ``holding()`` and right after it, on a script thread."""
    def during_and_after() -> tuple[ScriptRequest | None, ...]:
        with holding():
            during = requests.on_scriptrunner_yield()
        return during, requests.on_scriptrunner_yield()

    return _in_a_script_thread(during_and_after)


def test_a_request_waits_while_a_callback_runs_and_is_taken_after() -> None:
    during, after = _yield_during_and_after(_pending_rerun(), _in_a_callback)
    assert during is None  # the callback reads st.session_state on: not cut short
    assert after is not None and after.type is ScriptRequestType.RERUN
    assert after.rerun_data.query_string == "next keystroke"  # nothing lost: the run takes it up next


def test_a_request_waits_for_a_whole_block_in_the_body() -> None:
    during, after = _yield_during_and_after(_pending_rerun(), _nested_whole)
    assert during is None
    assert after is not None and after.type is ScriptRequestType.RERUN


def test_outside_a_callback_a_request_interrupts_as_before() -> None:
    requests = _pending_rerun()
    taken = _in_a_script_thread(requests.on_scriptrunner_yield)
    assert taken is not None and taken.type is ScriptRequestType.RERUN


def test_a_stop_also_waits_for_the_callback_then_stops() -> None:
    requests = ScriptRequests()
    requests.request_stop()
    during, after = _yield_during_and_after(requests, _in_a_callback)
    assert during is None
    assert after is not None and after.type is ScriptRequestType.STOP


def test_install_patches_once() -> None:
    first = ScriptRequests.on_scriptrunner_yield
    assert press_guard.install()
    assert ScriptRequests.on_scriptrunner_yield is first
    assert not hasattr(first.__wrapped__, "__wrapped__")  # type: ignore[attr-defined]


class _Interrupted(Exception):
    """What the ScriptRunner raises at a yield when a request is pending (RerunException in Streamlit)."""


def test_a_run_applies_its_own_widget_states_before_a_newer_request_replaces_it() -> None:
    requests = _pending_rerun()

    def yield_point() -> None:  # the ScriptRunner's yield: a pending request ends the run here
        if requests.on_scriptrunner_yield() is not None:
            raise _Interrupted

    state = SafeSessionState(SessionState(), yield_callback=yield_point)
    press = WidgetStates()
    press.widgets.add(id="$$ID-generate").trigger_value = True

    def start_the_run() -> str:
        try:
            state.on_script_will_rerun(press)  # the press is read and its callback runs
        except _Interrupted:
            return "replaced before reading its press"
        try:
            yield_point()  # Streamlit's check right after the callbacks
        except _Interrupted:
            return "press read, then the newer request taken"
        return "newer request lost"

    assert _in_a_script_thread(start_the_run) == "press read, then the newer request taken"
