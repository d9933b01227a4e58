"""The control sidebar: model, ratio, resolution, format, count, seed, advanced settings, cost.

Only the choices the selected model supports are offered; switching model keeps what still fits.
Widget keys are the session_state keys the History page restores into.
"""

from __future__ import annotations

import random

import streamlit as st

from components import services
from components.state import LANE, LANE_BATCH, PRIVATE_RELEASED, REFERENCES, SAVED_LANE, SESSION_ENTRIES
from studio.catalogue import Catalogue, ModelSpec
from studio.request import BATCH_PRICE_SHARE, MAX_IMAGES_PER_BATCH, MAX_IMAGES_PER_BATCH_LANE

DEFAULTS = {"model_key": "pro", "aspect_ratio": "1:1", "image_size": "1K", "output_format": "PNG",
            "jpeg_quality": 90, "count": 1, "seed": None, "temperature": 1.0, "system_instruction": "",
            "include_thoughts": False, "custom_model_id": "", "grounding": False}
GROUNDING_LABEL = "Grounding with Google Search"


def selected_spec(catalogue: Catalogue) -> ModelSpec:
    custom = str(st.session_state.get("custom_model_id") or "").strip()
    if custom:
        return catalogue.resolve(custom)
    return catalogue.by_key(st.session_state.get("model_key", "pro"))


def _fit_to_model(spec: ModelSpec, sizes: tuple[str, ...]) -> None:
    """Keep the ratio and size when the new model takes them; otherwise fall back to its defaults."""
    if st.session_state.get("aspect_ratio") not in spec.ratios:
        st.session_state["aspect_ratio"] = "1:1"
    if st.session_state.get("image_size") not in sizes:
        st.session_state["image_size"] = spec.default_size if spec.default_size in sizes else sizes[0]


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
    """The search toggle, only for models that can search; its value waits while another model is chosen."""
    if not spec.supports_search:
        return
    st.toggle(GROUNDING_LABEL, key="grounding",
              help="The model searches Google before drawing (today's weather, a recent event, a real place). "
                   "The image then shows Google's search suggestions and the sources it used.")


def grounding_on(spec: ModelSpec) -> bool:
    """Whether the next request searches: the toggle, for a model that can."""
    return bool(st.session_state.get("grounding")) and spec.supports_search


def _render_session_totals(connected: bool) -> None:
    """What this session's images cost, from the usage Google recorded (blocked images are free)."""
    ids = st.session_state.get(SESSION_ENTRIES) or []
    if not connected or not ids:
        return
    spent, estimated = services.get_store().total_cost(services.current_namespace(), list(ids))
    st.caption(f"This session: **${spent:.3f}** from recorded usage (estimated ${estimated:.3f} before sending)")


def render_sidebar(connected: bool) -> ModelSpec:
    """Draw the controls; returns the selected model's spec."""
    catalogue = services.get_catalogue()
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    for key in (*DEFAULTS, services.PRIVATE):
        if key in st.session_state:
            # re-own the value: a page switch from inside a run (History → Generate) would otherwise
            # reset widget-held settings to their defaults (streamlit#8425)
            st.session_state[key] = st.session_state[key]
    with st.sidebar:
        st.selectbox("Model", [m.key for m in catalogue], key="model_key",
                     format_func=lambda k: f"{catalogue.by_key(k).label} · {catalogue.by_key(k).model_id}",
                     help="Nano Banana Pro is the most faithful; Nano Banana 2 adds 512 px and extreme ratios; "
                          "Nano Banana is the cheapest, 1K only.")
        spec = selected_spec(catalogue)
        if connected:
            _render_model_news(spec)
        sizes = spec.sizes if connected else tuple(s for s in spec.sizes if s != "4K")
        _fit_to_model(spec, sizes)
        st.selectbox("Aspect ratio", list(spec.ratios), key="aspect_ratio")
        st.radio("Resolution", list(sizes), key="image_size", horizontal=True)
        width, height = spec.pixel_size(st.session_state["aspect_ratio"], st.session_state["image_size"])
        st.caption(f"Output: **{width} × {height} px**")
        if "4K" in spec.sizes and not connected:
            st.caption("🔒 4K unlocks once you connect with an API key, Google sign-in or offline mode.")
        if spec.size_is_ignored:
            st.caption(f"{spec.label} makes 1K images only.")
        st.radio("Output format", ["PNG", "JPEG"], key="output_format", horizontal=True)
        if st.session_state["output_format"] == "JPEG":
            st.slider("JPEG quality", 1, 100, key="jpeg_quality")
        batch_lane = st.session_state.get(LANE, st.session_state.get(SAVED_LANE)) == LANE_BATCH
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
        full = spec.estimate_cost(st.session_state["image_size"], st.session_state["count"], refs)
        cost = full * (BATCH_PRICE_SHARE if batch_lane else 1.0)
        st.metric("Estimated cost", f"${cost:.3f}",
                  delta=f"-${full - cost:.3f} batch lane, half price" if batch_lane else None, delta_color="inverse",
                  help=f"{st.session_state['count']} × ${spec.price_per_image(st.session_state['image_size']):.3f} "
                       f"per image + {refs} reference image(s) × ${spec.usd_per_input_image} each"
                       + (", at half price in the batch lane" if batch_lane else "")
                       + ". Blocked images are not billed.")
        _render_session_totals(connected)
        st.divider()
        st.toggle("Private session", key=services.PRIVATE,
                  help="Keep this session's work in memory only, never on disk; it is released when the session "
                       "ends or after an hour unused.")
        if st.session_state.pop(PRIVATE_RELEASED, False):
            st.info("Your private session was unused for over an hour, so its work was released from memory.")
    return spec
