"""The control sidebar: model, ratio, resolution, format, count, seed, advanced settings, cost.

Only the choices the selected model supports are offered; switching model keeps what still fits.
Widget keys are the session_state keys the History page restores into.
"""

from __future__ import annotations

import random

import streamlit as st

from components import live_wait, models, prompt_assist, services
from components.state import (
    FITTED_MODEL,
    LANE,
    LANE_CODES,
    LANE_NOW,
    MODEL_NOTES,
    PAGE_SETTINGS,
    PRIVATE_RELEASED,
    REFERENCES,
    SAVED_LANE,
    SESSION_ENTRIES,
)
from studio import lineup
from studio.catalogue import Catalogue, ModelSpec
from studio.request import MAX_IMAGES_PER_BATCH, MAX_IMAGES_PER_BATCH_LANE

DEFAULTS = {"model_key": None, "aspect_ratio": "1:1", "image_size": "1K", "output_format": "PNG",
            "jpeg_quality": 90, "count": 1, "seed": None, "temperature": 1.0, "system_instruction": "",
            "include_thoughts": False, "custom_model_id": "", "grounding": False, "thinking_level": None,
            "image_search": False}
GROUNDING_LABEL = "Grounding with Google Search"
IMAGE_SEARCH_LABEL = "Grounding with Google Image Search"
THINKING_LABEL = "Thinking level"


def selected_spec(catalogue: Catalogue) -> ModelSpec:
    """The model new work goes to: a custom ID, else the chosen offered model, else the default one."""
    custom = str(st.session_state.get("custom_model_id") or "").strip()
    if custom:
        return catalogue.resolve(custom)
    choices = lineup.offered(catalogue, models.unavailable())
    key = st.session_state.get("model_key")
    for spec in choices:
        if spec.key == key:
            return spec
    return lineup.default_spec(catalogue, models.unavailable())


def _settle_model_key(catalogue: Catalogue, choices: tuple[ModelSpec, ...]) -> None:
    """A new session starts on the default model; a retired or refused choice moves to its successor, said plainly."""
    key = st.session_state.get("model_key")
    if key in [spec.key for spec in choices]:
        return
    default = lineup.default_spec(catalogue, models.unavailable())
    if key is not None:
        try:
            old = catalogue.by_key(str(key))
        except KeyError:
            old = None
        target = (lineup.successor(catalogue, old, models.unavailable()) if old is not None else None) or default
        if old is not None and target.key != old.key:
            models.add_notes([old.retirement_note(target) if not old.offered else
                              f"{old.label} is not available to your credentials; {target.label} is chosen instead."])
        default = target
    st.session_state["model_key"] = default.key


def _model_help(choices: tuple[ModelSpec, ...]) -> str:
    """What each offered model has, from its spec (no model fact is written here)."""
    lines = []
    for spec in choices:
        facts = [f"{len(spec.ratios)} aspect ratios", "/".join(spec.sizes)]
        if spec.thinking_levels:
            facts.append("thinking " + "/".join(level.title() for level in spec.thinking_levels))
        if lineup.has_web_search(spec):
            facts.append("Google Search")
        facts.append(f"${spec.price_per_image(spec.default_size):.3f} per {spec.default_size} image")
        lines.append(f"**{spec.label}**: {', '.join(facts)}")
    return "  \n".join(lines)


def _fit_to_model(spec: ModelSpec, sizes: tuple[str, ...]) -> None:
    """Keep what the new model takes; map the rest to the nearest setting it has, with a note saying so."""
    state = st.session_state
    switched = state.get(FITTED_MODEL) != spec.model_id
    state[FITTED_MODEL] = spec.model_id
    lane_code = LANE_CODES.get(models.lane_label(), "now")
    fitted = lineup.fit(spec, aspect_ratio=str(state.get("aspect_ratio") or "1:1"),
                        image_size=str(state.get("image_size") or spec.default_size),
                        thinking_level=state.get("thinking_level"), grounding=switched and bool(state.get("grounding")),
                        image_search=switched and bool(state.get("image_search")), lane=lane_code, sizes=sizes)
    state["aspect_ratio"], state["image_size"] = fitted.aspect_ratio, fitted.image_size
    if fitted.thinking_level is not None:  # a model without levels leaves the choice waiting for the next one
        state["thinking_level"] = fitted.thinking_level
    if fitted.lane != lane_code:
        state[LANE] = state[SAVED_LANE] = LANE_NOW
    models.add_notes(list(fitted.notes))


