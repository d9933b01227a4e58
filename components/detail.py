"""The detail view of one generation: full image, recipe, answer, numbers, and its actions."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from components import grounding_view, region_editor, semantic_search, services, thread_view, uploader
from components.plain import md_escape
from components.state import DELETED_ENTRIES, RERUN_ENTRY
from studio import images, roles
from studio.history import Entry
from studio.recipes import entry_recipe

_DIALOG_CSS = ("<style>[role='dialog'] [data-testid='stImage'] img {max-height: 58vh; width: auto; "
               "max-width: 100%; object-fit: contain; margin: 0 auto;}</style>")
MISSING_FILE = "Image file missing: it was removed from the studio's folder. The entry and its recipe are kept."


def file_name(entry: Entry) -> str:
    return f"nano-banana-{entry.created.strftime('%Y%m%d-%H%M%S')}-{entry.id[:8]}.{entry.extension}"


def download_button(entry: Entry, key: str, label: str = "Download",
                    width: Literal["stretch", "content"] = "stretch") -> None:
    """Offer the original bytes; read from disk only when clicked."""
    store, namespace = services.get_store(), services.current_namespace()
    st.download_button(label, data=lambda: store.read_image(namespace, entry.id) or b"", file_name=file_name(entry),
                       mime=entry.mime_type or "application/octet-stream", key=key, on_click="ignore",
                       icon=":material/download:", width=width, help=None if label else "Download")


def reuse_settings(entry: Entry, with_references: bool) -> None:
    uploader.apply_recipe(entry_recipe(entry))
    if with_references:
        st.session_state[uploader.REFERENCES] = services.get_store().read_references(
            services.current_namespace(), entry.id)


def references_fact(entry: Entry) -> str:
    """How many references, with their roles in order when any was tagged."""
    tagged = [str(role) for role in entry.settings.get("reference_roles") or []]
    return f"{entry.references_count} ({', '.join(tagged)})" if roles.any_tagged(tagged) else str(entry.references_count)


def _seed(entry: Entry) -> str:
    seed = entry.settings.get("seed")
    return "random" if seed is None else str(seed)


def render_entry_facts(entry: Entry) -> None:
    """Prompt (as plain text, never markdown), settings and numbers."""
    st.caption("Prompt")
    st.text(entry.prompt)
    spec = services.get_catalogue().resolve(entry.model_id)
    facts = {
        "Model": f"{spec.label} ({entry.model_id})", "Aspect ratio": entry.aspect_ratio,
        "Resolution": entry.image_size, "Pixels": f"{entry.width} × {entry.height}" if entry.width else "—",
        "Format": entry.output_format, "Seed": _seed(entry), "References": references_fact(entry),
        "Grounding": "Google Search" if entry.settings.get("grounding") else "off",
        "Status": entry.status, "Time": f"{entry.latency_s:.2f} s over {entry.attempts} attempt(s)",
        "Tokens": f"{entry.prompt_tokens} in · {entry.output_tokens} out · {entry.thoughts_tokens} thinking · "
                  f"{entry.total_tokens} total",
        "Cost": f"${entry.cost_usd:.4f} from recorded usage" if entry.status == "ok" else "$0 (not billed)"
        if entry.status in ("blocked", "failed") else "—",
        "Estimated": f"${entry.estimated_cost_usd:.4f} before sending", "Model version": entry.model_version or "—",
        "Response id": entry.response_id or "—",
    }
    # every row shown (no inner scrolling): the table's height follows its rows
    st.dataframe({"Detail": list(facts), "Value": [str(v) for v in facts.values()]}, hide_index=True,
                 width="stretch", height=35 * (len(facts) + 1) + 3)
    if entry.text:
        st.caption("The model's text")
        st.text(entry.text)
    if entry.failure_message:
        st.error(md_escape(entry.failure_message))


def render_thinking(entry: Entry) -> None:
    """The model's drafts and thinking text, kept with the entry (drafts are never billed)."""
    store, namespace = services.get_store(), services.current_namespace()
    drafts = store.read_drafts(namespace, entry.id)
    if not drafts and not entry.thought_text:
        return
    with st.expander(f"The model's thinking · {len(drafts)} draft{'s' if len(drafts) != 1 else ''}"):
        if drafts:
            columns = st.columns(min(4, len(drafts)))
            for i, draft in enumerate(drafts):
                columns[i % len(columns)].image(draft.data, caption=f"Draft {i + 1} · {draft.width} × {draft.height}",
                                                width="stretch")
        if entry.thought_text:
            st.text(entry.thought_text)


def render_image(entry: Entry) -> bool:
    """The full image, or a plain placeholder when its file is gone; True when the bytes are there."""
    data = services.get_store().read_image(services.current_namespace(), entry.id)
    if data is None:
        st.warning(MISSING_FILE, icon="🖼️")
        return False
    st.image(data, width="stretch")
    return True


@st.dialog("Generation", width="large")
def show_detail(entry_id: str) -> None:
    store, namespace = services.get_store(), services.current_namespace()
    entry = store.get(namespace, entry_id)
    if entry is None:
        st.warning("This generation was deleted.")
        return
    st.html(_DIALOG_CSS)  # the picture fits the screen's height, so its actions are in view under it
    present = render_image(entry) if entry.has_image else False
    if entry.has_image:  # the actions right under the image, in two rows so no label is cut
        render_detail_actions(entry, present)
    region_editor.render_raw_answer(services.get_store(), services.current_namespace(), entry)
    grounding_view.render_entry_sources(entry)  # Google requires a grounded image's sources beside it
    render_entry_facts(entry)
    render_thinking(entry)


def render_detail_actions(entry: Entry, present: bool) -> None:
    store, namespace = services.get_store(), services.current_namespace()
    download, edit, use_ref = st.columns(3)
    reuse, rerun, more, delete = st.columns(4)
    with download:
        download_button(entry, key=f"detail_download_{entry.id}")
    with edit:
        thread_view.edit_button(entry, key=f"detail_edit_{entry.id}")
        region_editor.region_button(entry, key=f"detail_region_{entry.id}")
    if use_ref.button("Use as reference", key=f"detail_ref_{entry.id}", width="stretch", disabled=not present):
        ref, _ = images.load_reference(file_name(entry), store.read_image(namespace, entry.id) or b"")
        uploader.references().append(ref)
        st.rerun()
    reuse.button("Reuse settings", key=f"detail_reuse_{entry.id}", width="stretch", on_click=reuse_settings,
                 args=(entry, True))
    if rerun.button("Re-run", key=f"detail_rerun_{entry.id}", width="stretch"):
        st.session_state[RERUN_ENTRY] = entry.id
        st.rerun()
    with more:
        semantic_search.more_like_button(entry, key=f"detail_more_{entry.id}", leave_page=True)
    if delete.button("Delete", key=f"detail_delete_{entry.id}", width="stretch"):
        store.delete(namespace, entry.id)
        st.session_state.setdefault(DELETED_ENTRIES, []).append(entry.id)
        st.rerun()
