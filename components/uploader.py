"""Reference images: upload, check, order, remove; and restoring a recipe from a studio file.

A file's name is the uploader's text, not ours: it is shown as plain characters wherever it appears (the
strip's captions, the Remove button's help, every message), never read as markdown.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from components.plain import md_escape
from components.state import FOUND_RECIPE, PROMPT, REFERENCES, SAVED_PROMPT, UPLOADER_ROUND
from components.state import UPLOAD_NOTICES as NOTICES
from studio import images, roles
from studio.catalogue import ModelSpec
from studio.recipes import SETTINGS
from studio.request import ReferenceImage


def references() -> list[ReferenceImage]:
    return st.session_state.setdefault(REFERENCES, [])


def _add_files(uploaded: list, spec: ModelSpec) -> None:
    refs = references()
    notices: list[tuple[str, str]] = []
    for file in uploaded:
        data = file.getvalue()
        recipe = images.read_recipe(data)
        if recipe and recipe.get("prompt"):
            st.session_state[FOUND_RECIPE] = recipe
        if len(refs) >= spec.max_references:
            notices.append(("error", f"{md_escape(file.name)} was not added: {spec.label} takes at most "
                                     f"{spec.max_references} reference images."))
            continue
        try:
            ref, notes = images.load_reference(file.name, data)
        except images.ImageInputError as exc:
            notices.append(("error", md_escape(str(exc))))
            continue
        refs.append(replace(ref, role=roles.suggested(file.name)) if roles.normalized(ref.role) == roles.OTHER else ref)
        notices += [("info", md_escape(note)) for note in notes]
    st.session_state[NOTICES] = notices
    st.session_state[UPLOADER_ROUND] = st.session_state.get(UPLOADER_ROUND, 0) + 1  # empties the widget


NAME_CHARS = 16  # a name longer than this is cut with an ellipsis in the strip (the whole name is its tooltip)
STRIP_COLUMNS = 6


def short_name(name: str, limit: int = NAME_CHARS) -> str:
    """A file name cut to fit under its thumbnail, keeping the extension ("a-very-long-na….png")."""
    if len(name) <= limit:
        return name
    _stem, dot, ext = name.rpartition(".")
    tail = f".{ext}" if dot and len(ext) <= 4 else ""
    return name[: max(1, limit - len(tail) - 1)] + "…" + tail


def render_reference_picker(spec: ModelSpec) -> None:
    """The uploader plus the references as a compact strip: thumbnail, role, reorder, ✕ (in a container others
    may add a button to)."""
    refs = references()
    round_ = st.session_state.get(UPLOADER_ROUND, 0)
    uploaded = st.file_uploader(
        "Reference images", accept_multiple_files=True, key=f"reference_uploader_{round_}",
        help=f"Up to {spec.max_references} images, in the order you want them sent. PNG, JPEG, WebP or GIF; large "
             "images are downscaled before sending.")
    if uploaded:
        _add_files(uploaded, spec)
        st.rerun()
    for level, message in st.session_state.pop(NOTICES, []):
        (st.error if level == "error" else st.caption)(message)
    _render_found_recipe()
    if not refs:
        return
    head, clear = st.columns([5, 1], vertical_alignment="center")
    head.caption(f"{len(refs)} of {spec.max_references} reference images · sent in this order · "
                 f"{roles.limits_text(spec)}")
    if clear.button("Clear all", key="refs_clear_all"):
        refs.clear()
        st.rerun()
    with st.container(key="reference_strip"):
        for start in range(0, len(refs), STRIP_COLUMNS):
            columns = st.columns(STRIP_COLUMNS, gap="small")
            for i in range(start, min(start + STRIP_COLUMNS, len(refs))):
                with columns[i - start]:
                    _strip_tile(i, refs[i], len(refs))
    for problem in roles.problems([ref.role for ref in refs], spec):
        st.error(problem, icon="✋")


def _strip_tile(i: int, ref: ReferenceImage, total: int) -> None:
    """One reference: its thumbnail, its number and cut name, its role, and ← → ✕."""
    tag = ref.sha256[:8]
    st.image(ref.data, width=88)
    st.caption(f"{i + 1}\\. {md_escape(short_name(ref.name))}", help=md_escape(ref.name))
    _role_picker(i, ref)
    from components import prompt_assist  # Describe: the assistant's side of a reference

    prompt_assist.render_describe(i, ref)
    with st.container(horizontal=True, gap="small"):
        st.button("←", key=f"ref_left_{i}_{tag}", help=f"Send {md_escape(ref.name)} earlier", disabled=i == 0,
                  on_click=_move, args=(i, -1))
        st.button("→", key=f"ref_right_{i}_{tag}", help=f"Send {md_escape(ref.name)} later",
                  disabled=i == total - 1, on_click=_move, args=(i, 1))
        st.button("✕", key=f"ref_remove_{i}_{tag}", help=f"Remove {md_escape(ref.name)}", on_click=_remove,
                  args=(i,))


def _move(index: int, step: int) -> None:
    refs = references()
    other = index + step
    if 0 <= index < len(refs) and 0 <= other < len(refs):
        refs[index], refs[other] = refs[other], refs[index]


def _remove(index: int) -> None:
    refs = references()
    if 0 <= index < len(refs):
        refs.pop(index)


def role_key(index: int, ref: ReferenceImage) -> str:
    return f"ref_role_{index}_{ref.sha256[:8]}"


def _role_picker(index: int, ref: ReferenceImage) -> None:
    """What this reference is for; the reference list holds the truth, the widget shows it."""
    key = role_key(index, ref)
    st.session_state[key] = ref.role  # after a removal, a restore or a reorder the widget follows the list
    st.selectbox("Role", roles.ROLES, key=key, format_func=str.capitalize, on_change=_set_role, args=(index, key),
                 label_visibility="collapsed")


def _set_role(index: int, key: str) -> None:
    refs = references()
    if index < len(refs):
        refs[index] = replace(refs[index], role=roles.normalized(st.session_state.get(key)))


def _render_found_recipe() -> None:
    recipe = st.session_state.get(FOUND_RECIPE)
    if not recipe:
        return
    with st.container(border=True):
        st.markdown("**This image was made in the studio.** Restore its recipe?")
        st.text(str(recipe.get("prompt", ""))[:300])
        restore, dismiss = st.columns(2)
        restore.button("Restore recipe", key="recipe_restore", type="primary", on_click=_restore_found_recipe)
        if dismiss.button("Dismiss", key="recipe_dismiss"):
            st.session_state.pop(FOUND_RECIPE, None)
            st.rerun()


def _restore_found_recipe() -> None:
    apply_recipe(st.session_state.pop(FOUND_RECIPE, {}))


def set_prompt(text: str) -> None:
    """Set the prompt box, and its copy that survives pages where the box is not drawn."""
    st.session_state[PROMPT] = text
    st.session_state[SAVED_PROMPT] = text


def apply_recipe(recipe: dict) -> None:
    """Put a recipe's prompt and settings into the prompt box and sidebar widgets.

    Call from an on_click callback: widget values can only change before the widgets are drawn.
    """
    from components import services

    catalogue = services.get_catalogue()
    model_id = str(recipe.get("model") or "")
    matching = [m.key for m in catalogue if m.model_id == model_id]
    if matching:
        st.session_state["model_key"] = matching[0]
        st.session_state["custom_model_id"] = ""
    elif model_id:
        st.session_state["custom_model_id"] = model_id
    set_prompt(str(recipe.get("prompt") or ""))
    for key in SETTINGS:
        if recipe.get(key) is not None:
            st.session_state[key] = recipe[key]