def _randomize_seed() -> None:
    st.session_state["seed"] = random.randint(0, 2**31 - 1)


def _use_model(model_id: str) -> None:
    st.session_state["custom_model_id"] = model_id


def _render_model_news(spec: ModelSpec) -> None:
    """Say when Google stopped listing the chosen model, and offer image models the catalogue lacks."""
    check = services.model_check()
    if check is None:
        return
    note = check.missing_note(spec.model_id)
    if note:
        st.warning(note, icon="🔎")
    for model_id in check.new_image_models[:3]:
        st.button(f"Try {model_id}", key=f"use_model_{model_id}", on_click=_use_model, args=(model_id,),
                  help="An image model your credentials can use that the studio does not know yet: it is sent "
                       "as is, with generic limits.")


def _render_grounding(spec: ModelSpec) -> None:
    """The search toggles, only for models that can search; their values wait while another model is chosen."""
    if lineup.has_web_search(spec):
        st.toggle(GROUNDING_LABEL, key="grounding",
                  help="The model searches Google before drawing (today's weather, a recent event, a real place). "
                       "The image then shows Google's search suggestions and the sources it used.")
    if lineup.has_image_search(spec):
        st.toggle(IMAGE_SEARCH_LABEL, key="image_search",
                  help="The model also looks at pictures Google Image Search finds; their sources show with the "
                       "image, like web search's.")


def grounding_on(spec: ModelSpec) -> bool:
    """Whether the next request searches the web: the toggle, for a model that can."""
    return bool(st.session_state.get("grounding")) and lineup.has_web_search(spec)


def image_search_on(spec: ModelSpec) -> bool:
    return bool(st.session_state.get("image_search")) and lineup.has_image_search(spec)


def thinking_level(spec: ModelSpec) -> str | None:
    """The level the next request asks for, for a model that has levels (None: the field is not sent)."""
    level = st.session_state.get("thinking_level")
    return level if spec.thinking_levels and level in spec.thinking_levels else None


def _render_thinking(spec: ModelSpec) -> None:
    if spec.thinking_levels:
        st.selectbox(THINKING_LABEL, list(spec.thinking_levels), key="thinking_level", format_func=str.title,
                     help="How long the model thinks before drawing: more thinking follows a complex prompt more "
                          "closely and takes longer (thinking is billed as output text).")


def estimate(spec: ModelSpec, lane: str) -> tuple[float, float, float]:
    """What the next Generate costs (the sidebar's settings, the references, the lane's share): the cost, the
    full price and the share. The Generate button and the sidebar say the same figure."""
    refs = len(st.session_state.get(REFERENCES, []))
    full = spec.estimate_cost(str(st.session_state.get("image_size") or spec.default_size),
                              int(st.session_state.get("count") or 1), refs)
    share = spec.price_share(lane) if lane in spec.lanes else 1.0
    return full * share, full, share


def _share_words(share: float) -> str:
    return "half price" if share == 0.5 else f"{share:.0%} of the price"


def _render_session_totals(connected: bool) -> None:
    """What this session's images cost, from the usage Google recorded (blocked images are free)."""
    ids = st.session_state.get(SESSION_ENTRIES) or []
    assisted, assist_estimate = prompt_assist.session_spend()  # the prompt assistant's text-model calls
    if not connected or not (ids or assist_estimate):
        return
    spent, estimated = services.get_store().total_cost(services.current_namespace(), list(ids)) if ids else (0.0, 0.0)
    spent, estimated = spent + assisted, estimated + assist_estimate
    st.caption(f"This session: **${spent:.3f}** from recorded usage (estimated ${estimated:.3f} before sending)")


