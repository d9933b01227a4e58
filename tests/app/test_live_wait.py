"""The live panel's wait reads Streamlit's own pending-run queue: a real ScriptRequests, as Streamlit fills it.

The panel waits up to seconds for the runner; whatever the person does must end that wait at once, while the
panel's own timer ticks must not. These tests drive Streamlit's request queue the way the server does.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from components import live_wait


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> ScriptRequests:
    queue = ScriptRequests()
    monkeypatch.setattr(live_wait, "get_script_run_ctx", lambda: SimpleNamespace(script_requests=queue))
    monkeypatch.setattr(live_wait, "running_fragment_id", lambda: "live-panel")  # the panel's body is running
    return queue


def _pressed(widget_id: str) -> WidgetStates:
    states = WidgetStates()
    states.widgets.append(WidgetState(id=widget_id, trigger_value=True))
    return states


def tick() -> RerunData:
    return RerunData(fragment_id="live-panel", is_auto_rerun=True)


def test_the_panels_own_timer_does_not_end_the_wait(requests: ScriptRequests) -> None:
    assert not live_wait.person_is_waiting()
    requests.request_rerun(tick())
    requests.request_rerun(tick())
    assert not live_wait.person_is_waiting() and not live_wait.full_rerun_pending()


def test_a_click_inside_the_panel_ends_it_even_when_a_tick_follows(requests: ScriptRequests) -> None:
    requests.request_rerun(tick())
    requests.request_rerun(RerunData(fragment_id="live-panel", widget_states=_pressed("cancel_job")))
    assert live_wait.person_is_waiting(), "a Cancel press inside the panel"
    requests.request_rerun(tick())  # the next tick is folded into the same request
    assert live_wait.person_is_waiting(), "the press is still pending"
    assert not live_wait.full_rerun_pending(), "but it reruns the fragment only"


def test_a_change_outside_the_panel_and_a_stop_end_it(requests: ScriptRequests,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    requests.request_rerun(tick())
    requests.request_rerun(RerunData())  # a sidebar change: the whole page
    assert live_wait.person_is_waiting() and live_wait.full_rerun_pending()
    stopped = ScriptRequests()
    stopped.request_stop()
    monkeypatch.setattr(live_wait, "get_script_run_ctx", lambda: SimpleNamespace(script_requests=stopped))
    assert live_wait.person_is_waiting()


def test_a_change_in_another_fragment_ends_it_even_when_a_tick_follows(requests: ScriptRequests) -> None:
    requests.request_rerun(RerunData(fragment_id="detail-dialog"))  # a click inside the open detail dialog
    assert live_wait.person_is_waiting()
    requests.request_rerun(tick())  # the tick is folded in and marks the request an auto rerun
    assert live_wait.person_is_waiting(), "the dialog's run is still queued behind the panel"
    assert not live_wait.full_rerun_pending(), "and it is not a full rerun: the panel may still finish its run"


def test_the_panel_never_waits_when_another_fragment_runs_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tick and a dialog click folded into one request run both fragments in one run, the panel first."""
    queue = ScriptRequests()
    ctx = SimpleNamespace(script_requests=queue, fragment_ids_this_run=["live-panel"])
    monkeypatch.setattr(live_wait, "get_script_run_ctx", lambda: ctx)
    monkeypatch.setattr(live_wait, "running_fragment_id", lambda: "live-panel")
    assert not live_wait.person_is_waiting(), "the panel alone: it may wait"
    ctx.fragment_ids_this_run = ["live-panel", "detail-dialog"]
    assert live_wait.person_is_waiting(), "the dialog's run would start only after the panel's wait"


def test_a_wait_returns_at_once_for_the_person(requests: ScriptRequests) -> None:
    requests.request_rerun(RerunData(fragment_id="live-panel", widget_states=_pressed("page")))
    waited: list[float] = []
    assert live_wait.wait_for(lambda timeout: waited.append(timeout) or False, budget_s=30.0) is False
    assert len(waited) == 1, "one slice, not thirty seconds"
