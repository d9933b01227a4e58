"""The browser suite's studio server survives losing its proposed port, the race `free_port()` cannot close."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx

from bench.studio_process import StudioProcess


def test_a_taken_port_moves_the_studio_to_a_fresh_one_and_a_restart_keeps_it(tmp_path: Path) -> None:
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "data")}
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]  # what free_port() proposed, taken by someone else before use
        studio = StudioProcess(taken, env, tmp_path / "streamlit.log", None).start()
        try:
            assert studio.port != taken
            assert httpx.get(f"{studio.url}/_stcore/health", timeout=10).text == "ok"
            assert f"Port {taken}" in studio.log_path.read_text(), "streamlit itself refused the taken port"
            moved_to = studio.port
            studio.stop()
            studio.start()
            assert studio.port == moved_to, "a restart keeps a port that is still free"
            assert httpx.get(f"{studio.url}/_stcore/health", timeout=10).text == "ok"
        finally:
            studio.stop()