def _render_editing_sidebar(connected: bool) -> None:
    """On the Edit page only what applies to an edit: it keeps its version's model; ratio and size sit under it."""
    with st.sidebar:
        st.caption("Edits use the model of the version you edit; its aspect ratio, resolution and extra "
                   "references are under the image. Generate's settings are kept for when you go back.")
        for note in st.session_state.pop(MODEL_NOTES, None) or []:  # e.g. the version's model was retired
            st.info(note, icon="🔁")
        _render_session_totals(connected)
        st.toggle("Private session", key=services.PRIVATE,
                  help="Keep this session's work in memory only, never on disk; it is released when the session "
                       "ends or after an hour unused.")


def render_sidebar(connected: bool, editing: bool = False) -> None:
    """Draw the controls (on the Edit page only an edit's: ``editing``).

    Generate's settings are one ``st.fragment``: a change that only the sidebar shows (seed, ratio, the advanced
    settings) reruns the sidebar alone, not the page, its grid and its page scripts; the output format and JPEG
    quality are a fragment inside it. A change the page shows too (the model, resolution or count on the
    Generate button) reruns the page.
    """
    catalogue = services.get_catalogue()
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    for key in (*DEFAULTS, services.PRIVATE):
        if key in st.session_state:
            # re-own the value: a page switch from inside a run (History → Generate) would otherwise
            # reset widget-held settings to their defaults (streamlit#8425)
            st.session_state[key] = st.session_state[key]
    choices = lineup.offered(catalogue, models.unavailable())
    _settle_model_key(catalogue, choices)
    if editing:
        _render_editing_sidebar(connected)
        return
    with st.sidebar:
        _settings_fragment(connected)


def _page_settings(catalogue: Catalogue) -> tuple[object, ...]:
    """What the page itself draws from the sidebar's settings (the Generate button's label and cost, the
    reference limits, which store History reads): when one changes, the page reruns too."""
    state = st.session_state
    return (selected_spec(catalogue).model_id, state.get("image_size"), state.get("count"),
            bool(state.get(services.PRIVATE)))


@st.fragment
def _settings_fragment(connected: bool) -> None:
    """The settings, run alone when one of them changes; a change the page shows too reruns the page first
    (before anything is drawn or a note is taken, so the page's run shows them).

    What a setting shows or hides sits in a slot (``st.empty``) that is always drawn, a shown widget inside a
    container there: while work runs the live panel's next run can start before this run's end reaches the
    browser, and Streamlit then tells the browser this run ended early, so it never sweeps away what the run
    no longer drew; and it keeps a widget replaced by another element until that sweep (the JPEG quality slider
    stayed until the batch ended). A container replaced by the empty slot goes at once.
    """
    catalogue = services.get_catalogue()
    if (live_wait.in_fragment_run() and st.session_state.get(PAGE_SETTINGS) != _page_settings(catalogue)
            and not live_wait.full_rerun_pending()):  # a page switch or a click reruns the page anyway
        st.rerun()
    _render_settings(connected, catalogue)
    st.session_state[PAGE_SETTINGS] = _page_settings(catalogue)


@st.fragment
def _format_fragment() -> None:
    """Output format and JPEG quality, a fragment inside the settings': nothing else shows the format, so a
    format change reruns these two alone."""
    st.radio("Output format", ["PNG", "JPEG"], key="output_format", horizontal=True)
    quality = st.empty()  # a slot: PNG leaves it empty, JPEG puts the slider in a container there
    if st.session_state["output_format"] == "JPEG":
        quality.container().slider("JPEG quality", 1, 100, key="jpeg_quality")


