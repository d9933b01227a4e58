"""Process-wide services (catalogue, history store, offline emulator) and this session's engine.

Process-wide objects live in ``st.cache_resource``; per-session ones in ``st.session_state``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import streamlit as st

from studio.catalogue import Catalogue
from studio.credentials import Connection, make_client
from studio.emulator.server import OFFLINE_API_KEY, EmulatorConfig, EmulatorServer
from studio.engine import Engine
from studio.history import HistoryStore, namespace_for

CONNECTION = "connection"
ENGINE = "engine"
ENGINE_FOR = "engine_connection"
PRIVATE = "private_session"
PRIVATE_STORE = "private_store"


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
    """One emulator per server process, on a free loopback port."""
    latency = float(os.environ.get("STUDIO_EMULATOR_LATENCY", "0") or 0)
    return EmulatorServer(EmulatorConfig(api_keys=frozenset({OFFLINE_API_KEY}), latency_s=latency)).start()


def offline_connection() -> Connection:
    return Connection(mode="offline", api_key=OFFLINE_API_KEY, base_url=offline_emulator().base_url)


@st.cache_resource(show_spinner=False)
def shared_store() -> HistoryStore:
    return HistoryStore.open()


def get_store() -> HistoryStore:
    """The private in-memory store when this session is private, else the shared one."""
    if st.session_state.get(PRIVATE):
        if PRIVATE_STORE not in st.session_state:
            st.session_state[PRIVATE_STORE] = HistoryStore.private()
        return st.session_state[PRIVATE_STORE]
    return shared_store()


def connection() -> Connection | None:
    return st.session_state.get(CONNECTION)


def current_namespace() -> str:
    return namespace_for(connection(), get_store().data_dir)


def get_engine() -> Engine | None:
    """This session's engine, rebuilt whenever the connection changes (e.g. a refreshed token)."""
    conn = connection()
    if conn is None:
        return None
    if st.session_state.get(ENGINE_FOR) != conn or ENGINE not in st.session_state:
        old = st.session_state.get(ENGINE)
        if old is not None:
            old.close()
        timeout = float(os.environ.get("STUDIO_TIMEOUT_S", "300") or 300)
        st.session_state[ENGINE] = Engine(make_client(conn, timeout_s=timeout), get_catalogue(),
                                          timeout_s=timeout, secrets=conn.secrets(), vertex=conn.mode == "vertex")
        st.session_state[ENGINE_FOR] = conn
    return st.session_state[ENGINE]
