"""Process-wide services (catalogue, history store, offline emulator) and this session's engine.

Process-wide objects live in ``st.cache_resource``; per-session ones in ``st.session_state``.
"""

from __future__ import annotations

import functools
import gc
import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import streamlit as st

from components import browser_id
from components.state import CONNECTION, MODEL_CHECK, NAMESPACE, PRIVATE, PRIVATE_RELEASED, PRIVATE_STORE
from studio.catalogue import Catalogue
from studio.credentials import Connection, make_client
from studio.history import HistoryStore, default_data_dir, namespace_for
from studio.history.database import DatabaseUnavailable, configured_url
from studio.history.ledger import SpendLedger
from studio.history.namespaces import shared_history_setting
from studio.jobs import JobRunner, RunnerLimits
from studio.memory import map_large_buffers_separately
from studio.model_check import ModelCheck, compare, listed_model_ids

if TYPE_CHECKING:  # loaded when someone goes offline, not on a visitor's first page (cold start)
    from studio.emulator.server import EmulatorServer

T = TypeVar("T")


def secrets_section(name: str) -> Mapping[str, object]:
    """A section of st.secrets, or {} when there is no secrets file at all."""
    try:
        section = st.secrets.get(name, {})
    except Exception:  # no secrets.toml: a normal state for local and offline use
        return {}
    return section if isinstance(section, Mapping) else {}


def secret_value(name: str) -> object | None:
    try:
        return st.secrets.get(name)
    except Exception:
        return None


@st.cache_resource(show_spinner=False)
def get_catalogue() -> Catalogue:
    return Catalogue.from_config(dict(secrets_section("models")))


def offline_allowed() -> bool:
    """A deployment can hide Try offline: [studio] offline_mode = false, or STUDIO_OFFLINE_MODE=off."""
    env = os.environ.get("STUDIO_OFFLINE_MODE", "").strip().lower()
    if env in ("off", "false", "0", "no"):
        return False
    return bool(secrets_section("studio").get("offline_mode", True))


@st.cache_resource(show_spinner="Starting the offline emulator…")
def offline_emulator() -> EmulatorServer:
    """One emulator per server process, on a free loopback port.

    It answers in a few seconds (4K slower), like Google, so progress, drafts and cancel can be seen;
    ``STUDIO_EMULATOR_LATENCY`` sets one fixed latency instead (tests use 0).
    """
    from studio.emulator.server import (
        OFFLINE_API_KEY,
        STUDIO_DEFAULT_LATENCY_BY_SIZE,
        STUDIO_DEFAULT_LATENCY_S,
        EmulatorConfig,
        EmulatorServer,
    )

    configured = os.environ.get("STUDIO_EMULATOR_LATENCY", "").strip()
    if configured:
        config = EmulatorConfig(api_keys=frozenset({OFFLINE_API_KEY}), latency_s=float(configured))
    else:
        config = EmulatorConfig(api_keys=frozenset({OFFLINE_API_KEY}), latency_s=STUDIO_DEFAULT_LATENCY_S,
                                latency_by_size=dict(STUDIO_DEFAULT_LATENCY_BY_SIZE))
    return EmulatorServer(config).start()


def offline_connection() -> Connection:
    from studio.emulator.server import OFFLINE_API_KEY

    return Connection(mode="offline", api_key=OFFLINE_API_KEY, base_url=offline_emulator().base_url)


def _opening_errors() -> tuple[type[Exception], ...]:
    """Evaluated only when an opening fails: the object-store module (and boto3) loads when it is configured."""
    from studio.history.blobs_s3 import BlobStoreError

    return (BlobStoreError, DatabaseUnavailable, ValueError)


@st.cache_resource(show_spinner=False)
def shared_store() -> HistoryStore:
    """The History every session shares; a store that cannot open raises StoreUnavailable (a plain message)."""
    try:
        store = HistoryStore.open(url=configured_url(secrets_section("connections")))
    except _opening_errors() as exc:  # their messages are written for people
        raise StoreUnavailable(f"History cannot be opened: {exc}") from None
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(f"History cannot be opened: the database or image folder is not usable "
                               f"({type(exc).__name__}). Check STUDIO_DATA_DIR and STUDIO_DATABASE_URL.") from None
    store.catalogue = get_catalogue()  # estimates and costs from usage at the configured models' lane prices
    return store


class StoreUnavailable(RuntimeError):
    """History's database or file store cannot be used; the message is for a person."""


PRIVATE_IDLE_S = float(os.environ.get("STUDIO_PRIVATE_IDLE_S") or 3600)


