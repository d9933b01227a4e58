"""Paint to edit on the Edit page: the "Edit area" control, the painted region, Extend and Upscale.

A region edit is a turn of the thread like any edit (``thread_view.submit``, through the job runner); the
request carries a ``studio.regions.RegionEdit`` and the runner keeps every pixel outside the mask exact.
The canvas sends its mask only on "Use this area", so painting never reruns the script.
"""

from __future__ import annotations

import io

import streamlit as st
from PIL import Image

from components import draft_keeper, keyboard, paint_canvas, services, thread_view
from components.plain import md_escape
from components.state import (
    AREA_PAINTED,
    AREA_WHOLE,
    EDIT_AREA,
    EDIT_AREA_KEPT,
    EDIT_AREA_OPEN,
    REGION_MASKS,
    REGION_PICTURE,
    REGION_WHOLE,
)
from studio import threads, turns
from studio.history import Entry, HistoryStore
from studio.regions import RegionEdit, frame, masks
from studio.regions.edit import DEFAULT_FEATHER_PX, MAX_FEATHER_PX, WHOLE_IMAGE_NOTE

AREA_LABEL = "Edit area"
WHOLE = AREA_WHOLE
PAINTED = AREA_PAINTED
REGION_LABEL = "Edit region"
MISSING_IMAGE = ("This version's image file is missing, so there is nothing to paint on. Its recipe is kept: "
                 "pick another version, or edit the whole image.")
MARGINS = "Margins per side"
USE_WHOLE_LABEL = "Use the model's whole image"


def open_region(entry_id: str) -> None:
    """Go to the Edit page with "Painted region" chosen (from a card, the detail view or History)."""
    st.session_state[EDIT_AREA_OPEN] = PAINTED
    thread_view.open_thread(entry_id)


def region_button(entry: Entry, key: str) -> None:
    """The "Edit region" action beside every "Edit"."""
    if st.button(REGION_LABEL, key=key, width="stretch",
                 help="Paint the part of this image to change; every pixel outside it stays exactly as it is"):
        open_region(entry.id)


def chosen_area() -> str:
    """The "Edit area" control; "Edit region" elsewhere opens it on "Painted region", "Edit" on "Whole image".

    Its choice is kept apart from the widget, whose state Streamlit drops while a version is being made
    (the control is not drawn then), so a region edit's new version opens in "Painted region" again."""
    wanted = st.session_state.pop(EDIT_AREA_OPEN, None)
    if wanted is None and EDIT_AREA not in st.session_state:
        wanted = st.session_state.get(EDIT_AREA_KEPT)
    if wanted in (WHOLE, PAINTED):
        st.session_state[EDIT_AREA] = wanted
    st.session_state.setdefault(EDIT_AREA, WHOLE)
    area = st.segmented_control(AREA_LABEL, [WHOLE, PAINTED], key=EDIT_AREA, required=True,
                                help="Whole image: the model redraws the picture. Painted region: only the area "
                                     "you paint may change; every other pixel stays exactly as it is.")
    st.session_state[EDIT_AREA_KEPT] = area
    return PAINTED if area == PAINTED else WHOLE


def render_edit_area(store: HistoryStore, namespace: str, leaf: Entry) -> None:
    """What the Edit page offers under the conversation: the edit box for the chosen area, Extend, Upscale."""
    render_raw_answer(store, namespace, leaf, on_edit_page=True)
    if leaf.thread_parent_id in st.session_state.get(REGION_WHOLE, ()) and not leaf.is_region_edit:
        st.info(WHOLE_IMAGE_NOTE, icon="🖌️")
    area_col, download_col = st.columns([3, 1], vertical_alignment="bottom")  # one row: the instruction stays
    download_col.download_button("Download this version",  # right under the image (issue 22)
                                 data=lambda: store.read_image(namespace, leaf.id) or b"",
                                 file_name=f"version-{leaf.id[:8]}.{leaf.extension}", key=f"region_download_{leaf.id}",
                                 mime=leaf.mime_type or "application/octet-stream", on_click="ignore",
                                 icon=":material/download:", width="stretch")
    with area_col:
        area = chosen_area()
    if area == WHOLE:
        thread_view.render_edit_box(store, namespace, leaf)
    else:
        render_painted_region(store, namespace, leaf)
    render_frame_tools(store, namespace, leaf)


# ---- the composite and the model's raw answer -----------------------------------------------------------


