"""The session's side of the lineup: models Google refused this session, the lane chosen, work moved to a successor,
and the offer to run failed images on another model ("Try on Nano Banana 2.1").

The decisions are ``studio.lineup``'s; this module keeps what outlives a rerun in ``st.session_state``.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from components import services, team
from components.plain import md_escape
from components.state import (
    FALLBACK_ENTRY,
    FALLEN_BACK,
    LANE,
    LANE_CODES,
    LANE_NOW,
    MODEL_NOTES,
    SAVED_LANE,
    SCROLL_TO_RESULTS,
    STORE_REQUESTS,
    UNAVAILABLE_MODELS,
)
from studio import lineup
from studio.catalogue import ModelSpec
from studio.engine import CAPACITY_REASON
from studio.history import Entry
from studio.request import GenerationRequest

FALLBACK_KINDS = ("overloaded", "not_found")  # a full model (503, capacity or past the retry budget), or a 404


def unavailable() -> dict[str, str]:
    """Model IDs Google answered 404 for in this session, with the reason (kept for the session only)."""
    return st.session_state.setdefault(UNAVAILABLE_MODELS, {})


def mark_unavailable(model_id: str, reason: str) -> None:
    unavailable()[model_id] = reason


def add_notes(notes: tuple[str, ...] | list[str]) -> None:
    """Sentences the sidebar shows once (settings mapped onto another model)."""
    if notes:
        st.session_state.setdefault(MODEL_NOTES, []).extend(n for n in notes if n not in
                                                             st.session_state[MODEL_NOTES])


def after_sending() -> None:
    """New work was sent from the Generate page: its cards come into view, and the lane goes back to Now (a batch
    is a choice made per batch). Called before the lane control is drawn in the run (a click's callback, or a
    button drawn above it)."""
    st.session_state[SCROLL_TO_RESULTS] = st.session_state.get(SCROLL_TO_RESULTS, 0) + 1
    st.session_state[LANE] = st.session_state[SAVED_LANE] = LANE_NOW


def lane_label() -> str:
    return str(st.session_state.get(LANE, st.session_state.get(SAVED_LANE)) or LANE_NOW)


def lane() -> str:
    """The lane the radio beside Generate names: ``now``, ``batch`` or ``flex``."""
    return LANE_CODES.get(lane_label(), "now")


def with_account_settings(request: GenerationRequest) -> GenerationRequest:
    """The request as this person sends it: ``store`` from the Account setting (off unless they turn it on)."""
    return replace(request, store=bool(st.session_state.get(STORE_REQUESTS, False)))


def for_new_work(request: GenerationRequest) -> tuple[GenerationRequest, tuple[str, ...]]:
    """A request remade from History, moved to the successor when its model is retired or refused this session."""
    return lineup.for_new_work(request, services.get_catalogue(), unavailable())


def fallback_for(entry: Entry) -> ModelSpec | None:
    """The model a failed entry's images may run on instead: its successor, else the default model."""
    catalogue = services.get_catalogue()
    if not catalogue.is_known(entry.model_id):
        return lineup.default_spec(catalogue, unavailable())
    return lineup.successor(catalogue, catalogue.resolve(entry.model_id), unavailable())


def try_on_label(spec: ModelSpec) -> str:
    return f"Try on {spec.label}"


def _ask_fallback(entry_id: str) -> None:
    st.session_state[FALLBACK_ENTRY] = entry_id


def render_failure_offer(entry: Entry) -> None:
    """Under a failed image: a 404 marks its model unavailable for the session; a full model (503) or a 404
    offers the same image on the fallback model, at one click (or at once, when the team says so)."""
    capacity = CAPACITY_REASON in (entry.failure_detail or "")
    if (entry.failure_kind not in FALLBACK_KINDS and not capacity) or entry.thread_parent_id:
        return
    catalogue = services.get_catalogue()
    label = catalogue.resolve(entry.model_id).label
    if entry.failure_kind == "not_found":
        mark_unavailable(entry.model_id, f"Google answered 404 NOT_FOUND for {entry.model_id}.")
    target = fallback_for(entry)
    if target is None:
        return
    if entry.failure_kind == "not_found":
        known = catalogue.is_known(entry.model_id)
        said = (f"Google does not offer {label} to your credentials any more, so it is not offered for the rest "
                "of this session." if known else f"Google does not know the model {entry.model_id} (404).")
        st.caption(md_escape(f"{said} {target.label} can make this image instead; your prompt and references are "
                             "kept."))
    else:
        st.caption(md_escape(f"{label} has no capacity right now. {target.label} can make this image instead."))
    done = st.session_state.setdefault(FALLEN_BACK, [])
    if entry.id in done:
        return
    if (entry.failure_kind == "overloaded" or capacity) and team.policy().auto_fallback:
        done.append(entry.id)  # once: the team asked for it, and the new attempt is its own History entry
        _ask_fallback(entry.id)
        st.rerun()
    if st.button(try_on_label(target), key=f"fallback_{entry.id}", width="stretch",
                 help="A new attempt of this image on another model, recorded in History as such."):
        done.append(entry.id)
        _ask_fallback(entry.id)
        st.rerun()  # the whole page: the Generate page sends it


def fallback_request(entry: Entry, request: GenerationRequest) -> tuple[GenerationRequest, tuple[str, ...]] | None:
    """The failed entry's request moved to its fallback model, naming the entry it replaces."""
    target = fallback_for(entry)
    if target is None:
        return None
    moved, notes = lineup.onto(request, target)
    source = services.get_catalogue().resolve(entry.model_id).label
    return replace(moved, fallback_from=entry.id), (f"{source} could not make this image; this runs on "
                                                    f"{target.label}.", *notes)
