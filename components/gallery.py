"""This session's generations as a live, paged grid, newest first, with the running jobs above it.

It is one fragment. While an image of this identity is in flight it polls (``run_every``) and each
timer run waits on the runner's change signal, so an image shows the moment it lands; when nothing
runs it stops polling. Paging, opening and cancelling rerun only this fragment, never the page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import SimpleNamespace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import (
    auth,
    detail,
    grounding_view,
    jobs,
    live_wait,
    models,
    page_js,
    region_editor,
    semantic_search,
    services,
    thread_view,
)
from components.plain import md_escape, thought_headline
from components.state import LIVE_ACTIVE, LIVE_FINISHING, LIVE_VERSION, RETRY_ENTRY
from studio import images
from studio.history import Entry
from studio.jobs import ImageState, ImageView, JobRunner, JobView

PAGE_SIZE = 24
RESULTS_KEY = "session_results"  # the container of the running jobs and the grid (Generate scrolls to it)
GALLERY_PAGE = "gallery_page"  # the grid's page number widget
COLUMNS = 4
# While something runs the timer ticks often, and each timer run waits (up to WAIT_BUDGET_S) on the runner's
# change signal: Streamlit drops ticks that queue behind a running fragment, so runs follow one another and an
# image is drawn as it lands, not at the next tick. The budget is long on purpose: a run that ends without a
# change still redraws every card, and a click landing on that redraw waited for it (8 in flight: sidebar
# changes took 195 ms with a 0.9 s budget, 146 ms with 4.9 s; docs/PERFORMANCE.md). Clicks never wait on it.
POLL_S = float(os.environ.get("STUDIO_POLL_S") or 0.1)
WAIT_BUDGET_S = float(os.environ.get("STUDIO_WAIT_S") or 4.9)
DRAFT_SETTLE_S = 0.15  # how long a run waits for the first draft once the thinking has started
PICTURE_FLUSH_S = 0.05  # how long a run that drew a live picture waits for it to leave for the browser
BATCH_POLL_S = float(os.environ.get("STUDIO_BATCH_PANEL_S") or 5.0)  # a batch takes minutes to hours
BATCH_WORDS = {"submitting": "sending", "pending": "waiting at Google", "running": "being made",
               "succeeded": "collecting", "cancelling": "Cancelling…"}
STATE_WORDS = {ImageState.QUEUED: "Waiting in line", ImageState.SENDING: "Sent to the model",
               ImageState.DRAFTING: "Drafting"}


def _running_card(entry: Entry, live: ImageView | None, job: JobView | None) -> None:
    if live is None or job is None:
        st.info("Being made by another session or server…", icon="⏳")
        return
    if job.lane == "batch":  # hours, not seconds: no timer, and a batch is cancelled whole from its header
        st.info(md_escape(live.note or "In Google's batch lane."), icon="🕓")
        return
    # the live pictures travel inline (data: URLs): they show with the message that carries them, and a
    # picture the next fragment run replaces is never a file the browser asks for after Streamlit dropped it
    if live.preview:
        st.image(images.data_url(live.preview, "image/jpeg"), caption="Saving to History…", width="stretch")
        _send_now()
        return
    if live.draft is not None:
        st.image(images.data_url(live.draft.data, live.draft.mime_type),
                 caption=f"Draft {live.drafts_seen} · the final image follows", width="stretch")
        _send_now()
    if live.draft is None:
        _placeholder(entry, live)
    if live.note:
        st.caption(md_escape(live.note))
    if live.thought_text:
        st.caption("💭 " + md_escape(thought_headline(live.thought_text)))
    st.button("Cancel", key=f"cancel_{entry.id}", width="stretch", on_click=jobs.cancel,
              args=(job.id, live.index), help="Stop this image. A request already sent may still be billed.")


PLACEHOLDER_STYLE = (
    "<style>.studio-placeholder { display: flex; flex-direction: column; align-items: center; justify-content: "
    "center; gap: .25rem; width: 100%; border-radius: .5rem; background: rgba(128, 128, 128, .12); "
    "color: inherit; font-size: .9rem; text-align: center; padding: .5rem; box-sizing: border-box; }"
    ".studio-placeholder b { white-space: nowrap; font-variant-numeric: tabular-nums; }</style>")
TICK_SCRIPT = """
if (window.__studioTicks) return;
window.__studioTicks = true;
const seen = new WeakMap();
setInterval(() => {
  for (const clock of document.querySelectorAll("[data-studio-elapsed]")) {
    if (!seen.has(clock)) seen.set(clock, performance.now());
    const elapsed = Number(clock.dataset.studioElapsed) + (performance.now() - seen.get(clock)) / 1000;
    clock.textContent = Math.floor(elapsed) + "\u00a0s";
  }
}, 250);
"""


def _ratio(entry: Entry) -> str:
    """The entry's aspect ratio as CSS ("16 / 9"), square when it cannot be read."""
    try:
        width, height = (int(part) for part in str(entry.aspect_ratio).split(":"))
    except ValueError:
        return "1 / 1"
    return f"{width} / {height}" if width > 0 and height > 0 else "1 / 1"


