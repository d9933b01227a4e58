"""The Edit page's pieces: the tree of versions, the conversation so far, "Apply edit" and "Start fresh".

An edit goes through the job runner like any batch, so it survives clicks and reloads; the version shown
is in the URL (``?entry=<id>``), so a reload or a link from History days later opens the same thread.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import auth, compare, draft_keeper, jobs, keyboard, models, services, team
from components.plain import md_escape
from components.state import AREA_WHOLE, EDIT_AREA_OPEN, EDIT_ENTRY
from studio import images, threads, turns
from studio.history import Entry, HistoryStore
from studio.recipes import entry_recipe, request_from_recipe
from studio.request import GenerationRequest, ReferenceImage

EDIT_PAGE = "app_pages/edit.py"
STATUS_ICONS = {"ok": "🖼️", "running": "⏳", "blocked": "🚫", "failed": "⚠️", "cancelled": "🛑", "interrupted": "⚡"}
FRESH_LABEL = "Start fresh from this image"
DELETED_ICON = "🗑️"


def open_thread(entry_id: str) -> None:
    """Go to the Edit page showing this version (from a card, the detail view or History)."""
    st.session_state[EDIT_ENTRY] = entry_id
    st.switch_page(EDIT_PAGE, query_params={"entry": entry_id})


def edit_button(entry: Entry, key: str) -> None:
    """The "Edit" action every image has."""
    if st.button("Edit", key=key, width="stretch",
                 help="Edit this image like a conversation: each instruction makes a new version"):
        st.session_state[EDIT_AREA_OPEN] = AREA_WHOLE
        open_thread(entry.id)


def selected_entry_id() -> str | None:
    """The version asked for: the URL first (a reload, a link), else this session's last one."""
    from_url = st.query_params.get("entry")
    if from_url:
        st.session_state[EDIT_ENTRY] = from_url
        return str(from_url)
    chosen = st.session_state.get(EDIT_ENTRY)
    if chosen:
        st.query_params["entry"] = chosen
    return chosen


def select(entry_id: str) -> None:
    st.session_state[EDIT_ENTRY] = entry_id
    st.query_params["entry"] = entry_id


def _tree_thumbnail(store: HistoryStore, namespace: str, version: Entry) -> None:
    data = store.read_thumbnail(namespace, version.id) if version.has_image and version.deleted_at is None else None
    if data:
        st.image(data, width=40)
    else:
        st.markdown(f"<div class='nb-tree-empty'>{DELETED_ICON if version.deleted_at else STATUS_ICONS.get(version.status, '•')}"
                    "</div>", unsafe_allow_html=True)


def render_tree(store: HistoryStore, namespace: str, entry: Entry, tree: list[tuple[Entry, int]],
                numbers: dict[str, int]) -> None:
    """Every version as a tree of thumbnails (branches indented under the version they continue); a click shows it."""
    st.subheader("Versions")
    for version, depth in tree:
        indent = "\u2003" * depth + ("└ " if depth else "")
        row = st.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False,
                           key=f"nbtree_d{min(depth, 6)}_{version.id}")
        with row:
            _tree_thumbnail(store, namespace, version)
            if version.deleted_at is not None:  # kept because a later version continues it: a placeholder
                st.button(f"{indent}v{numbers[version.id]} {DELETED_ICON} deleted", key=f"thread_pick_{version.id}",
                          width="stretch", disabled=True,
                          help="This version was deleted; it stays in the thread because later versions continue it")
                continue
            icon = STATUS_ICONS.get(version.status, "•")
            text = f"{indent}v{numbers[version.id]} {icon} {md_escape(version.prompt, limit=33)}"  # labels are markdown
            if st.button(text, key=f"thread_pick_{version.id}", width="stretch",
                         type="primary" if version.id == entry.id else "secondary"):
                select(version.id)
                st.rerun()


