"""Waiting inside a polling fragment for the runner to report something, without delaying the person.

A timer fragment that only polls shows a landed image up to a whole interval late. Instead, each
timer run waits (briefly) on the runner's change signal and draws at once when an image lands. A
click or widget change must never wait behind that: Streamlit marks a pending full rerun on the
script's request queue, and we stop waiting as soon as it does. That queue is Streamlit's internal
state, read defensively here; if its shape ever changes, the wait simply becomes a short plain poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from streamlit.runtime.scriptrunner_utils import script_run_context
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

SLICE_S = 0.01  # how soon a wait sees a click: the click's run starts when this run ends
FLUSH_SLICE_S = 0.002
FLUSH_FALLBACK_S = 0.01


def in_fragment_run() -> bool:
    """True when only a fragment is rerunning (a timer tick or a click inside it), not the whole page."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def full_rerun_pending() -> bool:
    """Whether the person did something that reruns the page (a click, a page switch) or the session is stopping.

    A fragment must not call ``st.rerun()`` then: its rerun of the current page could replace a page switch.
    """
    ctx = get_script_run_ctx()
    requests = getattr(ctx, "script_requests", None)
    state = getattr(requests, "_state", None)
    name = getattr(state, "name", "CONTINUE")
    if name == "CONTINUE":
        return False
    if name == "STOP":
        return True
    rerun_data = getattr(requests, "_rerun_data", None)
    queued_fragments = getattr(rerun_data, "fragment_id_queue", None)
    return not queued_fragments  # a queued timer tick of a fragment is not the person


def running_fragment_id() -> str | None:
    """The fragment whose body is running on this thread, or None (outside a fragment, or Streamlit changed)."""
    thread_state = getattr(script_run_context, "ThreadState", None)
    try:
        return getattr(thread_state.get(), "fragment_id", None) if thread_state is not None else None
    except RuntimeError:  # no script run on this thread
        return None


def person_is_waiting() -> bool:
    """Whether anything but the fragment's own timer asked for a run: a click or change anywhere (inside the
    fragment too: a Cancel button; in another fragment: the detail dialog), a page switch, or the session stopping.

    A timer tick is an "auto rerun"; a tick that arrives after a click is folded into the same request, so a
    pending button press (a trigger value), or a queued run of any other fragment, counts as the person too.
    """
    if full_rerun_pending():
        return True
    ctx = get_script_run_ctx()
    running = running_fragment_id()
    if any(fragment_id != running for fragment_id in getattr(ctx, "fragment_ids_this_run", None) or []):
        return True  # another fragment (a dialog) runs after this one in the same run: never make it wait
    requests = getattr(ctx, "script_requests", None)
    if getattr(getattr(requests, "_state", None), "name", "CONTINUE") != "RERUN":
        return False
    rerun_data = getattr(requests, "_rerun_data", None)
    if any(fragment_id != running for fragment_id in getattr(rerun_data, "fragment_id_queue", None) or []):
        return True
    if not getattr(rerun_data, "is_auto_rerun", True):
        return True
    widgets = getattr(getattr(rerun_data, "widget_states", None), "widgets", None) or []
    return any(getattr(widget, "trigger_value", False) for widget in widgets)


def wait_for(changed: Callable[[float], bool], budget_s: float) -> bool:
    """Wait up to ``budget_s`` for ``changed(timeout)`` to report a change; give up at once when the person
    did something (``person_is_waiting``): their run never queues behind this wait."""
    deadline = time.monotonic() + budget_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if changed(min(SLICE_S, left)):
            return True
        if person_is_waiting():
            return False


def _session_info() -> object | None:
    """This session's AppSession and websocket client (Streamlit internals), or None in bare mode or if
    Streamlit changed."""
    ctx = get_script_run_ctx()
    try:
        from streamlit.runtime import Runtime

        return Runtime.instance()._session_mgr.get_session_info(ctx.session_id)  # type: ignore[union-attr]
    except Exception:
        return None


def _drained(container: object, method: str, empty: Callable[[object], bool]) -> Callable[[], bool]:
    """A check that ``container`` (one of Streamlit's message queues) is empty; always True if it is not there."""
    probe = getattr(container, method, None)
    return (lambda: empty(probe())) if callable(probe) else (lambda: True)


def let_drawing_leave(max_s: float) -> None:
    """Hold the run until what it has drawn so far has left for the browser (at most ``max_s``).

    A script run hands each message to the server's event loop, which queues it for the websocket. While
    work runs the panel's runs follow one another, and Streamlit drops a fragment's still-queued messages
    when the fragment's next run starts; a run drawing on also keeps the interpreter from the loop, which
    writes the queued messages one at a time. A live picture then reached the browser 20-100 ms after it was
    drawn, sometimes only with a later run (docs/PERFORMANCE.md). So: wait until the loop has taken our
    messages and written them to the socket. The person never waits on this: a click ends it at once.
    Without the internals it is a short pause.
    """
    deadline = time.monotonic() + max_s
    info = _session_info()
    session, client = getattr(info, "session", None), getattr(info, "client", None)
    loop = getattr(session, "_event_loop", None)
    sent = (_drained(getattr(session, "_browser_queue", None), "is_empty", bool),  # handed to the client
            _drained(getattr(client, "_send_queue", None), "qsize", lambda n: n == 0))  # handed to the socket
    def give_up() -> bool:
        return time.monotonic() > deadline or person_is_waiting()

    reached = threading.Event()
    try:
        loop.call_soon_threadsafe(reached.set)  # type: ignore[union-attr]  # runs after our queued messages
    except Exception:
        time.sleep(min(max_s, FLUSH_FALLBACK_S))
        return
    while not reached.wait(FLUSH_SLICE_S):
        if give_up():
            return
    for drained in sent:  # queued twice more: the server's send loop and the websocket's writer take them
        while not drained():
            if give_up():
                return
            time.sleep(FLUSH_SLICE_S)