def render_raw_answer(store: HistoryStore, namespace: str, entry: Entry, on_edit_page: bool = False) -> None:
    """A region edit's composite beside the model's whole answer, and "Use the model's whole image"."""
    if not entry.has_raw_answer:
        return
    if entry.region_note:
        st.info(md_escape(entry.region_note), icon="📐")
    with st.expander("The composite and the model's whole answer", expanded=not on_edit_page):
        composite_col, raw_col = st.columns(2)
        composite = store.read_image(namespace, entry.id)
        raw = store.read_raw(namespace, entry.id)
        kept = "the picture kept exactly, the new area" if entry.region_mode == "extend" else "the painted area only"
        for column, data, caption in ((composite_col, composite, f"The composite (this version): {kept} from "
                                       "the model"),
                                      (raw_col, raw, "The model's whole answer, as it drew it")):
            if data is None:
                column.warning("This picture's file is missing.", icon="🖼️")
            else:
                column.image(data, caption=caption, width="stretch")
        if st.button(USE_WHOLE_LABEL, key=f"use_raw_{entry.id}", width="stretch", disabled=raw is None,
                     help="Keep the model's whole picture as a version of its own; this version stays"):
            try:
                made = threads.use_whole_image(store, namespace, entry.id)
            except (threads.RegionError, ValueError) as exc:
                st.error(md_escape(str(exc)), icon="🖼️")
                return
            if on_edit_page:
                thread_view.select(made.id)
                st.rerun()
            thread_view.open_thread(made.id)


# ---- the painted region ---------------------------------------------------------------------------------


def _image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


def version_image(store: HistoryStore, namespace: str, leaf: Entry) -> bytes | None:
    """The version's picture, or the placeholder and a plain message when its file is missing."""
    try:
        return threads.base_image(store, namespace, leaf)
    except threads.RegionError as exc:
        st.warning(f"{MISSING_IMAGE} ({md_escape(str(exc))})", icon="🖼️")
        return None


def painted_mask(leaf: Entry) -> bytes | None:
    """The mask painted for this version (at its image's size), or None."""
    kept = st.session_state.get(REGION_MASKS, {}).get(leaf.id)
    return kept[1] if kept else None


def _take_canvas_value(leaf: Entry, image: bytes) -> bool:
    """Keep what the canvas sent last (once per press of "Use this area"), scaled to the image's size.

    False (with a plain message) when the picture cannot be read."""
    shown = st.session_state.get(REGION_PICTURE)
    if not shown or shown[0] != leaf.id:  # decoded once per version, not on every rerun (a 4K PNG is slow)
        try:
            shown = st.session_state[REGION_PICTURE] = (leaf.id, paint_canvas.shown_picture(image))
        except (OSError, ValueError, Image.DecompressionBombError):
            st.warning("This version's image file cannot be read, so there is nothing to paint on. Its recipe is "
                       "kept: pick another version, or edit the whole image.", icon="🖼️")
            return False
    value = paint_canvas.paint_canvas(shown[1], key=f"paint_{leaf.id}")
    if value is None:
        return True
    kept = st.session_state.setdefault(REGION_MASKS, {})
    nonce = str(value.get("nonce") or "")
    if leaf.id in kept and kept[leaf.id][0] == nonce:
        return True
    png = paint_canvas.mask_png(value)
    if png is None:
        st.error("The painted area did not arrive as a picture. Press “Use this area” again.", icon="🖌️")
        return True
    try:
        kept[leaf.id] = (nonce, masks.to_png(masks.load_mask(png, _image_size(image))))
    except (OSError, ValueError):
        st.error("The painted area did not arrive as a picture. Press “Use this area” again.", icon="🖌️")
    return True


def _mask_status(mask: bytes | None) -> None:
    check = masks.check_mask(mask)
    if check.state == "empty":
        st.caption("Paint the area the model may change, then press **Use this area**.")
    elif check.state == "whole":
        st.info(check.message, icon="🖌️")
    else:
        st.caption(f"Painted area: {check.share:.0%} of the image. Every pixel outside it stays exactly as it is.")


def render_painted_region(store: HistoryStore, namespace: str, leaf: Entry) -> None:
    """The canvas over the current version, the instruction, the soft edge and "Apply edit"."""
    image = version_image(store, namespace, leaf)
    if image is None:
        return
    if not _take_canvas_value(leaf, image):
        return
    mask = painted_mask(leaf)
    _mask_status(mask)
    instruction = st.text_area("Edit instruction", key=f"edit_text_{leaf.id}", height=72,
                               placeholder="Replace the sky with a sunset")
    feather = st.slider("Soft edge (pixels)", 0, MAX_FEATHER_PX, DEFAULT_FEATHER_PX, key=f"region_feather_{leaf.id}",
                        help="How far the change fades into the untouched picture around the painted area")
    spec = services.get_catalogue().resolve(leaf.model_id)
    st.caption(f"Estimated cost: ${spec.estimate_cost(leaf.image_size, 1, references=2):.3f}")
    keyboard.submit_on_ctrl_enter(f"edit_text_{leaf.id}", f"region_apply_{leaf.id}")
    draft_keeper.keep_draft(f"edit_text_{leaf.id}", sent_with=f"region_apply_{leaf.id}")
    if st.button("Apply edit", type="primary", key=f"region_apply_{leaf.id}", width="stretch"):
        apply_region(store, namespace, leaf, image, mask, instruction, feather)