def render_current(store: HistoryStore, namespace: str, entry: Entry, number: int) -> None:
    """The version being edited, large (bounded to the screen's height so the instruction stays in view)."""
    with st.container(key="edit_current"):
        if entry.is_running:
            st.info(f"v{number} is being made…", icon="⏳")
        elif entry.has_image:
            data = store.read_image(namespace, entry.id)
            if data is None:
                st.warning("This version's file is missing; its recipe is kept.", icon="🖼️")
            else:
                st.image(data, caption=f"v{number} · {entry.aspect_ratio} · {entry.image_size}", width="stretch")
        else:
            st.error(f"v{number} failed: " + md_escape(entry.failure_message or "no image."), icon="⚠️")


def render_conversation(store: HistoryStore, namespace: str, chain: list[Entry], numbers: dict[str, int]) -> None:
    """The turns so far as a strip of thumbnails, root first: what the next edit sends back to the model."""
    st.markdown("**The conversation so far**")
    with st.grid(min_column_width=120, gap="small", key="edit_strip") as strip:
        for turn in chain:
            with strip.cell():
                if turn.deleted_at is not None:
                    st.caption(f"v{numbers[turn.id]} was deleted. Its turn is still sent with edits that continue "
                               "it, so the model sees the whole conversation.")
                    continue
                data = store.read_thumbnail(namespace, turn.id) if turn.has_image else None
                if data:
                    st.image(data, width="stretch")
                else:
                    st.markdown(f"<div class='nb-tile-empty'>{STATUS_ICONS.get(turn.status, '•')}</div>",
                                unsafe_allow_html=True)
                st.caption(f"v{numbers[turn.id]} · " + md_escape(turn.prompt, limit=80))
                if turn.references_count:
                    st.caption(f"with {turn.references_count} reference image(s)")


def _extra_references(leaf: Entry) -> list[ReferenceImage] | None:
    """References added for this turn only; None (with a message) when one cannot be used."""
    uploads = st.file_uploader("Extra references for this edit", accept_multiple_files=True,
                               type=["png", "jpg", "jpeg", "webp", "heic", "heif"], key=f"edit_refs_{leaf.id}")
    refs: list[ReferenceImage] = []
    for upload in uploads or []:
        try:
            ref, _notes = images.load_reference(upload.name, upload.getvalue())
        except images.ImageInputError as exc:
            st.error(md_escape(str(exc)))
            return None
        refs.append(ref)
    return refs


def _submit(request: GenerationRequest, continues: Entry) -> None:
    request, notes = models.for_new_work(request)  # an edit of a retired model's image runs on its successor
    models.add_notes(notes)  # shown after the page moves to the new turn
    if not auth.ensure_fresh_token() or not team.check_spend(request):
        return
    job = jobs.submit(models.with_account_settings(request), parent_id=continues.id)
    if job is not None and job.entry_ids:
        select(job.entry_ids[0])
        st.rerun()


def _base_request(leaf: Entry) -> GenerationRequest:
    return request_from_recipe(entry_recipe(leaf), count=1)


submit, base_request = _submit, _base_request  # region edits (components/region_editor.py) go the same way


def apply_edit(store: HistoryStore, namespace: str, leaf: Entry, instruction: str, ratio: str, size: str,
               references: list[ReferenceImage]) -> None:
    """Send one edit of ``leaf``: the thread so far, then the instruction (through the job runner)."""
    if not instruction.strip():
        st.error("Write an edit instruction first: say what to change.", icon="✋")
        return
    try:
        earlier = threads.turns_from_store(store, namespace, leaf.id)
    except turns.TurnError as exc:
        st.error(md_escape(str(exc)), icon="🧵")
        return
    request = threads.edit_request(_base_request(leaf), leaf, earlier, instruction.strip(), aspect_ratio=ratio,
                                   image_size=size, references=references)
    size_on_wire = turns.estimated_body_size(request.conversation, request)
    if size_on_wire > turns.INLINE_REQUEST_LIMIT:
        st.error(turns.too_large_message(size_on_wire), icon="🧵")
        return
    _submit(request, leaf)