@st.cache_resource(show_spinner=False)
def private_stores() -> weakref.WeakSet[HistoryStore]:
    """Every live private store of this process, so idle ones can be released (memory only, no disk)."""
    return weakref.WeakSet()


def _release_idle_private_stores() -> None:
    now = time.monotonic()
    for store in list(private_stores()):
        if not store.closed and now - store.last_used > PRIVATE_IDLE_S:
            store.close()


def _shared_ledger() -> SpendLedger | None:
    """The shared spend ledger a private session still counts into (amounts only), when History opens."""
    try:
        return shared_store().ledger
    except StoreUnavailable:
        return None


def get_store() -> HistoryStore:
    """The private in-memory store when this session is private, else the shared one.

    A private store lives in the session's memory: it goes when the session ends, or is released
    after PRIVATE_IDLE_S without use (the page then says so).
    """
    if not st.session_state.get(PRIVATE):
        return shared_store()
    _release_idle_private_stores()
    store = st.session_state.get(PRIVATE_STORE)
    if store is None or store.closed:
        if store is not None:
            st.session_state[PRIVATE_RELEASED] = True
        store = HistoryStore.private(ledger=_shared_ledger())
        private_stores().add(store)
        st.session_state[PRIVATE_STORE] = store
        store.catalogue = get_catalogue()  # lane prices of the configured models, as in the shared store
    store.last_used = time.monotonic()
    return store


def _per_connection(key: str, compute: Callable[[Connection | None], T]) -> T:
    """``compute(connection)`` once per connection of this session (kept with the connection it was made for)."""
    conn = connection()
    cached = st.session_state.get(key)
    if cached is not None and cached[0] == conn:
        return cached[1]
    value = compute(conn)
    st.session_state[key] = (conn, value)
    return value


def _check_models(conn: Connection | None) -> ModelCheck | None:
    if conn is None:
        return None
    try:
        return compare(get_catalogue(), listed_model_ids(make_client(conn, timeout_s=15)))
    except Exception:  # listing is advice only: a failure here must not stand in the way of generating
        return None


def model_check() -> ModelCheck | None:
    """What the connected credential's model list says about the catalogue; asked once per connection."""
    return _per_connection(MODEL_CHECK, _check_models)


def connection() -> Connection | None:
    return st.session_state.get(CONNECTION)


def shared_history() -> bool:
    """The operator chose one History for every visitor not signed in (``[team] shared_history = true``).

    ValueError (a plain message) for a value that is neither true nor false; ``team.configuration_problem``
    shows it before any page.
    """
    return shared_history_setting(secrets_section("team").get("shared_history"))


def _namespace_of(conn: Connection | None) -> str:
    salt = str(secrets_section("studio").get("namespace_salt") or "") or None
    return namespace_for(conn, shared_store().data_dir or default_data_dir(), salt=salt,
                         browser_id=browser_id.browser_id(), shared=shared_history())


def current_namespace() -> str:
    """The identity's History namespace; the key salt is the installation's, private session or not.

    Visitors not signed in (offline, or the server's key) are their browser's (``components/browser_id.py``),
    so their jobs, cancels and in-flight cap, which the runner keys by namespace, are their browser's too.

    Worked out once per connection: the live grid asks for it on every card of every poll, and a key's
    namespace costs a read of the salt and an HMAC.
    """
    return _per_connection(NAMESPACE, _namespace_of)


@st.cache_resource(show_spinner=False)
def get_runner() -> JobRunner:
    """The process-wide job runner: paid work runs here, beside the page, never inside a script run.

    On start it marks entries a dead process left running as interrupted.
    """
    runner = JobRunner(get_catalogue(), RunnerLimits.from_env())
    runner.recover(shared_store())
    freeze_startup_heap()
    map_large_buffers_separately()  # image-sized buffers leave no high-water mark in the heap
    return runner


@functools.cache  # once per process: a second freeze would also keep whatever is garbage at that moment
def freeze_startup_heap() -> None:
    """Take the heap that exists once the studio has started (modules, classes, the SDK) out of the garbage
    collector's sight.

    A full collection walks every tracked object while holding the GIL: ~70 ms with google-genai, PIL and
    Streamlit loaded. Streamlit's default ran one after every script run (``runner.postScriptGC``, off in
    .streamlit/config.toml), and the live panel runs up to ten times a second while work runs: it stalled the
    job runner and every click (docs/PERFORMANCE.md). Python's own collector still runs as allocations call
    for it; with the startup heap frozen, those collections only walk what sessions made since.
    """
    gc.collect()
    gc.freeze()