def _placeholder(entry: Entry, live: ImageView) -> None:
    """A box in the target aspect ratio, so the grid does not jump when the image lands: its state, and a clock
    the page itself keeps ticking between runs (from the elapsed time this run knew)."""
    if live.state is ImageState.QUEUED:
        ahead = (live.queue_position or 1) - 1
        words, clock = (f"Waiting in line · {ahead} ahead of it" if ahead else "Next in line"), ""
    else:
        words = STATE_WORDS[live.state]
        clock = f'<b data-studio-elapsed="{live.elapsed_s:.1f}">{live.elapsed_s:.0f}\u00a0s</b>'
    st.html(f'<div class="studio-placeholder" style="aspect-ratio: {_ratio(entry)}">'
            f"<span>⏳ {words}</span>{clock}</div>")


def _send_now() -> None:
    """Let a live picture leave for the browser before the run draws on: while the run holds the interpreter
    the picture waits behind the rest of the grid, and the panel's next run would drop it unsent."""
    if live_wait.in_fragment_run():
        live_wait.let_drawing_leave(PICTURE_FLUSH_S)


def _image_card(entry: Entry) -> None:
    store, namespace = services.get_store(), services.current_namespace()
    thumbnail = store.read_thumbnail(namespace, entry.id)
    if thumbnail is None:
        st.warning(detail.MISSING_FILE, icon="🖼️")
    else:
        st.image(thumbnail, width="stretch")
    st.caption(f"{entry.aspect_ratio} · {entry.image_size} · {entry.output_format} · {entry.latency_s:.1f} s")
    grounding_view.render_entry_sources(entry, compact=True)
    open_col, edit_col = st.columns(2)
    with open_col:
        if st.button("Open", key=f"open_{entry.id}", width="stretch"):
            detail.show_detail(entry.id)
    with edit_col:
        thread_view.edit_button(entry, key=f"edit_{entry.id}")
    region_editor.region_button(entry, key=f"region_{entry.id}")
    semantic_search.more_like_button(entry, key=f"more_{entry.id}", leave_page=True)


def _failed_card(entry: Entry) -> None:
    icon = "🛑" if entry.status == "cancelled" else "⚠️"
    st.error(md_escape(entry.failure_message or "No image."), icon=icon)
    if entry.failure_kind == "quota":
        extra = auth.explain_failure(SimpleNamespace(http_status=429, detail=entry.failure_detail or "",
                                                     message=entry.failure_message or ""))
        if extra:
            st.warning(md_escape(extra))
    st.caption(md_escape(entry.prompt, limit=80))
    models.render_failure_offer(entry)  # a full or vanished model: "Try on <its fallback>"
    if st.button("Retry", key=f"retry_{entry.id}", width="stretch"):
        st.session_state[RETRY_ENTRY] = entry.id
        st.rerun()  # the whole page: the Generate page sends the retry