def start_fresh(store: HistoryStore, namespace: str, source: Entry, instruction: str) -> None:
    """A new conversation with just this image (Google's advice when edits drift); the old thread stays."""
    if not instruction.strip():
        st.error("Write an edit instruction first: it starts the new conversation with this image.", icon="✋")
        return
    data = store.read_image(namespace, source.id)
    if data is None:
        st.error("This image's file is missing, so a new conversation cannot start from it.", icon="🖼️")
        return
    try:
        ref, _notes = images.load_reference(f"version-{source.id[:8]}.{source.extension}", data)
    except images.ImageInputError as exc:
        st.error(md_escape(str(exc)))
        return
    _submit(threads.fresh_request(_base_request(source), ref, instruction.strip()), source)


def render_edit_options(leaf: Entry) -> tuple[str, str, list[ReferenceImage] | None]:
    """This turn's ratio, size and extra references (drawn under the buttons, read before them)."""
    spec = services.get_catalogue().resolve(leaf.model_id)
    ratio_col, size_col = st.columns(2)
    ratios = list(spec.ratios)
    ratio = ratio_col.selectbox("Aspect ratio for this edit", ratios, key=f"edit_ratio_{leaf.id}",
                                index=ratios.index(leaf.aspect_ratio) if leaf.aspect_ratio in ratios else 0)
    sizes = list(spec.sizes)
    size = size_col.selectbox("Resolution for this edit", sizes, key=f"edit_size_{leaf.id}",
                              index=sizes.index(leaf.image_size) if leaf.image_size in sizes else 0)
    return ratio, size, _extra_references(leaf)


def render_edit_box(store: HistoryStore, namespace: str, leaf: Entry) -> None:
    """The instruction, "Apply edit" and "Start fresh" right under it, then this turn's ratio, size and references."""
    instruction = st.text_area("Edit instruction", key=f"edit_text_{leaf.id}", height=72,
                               placeholder="Make the sky stormy, keep everything else")
    buttons = st.container()  # filled once the options below are read: the buttons stay next to the instruction
    ratio, size, references = render_edit_options(leaf)
    with buttons:
        apply_col, fresh_col = st.columns(2)
        if apply_col.button("Apply edit", type="primary", key=f"edit_apply_{leaf.id}", width="stretch",
                            disabled=references is None or not leaf.can_continue):
            apply_edit(store, namespace, leaf, instruction, ratio, size, references or [])
        if fresh_col.button(FRESH_LABEL, key=f"edit_fresh_{leaf.id}", width="stretch",
                            help="Begin a new conversation with just this image and the instruction above. "
                                 "Useful when edits start to drift; this thread stays as it is."):
            start_fresh(store, namespace, leaf, instruction)
        if not leaf.can_continue:
            st.caption("The model's own answer for this image was not kept (it was made before edit threads, or "
                       "came from an older export), so it cannot be continued as a conversation: start fresh from "
                       "it instead.")
    keyboard.submit_on_ctrl_enter(f"edit_text_{leaf.id}", f"edit_apply_{leaf.id}")  # as Generate's prompt box
    draft_keeper.keep_draft(f"edit_text_{leaf.id}", sent_with=f"edit_apply_{leaf.id}")  # unsent: survives a reload


def render_failed_turn(store: HistoryStore, namespace: str, turn: Entry) -> None:
    """A failed edit is a turn of the thread, not its end: say what happened and how to go on."""
    continued = store.get(namespace, turn.thread_parent_id) if turn.thread_parent_id else None
    if turn.failure_kind == "invalid_request":
        st.error("Google refused to continue this thread" + (f": {md_escape(turn.failure_detail)}"
                 if turn.failure_detail else ".") + " The conversation may have expired or grown too large. "
                 "Nothing in the thread is lost: start fresh from the last image, or edit an earlier version.",
                 icon="🧵")
    else:
        st.warning("This edit did not make an image. Nothing in the thread is lost: change the instruction "
                   "and apply it again, or pick another version.", icon="⚠️")
    if continued is None or not continued.has_image:
        return
    again_col, fresh_col = st.columns(2)
    if again_col.button("Edit the previous version again", key=f"edit_back_{turn.id}", width="stretch",
                        help="Back to the version this edit started from, with its instruction ready to change"):
        st.session_state[f"edit_text_{continued.id}"] = turn.prompt  # the instruction is kept, to rephrase
        select(continued.id)
        st.rerun()
    if fresh_col.button(FRESH_LABEL, key=f"edit_fresh_failed_{turn.id}", width="stretch",
                        help="A new conversation with just the last good image and this instruction"):
        start_fresh(store, namespace, continued, turn.prompt)