def apply_region(store: HistoryStore, namespace: str, leaf: Entry, image: bytes, mask: bytes | None,
                 instruction: str, feather: int) -> None:
    """Send the painted region: nothing when it is empty, a whole-image edit (said so) when it is everything."""
    check = masks.check_mask(mask)
    if not check.can_send:
        st.error(check.message, icon="🖌️")
        st.caption("Painted already? Press **Use this area** above the picture to hand the painted area over, "
                   "then apply the edit.")
        return
    if not instruction.strip():
        st.error("Write an edit instruction first: say what to change.", icon="✋")
        return
    if check.state == "whole":
        st.session_state.setdefault(REGION_WHOLE, []).append(leaf.id)  # said again beside the new version
        thread_view.apply_edit(store, namespace, leaf, instruction, leaf.aspect_ratio, leaf.image_size, [])
        return
    region = RegionEdit(mode="paint", base=image, mask_png=mask or b"", feather_px=feather)
    send_region(store, namespace, leaf, instruction.strip(), region)


def send_region(store: HistoryStore, namespace: str, leaf: Entry, instruction: str, region: RegionEdit,
                aspect_ratio: str | None = None) -> None:
    """One region turn of the thread (paint, extend or upscale) through the job runner, as "Apply edit" does.

    The user turn carries the picture itself, so a version whose thread cannot be continued is still edited."""
    try:
        earlier = threads.turns_from_store(store, namespace, leaf.id)
    except turns.TurnError:
        earlier = []
    request = threads.region_request(thread_view.base_request(leaf), leaf, earlier, instruction, region,
                                     aspect_ratio=aspect_ratio)
    size_on_wire = turns.estimated_body_size(request.conversation, request)
    if size_on_wire > turns.INLINE_REQUEST_LIMIT:
        st.error(turns.too_large_message(size_on_wire), icon="🧵")
        return
    thread_view.submit(request, leaf)


# ---- Extend and Upscale ---------------------------------------------------------------------------------


def render_frame_tools(store: HistoryStore, namespace: str, leaf: Entry) -> None:
    """"Extend" (a larger canvas the model fills) and "Upscale to 2K/4K", each with its cost before sending."""
    with st.expander("Extend or upscale"):
        image = version_image(store, namespace, leaf)
        if image is None:
            return
        try:
            _image_size(image)
        except (OSError, ValueError):
            st.warning("This version's image file cannot be read, so it cannot be extended or upscaled.", icon="🖼️")
            return
        render_extend(store, namespace, leaf, image)
        render_upscale(store, namespace, leaf, image)


def _extend_plan(leaf: Entry, size: tuple[int, int]) -> frame.ExtendPlan | None:
    spec = services.get_catalogue().resolve(leaf.model_id)
    ratios = [r for r in spec.ratios if r != leaf.aspect_ratio]
    choice = st.selectbox("New aspect ratio", [*ratios, MARGINS], key=f"extend_ratio_{leaf.id}")
    if choice != MARGINS:
        return frame.plan_for_ratio(size, choice)
    cols = st.columns(4)
    sides = [cols[i].number_input(f"{side} (pixels)", 0, 4096, 0, step=16, key=f"extend_{side.lower()}_{leaf.id}")
             for i, side in enumerate(("Left", "Top", "Right", "Bottom"))]
    if not any(sides):
        return None
    return frame.plan_for_margins(size, (int(sides[0]), int(sides[1]), int(sides[2]), int(sides[3])), spec.ratios)


def render_extend(store: HistoryStore, namespace: str, leaf: Entry, image: bytes) -> None:
    st.markdown("**Extend**: a larger canvas; the model fills the new area and the picture stays exactly as it is.")
    size = _image_size(image)
    plan = _extend_plan(leaf, size)
    if plan is None or plan.size == size:
        st.caption("Choose a wider or taller aspect ratio, or add margins, to make room around the picture.")
        return
    spec = services.get_catalogue().resolve(leaf.model_id)
    cost = spec.estimate_cost(leaf.image_size, 1, references=2)
    st.caption(f"New canvas {plan.size[0]} × {plan.size[1]} ({plan.aspect_ratio}) · estimated cost ${cost:.3f}")
    wish = st.text_input("What to show in the new area (optional)", key=f"extend_text_{leaf.id}",
                         placeholder="Continue the beach and the sky")
    if st.button("Extend", key=f"extend_apply_{leaf.id}", width="stretch"):
        instruction = wish.strip() or "Extend the picture into the new area."
        send_region(store, namespace, leaf, instruction, frame.extend_region(image, plan),
                    aspect_ratio=plan.aspect_ratio)


def render_upscale(store: HistoryStore, namespace: str, leaf: Entry, image: bytes) -> None:
    spec = services.get_catalogue().resolve(leaf.model_id)
    targets = [t for t in frame.upscale_targets(leaf.image_size) if t in spec.sizes]
    if not targets:
        st.caption(f"Upscale works on a 1K or 2K image the model can make larger; this one is {leaf.image_size} "
                   f"on {spec.label}.")
        return
    st.markdown("**Upscale**: the model draws this picture again at a higher resolution, as a new version.")
    for column, target in zip(st.columns(len(targets)), targets, strict=True):
        cost = frame.upscale_cost(spec, target)
        column.caption(f"Upscale to {target}: estimated cost ${cost:.3f}")
        if column.button(f"Upscale to {target}", key=f"upscale_{target}_{leaf.id}", width="stretch"):
            send_region(store, namespace, leaf, f"Upscale to {target}", frame.upscale_region(image, target))