def _card(entry: Entry, live: dict[str, tuple[ImageView, JobView]]) -> None:
    if entry.is_running:
        _running_card(entry, *live.get(entry.id, (None, None)))
    elif entry.has_image:
        _image_card(entry)
    else:
        _failed_card(entry)


def _job_header(job: JobView) -> None:
    done = sum(i.state is ImageState.DONE for i in job.images)
    queued = sum(i.state is ImageState.QUEUED for i in job.images)
    text, cancel = st.columns([5, 1], vertical_alignment="center")
    label = f"{done} of {job.count} ready" + (f" · {queued} waiting in line" if queued else "")
    if job.lane == "flex":  # runs like Now, at Google's flex tier: minutes rather than seconds
        label = f"Flex lane · {label}"
    if job.lane == "batch":
        label = f"Batch lane · {BATCH_WORDS.get(job.batch_state, 'at Google')} · {label}"
        help_text = ("Cancel the whole batch at Google. Images it has already made may still be billed.")
    else:
        help_text = ("Stop every image of this batch that is not finished. Requests already sent may still "
                     "be billed by Google.")
    about = f"{job.count} variations of: " if job.variations else ""
    text.progress(job.done / max(1, job.count), text=f"{label} · {about}{md_escape(job.prompt, limit=60)}")
    if job.cancellable:  # not once Google has finished a batch: its answers are paid, and being recorded
        cancel.button("Cancel job", key=f"cancel_job_{job.id}", on_click=jobs.cancel, args=(job.id,),
                      help=help_text, width="stretch")


def _job_summary(job: JobView) -> None:
    """One line for a finished batch (the words people and scripts look for: "N of M images ready")."""
    ready = sum(i.state is ImageState.DONE for i in job.images)
    took = (job.finished_at or job.created_at) - job.created_at
    others = [f"{n} {state.value}" for state in (ImageState.FAILED, ImageState.CANCELLED, ImageState.INTERRUPTED)
              if (n := sum(i.state is state for i in job.images))]
    icon = "✅" if ready == job.count else "⚠️"
    st.caption(f"{icon} {ready} of {job.count} images ready in {took:.1f} s" + (f" · {', '.join(others)}" if others
                                                                                  else ""))


def _thinking_before_its_draft(followed: list[JobView]) -> bool:
    """An image whose thinking has started but whose first draft has not arrived yet."""
    return any(image.state is ImageState.DRAFTING and image.thought_text and not image.drafts_seen
               for job in followed for image in job.images)


def _followed_as_of_now(runner: JobRunner | None, namespace: str) -> list[JobView]:
    """The jobs to draw, and the runner's change counter they reflect (read first: a later change reruns us)."""
    if runner is not None:
        st.session_state[LIVE_VERSION] = runner.version(namespace)
    return jobs.followed_jobs()


def _body() -> None:
    runner = services.get_runner() if services.connection() is not None else None
    namespace = services.current_namespace()
    finishing = st.session_state.get(LIVE_FINISHING, False)
    # the panel's frame is drawn before the wait, the pictures after it into their places: a live picture is
    # then the first message of its run and reaches the browser without the layout's messages ahead of it
    # (docs/PERFORMANCE.md); the headers are filled last, like the grid's head row
    headers = st.container()
    frame = _grid_frame()
    if runner is not None and live_wait.in_fragment_run() and st.session_state.get(LIVE_ACTIVE) and not finishing:
        seen = st.session_state.get(LIVE_VERSION, -1)
        if runner.version(namespace) == seen:
            live_wait.wait_for(lambda timeout: runner.wait_for_change(namespace, seen, timeout), WAIT_BUDGET_S)
    followed = _followed_as_of_now(runner, namespace)
    if runner is not None and live_wait.in_fragment_run() and _thinking_before_its_draft(followed):
        # the model's first thought comes a few ms before its first draft: draw both in one run (two runs that
        # close were seen to lose the second run's picture in the browser; docs/PERFORMANCE.md)
        seen = st.session_state[LIVE_VERSION]
        live_wait.wait_for(lambda timeout: runner.wait_for_change(namespace, seen, timeout), DRAFT_SETTLE_S)
        followed = _followed_as_of_now(runner, namespace)
    active = [job for job in followed if job.active]
    live = {image.entry_id: (image, job) for job in followed for image in job.images}
    if frame is not None:
        _fill_grid(frame, live)
    with headers:
        for job in active:
            _job_header(job)
        for job in [job for job in followed if not job.active][:1]:  # only the latest: they used to pile up
            _job_summary(job)
    if st.session_state.get(LIVE_ACTIVE) and not active:
        # the whole page once, one tick after this run drew the last image (a rerun started now would drop
        # this run's unsent drawing): polling stops and the page shows the finished batch
        if live_wait.full_rerun_pending():
            return  # the person's own rerun (a click, a page switch) is coming: never override it with ours
        if st.session_state.pop(LIVE_FINISHING, False):
            st.session_state[LIVE_ACTIVE] = False
            st.rerun()
        st.session_state[LIVE_FINISHING] = True


