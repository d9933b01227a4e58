"""One press, one action, done whole: two Streamlit 1.67 races that lost or doubled a paid Generate.

Found by tests/browser/test_semantic_search (12 presses of Generate; under load about 1 run in 7 ended with 11
or 13 entries; traced with logs of every message and run):

1. **A press counted twice.** The browser sends a button press a moment later (``setTimeout(0)``), so presses
   that arrive together travel together. A fragment's timer tick (``run_every``) leaving in that moment copies
   every widget's state, the pending press included: Streamlit ran Generate's callback in the tick's fragment
   run, then again in the press's own run. Two batches were sent, both paid. A tick never carries a press of
   its own, and the press's own message always follows, so ``without_stray_presses`` drops presses from ticks.
2. **A press cut short.** A rerun request that arrives while the press's run starts (the next keystroke's, a
   click elsewhere) replaced that run before it had read its own widget states (Streamlit yields once first),
   or was raised inside the callback at its next read of ``st.session_state`` and taken for the callback's own
   ``st.rerun()``. Either way the press was lost, or its batch was sent but never followed by the page. While
   a run applies its widget states and runs the callbacks (or code inside ``whole()`` runs), requests now
   wait; the run takes them up as soon as the callbacks are done. A callback's own ``st.rerun()`` raises
   directly and is not held.

Both patches touch Streamlit internals, read defensively as in ``live_wait``: ``install()`` returns False and
changes nothing when their shape differs, and ``tests/app/test_press_guard.py`` fails on an upgrade that
changes it (run the browser tests before any Streamlit upgrade).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.scriptrunner_utils import script_run_context

PATCHED = "_studio_press_guard"
TRIGGER_FIELDS = ("trigger_value", "string_trigger_value", "chat_input_value", "json_trigger_value")
_holding = threading.local()
_installing = threading.Lock()  # two sessions' first runs may install at once: patch once


def is_press(widget: Any) -> bool:
    """Whether a widget state carries a press (a button's trigger, a chat message) rather than a value."""
    field = widget.WhichOneof("value")
    if field not in TRIGGER_FIELDS:
        return False
    value = getattr(widget, field)
    return bool(value.ListFields()) if hasattr(value, "ListFields") else bool(value)


def without_stray_presses(client_state: ClientState | None) -> ClientState | None:
    """A timer tick's request without the presses it copied on its way out (their own request follows)."""
    if client_state is None or not client_state.is_auto_rerun:
        return client_state
    widgets = client_state.widget_states.widgets
    if not any(is_press(widget) for widget in widgets):
        return client_state
    cleaned = ClientState()
    cleaned.CopyFrom(client_state)
    del cleaned.widget_states.widgets[:]
    cleaned.widget_states.widgets.extend(widget for widget in widgets if not is_press(widget))
    return cleaned


def in_callback() -> bool:
    """Whether this thread is running a widget callback (Streamlit's own bookkeeping; False if it changed)."""
    thread_state = getattr(script_run_context, "ThreadState", None)
    run_location = getattr(script_run_context, "RunLocation", None)
    try:
        return (thread_state is not None and run_location is not None
                and thread_state.get().run_location is run_location.CALLBACK)
    except RuntimeError:  # no script run on this thread
        return False


def holding() -> bool:
    """Whether outside rerun requests wait on this thread: a callback, or code inside ``whole()``."""
    return bool(getattr(_holding, "depth", 0)) or in_callback()


@contextmanager
def whole() -> Iterator[None]:
    """Run a block that must not be cut in two (a batch sent and followed); a request waits until it ends."""
    _holding.depth = getattr(_holding, "depth", 0) + 1
    try:
        yield
    finally:
        _holding.depth -= 1


def _held_yield(original: Callable[..., Any]) -> Callable[..., Any]:
    def on_scriptrunner_yield(self: Any) -> Any:
        if holding():
            return None  # the request stays queued: the run takes it at its first yield after this
        return original(self)
    return on_scriptrunner_yield


def _whole_start(original: Callable[..., Any]) -> Callable[..., Any]:
    def on_script_will_rerun(self: Any, *args: Any, **kwargs: Any) -> None:
        with whole():  # the run reads its own input (a press) and runs its callbacks before any newer request
            original(self, *args, **kwargs)
    return on_script_will_rerun


def _presses_from_their_own_message(original: Callable[..., Any]) -> Callable[..., Any]:
    def request_rerun(self: Any, client_state: ClientState | None) -> None:
        original(self, without_stray_presses(client_state))
    return request_rerun


def _wrap(owner: type, name: str, wrapper_of: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace ``owner.name`` by its wrapper (the original kept as ``__wrapped__``), once."""
    original = getattr(owner, name)
    wrapper = wrapper_of(original)
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)
    setattr(owner, PATCHED, True)


def install() -> bool:
    """Patch Streamlit once per process (idempotent); False when its internals are not the expected shape."""
    try:
        from streamlit.runtime.app_session import AppSession
        from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequests
        from streamlit.runtime.state.safe_session_state import SafeSessionState
    except ImportError:
        return False
    patches = ((ScriptRequests, "on_scriptrunner_yield", _held_yield),
               (SafeSessionState, "on_script_will_rerun", _whole_start),
               (AppSession, "request_rerun", _presses_from_their_own_message))
    if all(getattr(owner, PATCHED, False) for owner, _, _ in patches):
        return True
    with _installing:
        if not (all(callable(getattr(owner, name, None)) for owner, name, _ in patches)
                and hasattr(script_run_context, "ThreadState") and hasattr(script_run_context, "RunLocation")):
            return False
        for owner, name, wrapper_of in patches:
            if not getattr(owner, PATCHED, False):
                _wrap(owner, name, wrapper_of)
    return True