def _render_settings(connected: bool, catalogue: Catalogue) -> None:
    """Generate's controls in the sidebar."""
    choices = lineup.offered(catalogue, models.unavailable())
    labels = {spec.key: f"{spec.label} · {spec.model_id}" for spec in choices}
    st.selectbox("Model", list(labels), key="model_key", format_func=lambda k: labels.get(k, k),
                 help=_model_help(choices))
    spec = selected_spec(catalogue)
    if connected:
        _render_model_news(spec)
    sizes = spec.sizes if connected else tuple(s for s in spec.sizes if s != "4K")
    _fit_to_model(spec, sizes)
    notes_slot = st.empty()  # a slot (see _settings_fragment)
    if notes := st.session_state.pop(MODEL_NOTES, None):
        with notes_slot.container():
            for note in notes:
                st.info(note, icon="🔁")
    st.selectbox("Aspect ratio", list(spec.ratios), key="aspect_ratio")
    st.radio("Resolution", list(sizes), key="image_size", horizontal=True)
    width, height = spec.pixel_size(st.session_state["aspect_ratio"], st.session_state["image_size"])
    st.caption(f"Output: **{width} × {height} px**")
    if "4K" in spec.sizes and not connected:
        st.caption("🔒 4K unlocks once you connect with an API key, Google sign-in or offline mode.")
    if spec.size_is_ignored or len(spec.sizes) == 1:
        st.caption(f"{spec.label} makes {spec.default_size} images only.")
    _render_thinking(spec)
    _format_fragment()
    lane = models.lane()
    batch_lane = lane == "batch"
    most = MAX_IMAGES_PER_BATCH_LANE if batch_lane else MAX_IMAGES_PER_BATCH
    if st.session_state["count"] > most:  # back from the batch lane: the Now lane sends at most 8 at once
        st.session_state["count"] = most
    st.slider("Images", 1, most, key="count",
              help="Each image is its own request, all sent at once." if not batch_lane else
                   f"The batch lane takes up to {most} images in one Google batch.")
    seed_col, dice_col = st.columns([4, 1], vertical_alignment="bottom")
    seed_col.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="seed",
                          placeholder="random", help="Same seed and settings → the same picture (image i "
                                                     "of a batch uses seed + i).")
    dice_col.button("🎲", key="seed_randomize", on_click=_randomize_seed, help="Pick a random seed")
    _render_grounding(spec)
    with st.expander("Advanced"):
        st.slider("Temperature", 0.0, 2.0, step=0.05, key="temperature")
        st.text_area("System instruction", key="system_instruction", height=80,
                     placeholder="e.g. You are a product photographer. Always use soft studio light.")
        st.checkbox("Show the model's thoughts and drafts", key="include_thoughts",
                    disabled=not spec.supports_thoughts)
        st.text_input("Custom model ID", key="custom_model_id", placeholder="e.g. gemini-3-pro-image-002",
                      help="For a model Google renamed or added: sent as is, with generic limits.")
    refs = len(st.session_state.get(REFERENCES, []))
    cost, full, share = estimate(spec, lane)
    words = {"batch": "batch lane", "flex": "flex lane"}.get(lane, "")
    st.metric("Estimated cost", f"${cost:.3f}",
              delta=f"-${full - cost:.3f} {words}, {_share_words(share)}" if share < 1 else None,
              delta_color="inverse",
              help=f"{st.session_state['count']} × ${spec.price_per_image(st.session_state['image_size']):.3f} "
                   f"per image + {refs} reference image(s) × ${spec.usd_per_input_image} each"
                   + (f", at {_share_words(share)} in the {words}" if share < 1 else "")
                   + ". Blocked images are not billed.")
    with st.empty():
        _render_session_totals(connected)
    st.divider()
    st.toggle("Private session", key=services.PRIVATE,
              help="Keep this session's work in memory only, never on disk; it is released when the session "
                   "ends or after an hour unused.")
    released = st.empty()
    if st.session_state.pop(PRIVATE_RELEASED, False):
        released.info("Your private session was unused for over an hour, so its work was released from memory.")