@dataclass
class _GridFrame:
    """The grid's containers, drawn before the live panel waits; the cards are filled in after it."""

    ids: list[str]  # the whole session's grid, newest first
    pages: int
    head_row: DeltaGenerator
    window: list[str]  # the entries on the page shown, one card each
    cards: list[DeltaGenerator]


def _grid_frame() -> _GridFrame | None:
    ids = jobs.session_entry_ids()
    if not ids:
        st.info("Your generations will appear here. Write a prompt and press **Generate**.")
        return None
    store, namespace = services.get_store(), services.current_namespace()
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    head_row = st.container()  # filled after the cards, like the panel's headers
    page = min(max(1, int(st.session_state.get(GALLERY_PAGE) or 1)), pages)
    window = [entry.id for entry in store.get_many(namespace, ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE])]
    columns = st.columns(COLUMNS)
    cards = []
    for i in range(len(window)):
        with columns[i % COLUMNS]:
            cards.append(st.container(border=True))
    return _GridFrame(ids, pages, head_row, window, cards)


def _fill_grid(frame: _GridFrame, live: dict[str, tuple[ImageView, JobView]]) -> None:
    """Each card as the entry stands now (an entry deleted in the meantime leaves its card empty this run)."""
    store, namespace = services.get_store(), services.current_namespace()
    entries = {entry.id: entry for entry in store.get_many(namespace, frame.window)}
    for card, entry_id in zip(frame.cards, frame.window, strict=True):
        if entry_id in entries:
            with card:
                _card(entries[entry_id], live)
    ids = frame.ids
    with frame.head_row:
        head, page_col, zip_col = st.columns([3, 1, 1], vertical_alignment="bottom")
        head.subheader(f"This session · {len(ids)} generation{'s' if len(ids) != 1 else ''}")
        if frame.pages > 1:
            page_col.number_input("Page", 1, frame.pages, 1, key=GALLERY_PAGE)
        zip_col.download_button("Download all", data=lambda: store.export_zip(namespace, list(ids)),
                                file_name="nano-banana-session.zip", mime="application/zip", on_click="ignore",
                                icon=":material/folder_zip:", key="download_all", width="stretch")


def render_gallery() -> None:
    """The running jobs and the grid; polls only while this identity has images in flight."""
    jobs.adopt_running_jobs()
    runner = services.get_runner() if services.connection() is not None else None
    running = [job for job in runner.jobs_for(services.current_namespace()) if job.active] if runner else []
    st.session_state[LIVE_ACTIVE] = bool(running)
    interactive = any(job.lane != "batch" for job in running)
    # images land within seconds: poll often; only batches at Google (minutes to hours): now and then
    every = POLL_S if interactive else (BATCH_POLL_S if running else None)
    st.html(PLACEHOLDER_STYLE)  # once per page run (the running cards redraw often; their style does not change)
    with st.container(key=RESULTS_KEY):
        st.fragment(_body, run_every=every)()
    if interactive:
        page_js.run("ticks", TICK_SCRIPT)
