"""Generate: prompt, reference images, the Generate button, and this session's live grid.

Generate only submits a job to the process-wide runner and returns: the prompt box, the sidebar and
Generate stay usable while batches run, and nothing in flight is lost to a click, a page switch or a reload.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from components import (
    auth,
    banner,
    draft_keeper,
    jobs,
    keyboard,
    models,
    page_js,
    prompt_assist,
    services,
    sidebar,
    team,
    uploader,
)
from components.gallery import RESULTS_KEY, render_gallery
from components.state import (
    FALLBACK_ENTRY,
    LANE,
    LANE_BATCH,
    LANE_CODES,
    LANE_FLEX,
    LANE_NOW,
    PARENT_ENTRY,
    PROMPT,
    RERUN_ENTRY,
    RETRY_ENTRY,
    SAVED_LANE,
    SAVED_PROMPT,
    SCROLL_TO_RESULTS,
    SCROLLED_TO_RESULTS,
)
from studio import threads, turns
from studio.catalogue import ModelSpec
from studio.recipes import entry_recipe, request_from_recipe
from studio.request import GenerationRequest, problems_with, warnings_for


def current_request() -> GenerationRequest:
    """The request the prompt box and sidebar describe right now."""
    state = st.session_state
    spec = sidebar.selected_spec(services.get_catalogue())
    seed = state.get("seed")
    return GenerationRequest(
        prompt=state.get(PROMPT, ""), model_id=spec.model_id, aspect_ratio=state.get("aspect_ratio", "1:1"),
        image_size=state.get("image_size", "1K"), output_format=state.get("output_format", "PNG"),
        jpeg_quality=int(state.get("jpeg_quality", 90)), count=int(state.get("count", 1)),
        references=tuple(uploader.references()), seed=None if seed is None else int(seed),
        temperature=state.get("temperature"), system_instruction=(state.get("system_instruction") or None),
        include_thoughts=bool(state.get("include_thoughts")), lane=models.lane(),
        grounding=sidebar.grounding_on(spec), image_search=sidebar.image_search_on(spec),
        thinking_level=sidebar.thinking_level(spec))


def request_from_entry(entry_id: str) -> tuple[GenerationRequest, str | None] | None:
    """One image made again exactly: its own seed (image i of a batch used seed + i), its references.

    Returns the request and the parent to record: the entry's own parent, because a retry or a
    re-run is the same prompt again, not a new version of it.
    """
    store, namespace = services.get_store(), services.current_namespace()
    entry = store.get(namespace, entry_id)
    if entry is None:
        return None
    request = request_from_recipe(entry_recipe(entry), store.read_references(namespace, entry.id), count=1)
    request, notes = models.for_new_work(request)  # a retired model's entry runs on its successor
    for note in notes:
        st.info(note, icon="🔁")
    if entry.thread_parent_id:  # an edit: the same instruction again on the same version, with its thread
        continued = store.get(namespace, entry.thread_parent_id, include_deleted=True)
        try:
            earlier = threads.turns_from_store(store, namespace, entry.thread_parent_id) if continued else []
        except turns.TurnError:
            earlier = []
        if continued is None or not earlier:
            st.error("The version this edit continued is gone, so it cannot be made again in its thread. "
                     "Open the thread with Edit and start fresh from an image.")
            return None
        request = threads.edit_request(request, continued, earlier, entry.prompt, references=request.references)
        try:  # a region edit: the same mask, feather and margins on the same version (issue 23)
            region = threads.region_of(store, namespace, entry)
        except threads.RegionError as exc:
            st.error(str(exc))
            return None
        if region is not None:
            request = replace(request, region=region)
    return request, entry.parent_id


def _generate(request: GenerationRequest, parent_id: str | None) -> None:
    if not auth.ensure_fresh_token() or not team.check_spend(request):
        return
    jobs.submit(models.with_account_settings(request), parent_id=parent_id)
    st.session_state[SCROLL_TO_RESULTS] = st.session_state.get(SCROLL_TO_RESULTS, 0) + 1


def _sendable_at_click(request: GenerationRequest) -> bool:
    """The plain case, which Generate's callback sends: nothing needs a message beside the button (a token to
    renew, a spending cap, a request to refuse). Decided the same way in the callback and in the run."""
    return (auth.token_ready() and team.spend_uncapped()
            and not problems_with(request, services.get_catalogue()))


def _submit_at_click() -> None:
    """Generate's callback: a callback runs first in the click's rerun, so the batch leaves before the page is
    redrawn (the images arrive that much sooner). Whatever needs a message is left to the run itself."""
    request = current_request()
    if _sendable_at_click(request):
        jobs.submit(models.with_account_settings(request), parent_id=st.session_state.get(PARENT_ENTRY))
        models.after_sending()


def _pending_rerun() -> tuple[GenerationRequest, str | None] | None:
    """A re-run or retry asked for from a card, the detail view or the History page; or a failed image to
    make on its fallback model ("Try on …")."""
    for key in (RERUN_ENTRY, RETRY_ENTRY):
        entry_id = st.session_state.pop(key, None)
        if entry_id:
            return request_from_entry(entry_id)
    entry_id = st.session_state.pop(FALLBACK_ENTRY, None)
    return _fallback(entry_id) if entry_id else None


def _fallback(entry_id: str) -> tuple[GenerationRequest, str | None] | None:
    """The failed image again on its fallback model: a new attempt that names the entry it replaces."""
    store, namespace = services.get_store(), services.current_namespace()
    entry = store.get(namespace, entry_id)
    if entry is None:
        return None
    request = request_from_recipe(entry_recipe(entry), store.read_references(namespace, entry.id), count=1)
    moved = models.fallback_request(entry, request)
    if moved is None:
        return None
    for note in moved[1]:
        st.info(note, icon="🔁")
    return moved[0], entry.parent_id


LANE_WORDS = {LANE_NOW: "Now", LANE_BATCH: "Batch", LANE_FLEX: "Flex"}


def button_label(spec: ModelSpec, lane: str) -> str:
    """What Generate will do and what it costs, the word Generate first ("Generate 4 images · $0.54")."""
    count = int(st.session_state.get("count") or 1)
    cost = f"${sidebar.estimate(spec, lane)[0]:.2f}"
    if lane == "batch":
        return f"Generate {count} in a batch · {cost} · within 24 h"
    if lane == "flex":
        return f"Generate {count} on Flex · {cost} · in minutes"
    return f"Generate {count} image{'s' if count != 1 else ''} · {cost}"


def prompt_box() -> None:
    """The prompt box (a container others may add a button beside); kept in this browser across reloads."""
    if PROMPT not in st.session_state:  # back from another page: the box's state was dropped there
        st.session_state[PROMPT] = st.session_state.get(SAVED_PROMPT, "")
    st.text_area("Prompt", key=PROMPT, height=120, on_change=lambda: uploader.set_prompt(st.session_state[PROMPT]),
                 placeholder="A banana-yellow vintage scooter parked on a rainy Tokyo street at night, neon "
                             "reflections…", help="Ctrl+Enter (⌘+Enter on a Mac) generates.")
    prompt_assist.render_prompt_tools(current_request)


def _lane_choices(spec: ModelSpec) -> list[str]:
    if LANE not in st.session_state:  # back from another page: the control's state was dropped there
        st.session_state[LANE] = st.session_state.get(SAVED_LANE, LANE_NOW)
    lanes = [label for label in (LANE_NOW, LANE_BATCH, LANE_FLEX) if LANE_CODES[label] in spec.lanes] or [LANE_NOW]
    if st.session_state[LANE] not in lanes:  # the sidebar has said so when the model changed
        st.session_state[LANE] = LANE_NOW
    return lanes


def generate_row(spec: ModelSpec, request: GenerationRequest, parent: str | None) -> None:
    """Generate, saying what it will do and cost, with the Now / Batch / Flex control beside it."""
    lanes = _lane_choices(spec)
    row = st.container(horizontal=True, vertical_alignment="center", key="generate_row")  # others may add to it
    button, lane = row.container(width="content"), row.container(width="content")
    lane.segmented_control(
        "Lane", lanes, key=LANE, required=True, format_func=lambda label: LANE_WORDS.get(label, label), label_visibility="collapsed",
        on_change=lambda: st.session_state.update({SAVED_LANE: st.session_state[LANE]}),
        help="Now: images arrive in seconds. Batch: Google's Batch API makes them at half the price within "
             "24 hours (usually much sooner); they land in History even if you close the studio and come "
             "back later." + (f" Flex: Google makes them at {spec.price_share('flex'):.0%} of the price when "
                              "it has room, in minutes rather than seconds; they arrive here like Now's."
                              if LANE_FLEX in lanes else ""))
    if button.button(button_label(spec, models.lane()), type="primary", icon=":material/auto_awesome:",
                     key="generate", on_click=_submit_at_click):
        if not _sendable_at_click(request):  # otherwise the callback has sent it
            _generate(request, parent)
    elif (pending := _pending_rerun()) is not None:
        _generate(*pending)


def _scroll_to_results() -> None:
    """After Generate, bring the new cards into view (once per press: the count makes each script new)."""
    pressed = st.session_state.get(SCROLL_TO_RESULTS, 0)
    if pressed and st.session_state.get(SCROLLED_TO_RESULTS) != pressed:
        st.session_state[SCROLLED_TO_RESULTS] = pressed
        page_js.run("scroll_results", SCROLL_SCRIPT, results=RESULTS_KEY, pressed=pressed)


SCROLL_SCRIPT = """
const started = Date.now();
const scroll = () => {
  const results = document.querySelector(".st-key-" + ARGS.results);
  if (!results) { if (Date.now() - started < 5000) setTimeout(scroll, 50); return; }
  const top = results.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.6) results.scrollIntoView({ block: "start" });
};
scroll();
"""


def render() -> None:
    spec = sidebar.selected_spec(services.get_catalogue())
    title, chip = st.columns([3, 2], vertical_alignment="center")
    title.title("Generate")
    with chip:
        banner.render_offline_banner()
    prompt_box()
    uploader.render_reference_picker(spec)
    request = current_request()
    for warning in warnings_for(request, services.get_catalogue()) if request.model_id else []:
        st.warning(warning)
    parent = st.session_state.get(PARENT_ENTRY)
    if parent:
        note, drop = st.columns([5, 1], vertical_alignment="center")
        note.caption("This will be saved as a new version of an earlier prompt.")
        if drop.button("Not a version", key="drop_parent"):
            st.session_state.pop(PARENT_ENTRY, None)
            st.rerun()
    generate_row(spec, request, parent)
    render_gallery()
    keyboard.submit_on_ctrl_enter(PROMPT, "generate")
    draft_keeper.keep_draft(PROMPT)
    _scroll_to_results()


render()
