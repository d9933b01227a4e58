"""The live panel's waits read Streamlit's own queues: a real ScriptRequests, as Streamlit fills it, and the
queues a drawn message passes on its way to the websocket, on a real event loop.

The panel waits up to seconds for the runner; whatever the person does must end that wait at once, while the
panel's own timer ticks must not. These tests drive Streamlit's request queue the way the server does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
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


class _Server:
    """The two queues a drawn message passes on Streamlit's event loop, on a real loop in its own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.browser_queue = ForwardMsgQueue()
        self.send_queue: asyncio.Queue[bytes] = asyncio.run_coroutine_threadsafe(self._queue(), self.loop).result()
        self.info = SimpleNamespace(session=SimpleNamespace(_event_loop=self.loop, _browser_queue=self.browser_queue),
                                    client=SimpleNamespace(_send_queue=self.send_queue))

    @staticmethod
    async def _queue() -> asyncio.Queue[bytes]:
        return asyncio.Queue()

    def draw(self) -> None:
        """What a drawn element does: the script thread hands its message to the loop."""
        message = ForwardMsg()
        message.delta.new_element.markdown.body = "a live picture"
        self.loop.call_soon_threadsafe(self.browser_queue.enqueue, message)

    def send_after(self, delay_s: float) -> None:
        """The server's flush and the websocket writer, ``delay_s`` later."""
        def flush() -> None:
            for message in self.browser_queue.flush():
                self.send_queue.put_nowait(message.SerializeToString())
            self.loop.call_later(0.01, lambda: [self.send_queue.get_nowait() for _ in range(self.send_queue.qsize())])
        self.loop.call_soon_threadsafe(lambda: self.loop.call_later(delay_s, flush))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture
def server(requests: ScriptRequests, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    made = _Server()
    monkeypatch.setattr(live_wait, "_session_info", lambda: made.info)
    yield made
    made.close()


def test_a_drawn_picture_is_held_until_it_has_left_for_the_browser(server: _Server) -> None:
    server.draw()
    server.send_after(0.1)
    started = time.monotonic()
    live_wait.let_drawing_leave(max_s=2.0)
    assert server.browser_queue.is_empty() and server.send_queue.qsize() == 0
    assert 0.1 <= time.monotonic() - started < 1.0, "held until both queues were drained, not to the deadline"


def test_the_hold_gives_up_at_its_limit_and_at_once_for_the_person(server: _Server,
                                                                    requests: ScriptRequests) -> None:
    server.draw()  # nothing ever sends it
    started = time.monotonic()
    live_wait.let_drawing_leave(max_s=0.1)
    assert 0.1 <= time.monotonic() - started < 0.5 and not server.browser_queue.is_empty()
    requests.request_rerun(RerunData())  # a click
    started = time.monotonic()
    live_wait.let_drawing_leave(max_s=5.0)
    assert time.monotonic() - started < 0.5


def test_without_streamlits_internals_the_hold_is_a_short_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_wait, "_session_info", lambda: None)
    started = time.monotonic()
    live_wait.let_drawing_leave(max_s=5.0)
    assert time.monotonic() - started < 0.5
