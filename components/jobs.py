"""Submitting batches to the process-wide job runner, and following this identity's jobs from the page.

The page only submits and watches: the runner sends, retries and records, whatever the page does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import streamlit as st

from components import auth, live_wait, press_guard, services
from components.plain import md_escape
from components.state import BATCHES_RESUMED, FOLLOWED_JOBS, LIVE_VERSION, SESSION_ENTRIES
from studio import oauth
from studio.credentials import Connection
from studio.jobs import CredentialSource, JobView
from studio.request import GenerationRequest, ValidationError


def session_entry_ids() -> list[str]:
    """The grid of this session, newest first; a batch's images keep their order."""
    return st.session_state.setdefault(SESSION_ENTRIES, [])


def followed_job_ids() -> list[str]:
    return st.session_state.setdefault(FOLLOWED_JOBS, [])


def _renewer() -> Callable[[Connection], Connection | None] | None:
    """For Google sign-in: renew the token from the refresh token (in memory only) when a job needs it."""
    connection = services.connection()
    token = st.session_state.get(auth.TOKEN_KEY)
    config = auth.oauth_config()
    if connection is None or connection.mode not in auth.OAUTH_MODES or not token or config is None:
        return None
    if not token.get("refresh_token"):
        return None
    holder = {"token": dict(token)}

    def renew(current: Connection) -> Connection | None:
        fresh = oauth.refresh(config, holder["token"])
        holder["token"] = fresh
        return auth.connection_with_token(current, fresh)

    return renew


def submit(request: GenerationRequest, parent_id: str | None = None) -> JobView | None:
    """Queue a batch and return at once; shows a plain message and returns None when it cannot start."""
    connection = services.connection()
    if connection is None:
        st.error("Connect first: your work here is kept.")
        return None
    runner = services.get_runner()
    namespace = services.current_namespace()
    try:
        with press_guard.whole():  # sent and followed, or not sent: a click elsewhere waits for both
            job = runner.submit(namespace, request, services.get_store(), CredentialSource(connection, _renewer()),
                                parent_id=parent_id)
            runner.update_credentials(namespace, connection)
            _follow(job)
    except ValidationError as exc:
        for problem in exc.problems:
            st.error(problem, icon="✋")
        return None
    except OSError as exc:
        st.error(f"The batch could not be started: the history folder could not be written ({exc.strerror}). "
                 "Nothing was sent.")
        return None
    except sqlite3.Error as exc:  # all or nothing: no entry of it was kept either (PostgreSQL's errors too)
        st.error(f"The batch could not be started: the History database refused it ({md_escape(str(exc), limit=200)}). "
                 "Nothing was sent, and your prompt and settings are kept.")
        return None
    return job


def _follow(job: JobView) -> None:
    if job.id in followed_job_ids():
        return
    followed_job_ids().append(job.id)
    ids = session_entry_ids()
    ids[:0] = [entry_id for entry_id in job.entry_ids if entry_id not in ids]


def adopt_running_jobs() -> None:
    """After a reload, or in a second tab: this identity's jobs show again and land in this grid.

    Finished jobs count too, for as long as the runner holds them: a batch can finish during the few
    seconds a reload takes to reconnect, and its images belong in the grid the person comes back to.
    """
    if services.connection() is None:
        return
    runner = services.get_runner()
    namespace = services.current_namespace()
    for job in reversed(runner.jobs_for(namespace)):
        if job.id not in followed_job_ids():
            _follow(job)


def resume_stored_batches() -> None:
    """Once per session and identity: batches an earlier process sent for this identity are polled again
    with this connection (Google keeps a batch up to 24 h; a restart must not lose its images)."""
    connection = services.connection()
    if connection is None:
        return
    namespace = services.current_namespace()
    if st.session_state.get(BATCHES_RESUMED) == namespace:
        return
    st.session_state[BATCHES_RESUMED] = namespace
    resumed = services.get_runner().resume_batches(namespace, services.get_store(),
                                                   CredentialSource(connection, _renewer()))
    if resumed:
        st.toast(f"Collecting {resumed} batch{'es' if resumed != 1 else ''} you sent to Google earlier.", icon="🕓")


REDRAW_EVERY_S = 1.0


def _redraw_on_change() -> None:
    """A timer fragment: redraw the page when this identity's work changes (an image landed)."""
    runner, namespace = services.get_runner(), services.current_namespace()
    seen = st.session_state.get(LIVE_VERSION, -1)
    if live_wait.in_fragment_run() and runner.version(namespace) == seen:
        live_wait.wait_for(lambda timeout: runner.wait_for_change(namespace, seen, timeout), REDRAW_EVERY_S * 0.9)
    if runner.version(namespace) != seen and not live_wait.full_rerun_pending():
        st.rerun()  # never over a click or page switch the person just made: theirs redraws the page anyway


def redraw_while_work_runs(running: bool) -> None:
    """For pages that show History rather than the live grid (History, Edit): they redraw as work lands, and
    stop polling when nothing runs."""
    st.session_state[LIVE_VERSION] = services.get_runner().version(services.current_namespace())
    if running:
        st.fragment(_redraw_on_change, run_every=REDRAW_EVERY_S)()


def followed_jobs() -> list[JobView]:
    """The jobs this page shows, newest first (finished ones stay until the runner forgets them)."""
    if services.connection() is None:
        return []
    followed = set(followed_job_ids())
    return [job for job in services.get_runner().jobs_for(services.current_namespace()) if job.id in followed]


def cancel(job_id: str, index: int | None = None) -> None:
    """Callback for the Cancel buttons."""
    runner = services.get_runner()
    job = runner.view(job_id)
    cancelled = runner.cancel(job_id, index, namespace=services.current_namespace())
    if cancelled and job is not None and job.lane == "batch":
        st.toast("Cancelling the batch at Google… Images it has already made may still be billed.", icon="🛑")
    elif cancelled:
        st.toast(f"Cancelled {cancelled} image{'s' if cancelled != 1 else ''}. A request already sent may still "
                 "be billed by Google.", icon="🛑")


def credentials() -> CredentialSource | None:
    """This session's connection as the runner's credential source (None when not connected)."""
    connection = services.connection()
    return None if connection is None else CredentialSource(connection, _renewer())