def shown_versions(versions: list[Entry]) -> list[Entry]:
    """The versions the tree shows: every kept one, and each deleted one a kept version still continues."""
    by_id = {v.id: v for v in versions}
    needed: set[str] = set()
    for version in versions:
        if version.deleted_at is not None:
            continue
        parent = by_id.get(version.thread_parent_id or "")
        while parent is not None and parent.id not in needed:
            needed.add(parent.id)
            parent = by_id.get(parent.thread_parent_id or "")
    return [v for v in versions if v.deleted_at is None or v.id in needed]


def render_compare_pick(versions: list[Entry], entry: Entry, numbers: dict[str, int]) -> None:
    """Compare any two versions of the thread: the version's parent and itself unless the person picks others."""
    pictures = sorted((v for v in versions if v.has_image and v.deleted_at is None), key=lambda v: numbers[v.id])
    if len(pictures) < 2 or not entry.has_image:
        return
    st.subheader("Compare")
    ids = [v.id for v in pictures]
    by_id = {v.id: v for v in pictures}
    parent = entry.thread_parent_id if entry.thread_parent_id in by_id else next(i for i in ids if i != entry.id)
    names = {v.id: f"v{numbers[v.id]} · {v.prompt[:40]}" for v in pictures}
    before_col, after_col = st.columns(2)
    first = before_col.selectbox("Before", ids, index=ids.index(parent), format_func=names.__getitem__,
                                 key=f"compare_before_{entry.id}")
    second = after_col.selectbox("After", ids, index=ids.index(entry.id), format_func=names.__getitem__,
                                 key=f"compare_after_{entry.id}")
    compare.render_compare(by_id[first], by_id[second], key=f"thread_{entry.id}",
                           first_label=compare.label(by_id[first], numbers[first]),
                           second_label=compare.label(by_id[second], numbers[second]))


def render_thread(store: HistoryStore, namespace: str, entry: Entry,
                  edit_box: Callable[[HistoryStore, str, Entry], None] | None = None) -> None:
    """The thread of ``entry``: the version large, the instruction under it, the turns so far, the tree, Compare.

    ``edit_box`` draws what comes next for a finished version (the Edit page's region editor); by default the
    whole-image edit box."""
    versions = shown_versions(store.thread_entries(namespace, entry.thread_root, include_deleted=True))
    chain = store.thread_chain(namespace, entry.id)
    versions += [turn for turn in chain if turn.id not in {v.id for v in versions}]
    numbers = {v.id: i for i, v in enumerate(sorted(versions, key=lambda v: v.created_at), start=1)}
    jobs.redraw_while_work_runs(any(v.is_running for v in versions))
    main_col, tree_col = st.columns([5, 2], gap="large")
    with main_col:
        st.subheader(f"Editing v{numbers[entry.id]}")
        render_current(store, namespace, entry, numbers[entry.id])
        if entry.is_running:
            st.caption("The edit is on its way; this page updates when it lands.")
        elif entry.has_image:
            (edit_box or render_edit_box)(store, namespace, entry)
        else:
            render_failed_turn(store, namespace, entry)
        render_conversation(store, namespace, chain, numbers)
        render_compare_pick(versions, entry, numbers)
    with tree_col:
        render_tree(store, namespace, entry, threads.version_tree(versions), numbers)
