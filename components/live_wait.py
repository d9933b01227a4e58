"""Waiting inside a polling fragment for the runner to report something, without delaying the person.

A timer fragment that only polls shows a landed image up to a whole interval late. Instead, each
timer run waits (briefly) on the runner's change signal and draws at once when an image lands. A
click or widget change must never wait behind that: Streamlit marks a pending full rerun on the
script's request queue, and we stop waiting as soon as it does. That queue is Streamlit's internal
state, read defensively here; if its shape ever changes, the wait simply becomes a short plain poll.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

SLICE_S = 0.02


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


def person_is_waiting() -> bool:
    """Whether anything but the fragment's own timer asked for a run: a click or change anywhere (inside the
    fragment too: a Cancel button), a page switch, or the session stopping.

    A timer tick is an "auto rerun"; a tick that arrives after a click is folded into the same request, so a
    pending button press (a trigger value) counts as the person too.
    """
    if full_rerun_pending():
        return True
    ctx = get_script_run_ctx()
    requests = getattr(ctx, "script_requests", None)
    if getattr(getattr(requests, "_state", None), "name", "CONTINUE") != "RERUN":
        return False
    rerun_data = getattr(requests, "_rerun_data", None)
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
