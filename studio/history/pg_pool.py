"""A small pool of PostgreSQL connections, so one stuck or half-open link cannot stall every session.

Each statement borrows a connection and gives it back; a transaction keeps its connection from BEGIN to
COMMIT. Every connection asks the server for a statement timeout and the kernel for TCP keepalives (and a
user timeout), so a statement that hangs, or a link whose other end vanished, fails after a bounded time
instead of holding its caller forever. psycopg_pool is not a dependency: this is the part of it we need.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

POOL_SIZE_ENV = "STUDIO_DB_POOL_SIZE"
STATEMENT_TIMEOUT_ENV = "STUDIO_DB_STATEMENT_TIMEOUT_S"
DEFAULT_POOL_SIZE = 4  # a few script threads and the runner's workers; PostgreSQL's default allows 100
DEFAULT_STATEMENT_TIMEOUT_S = 30.0  # the History page at 100,000 entries takes ~0.15 s
# keepalives after 30 s idle, every 10 s, 3 misses; unacknowledged data gives up after 60 s (libpq >= 12)
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3",
              "tcp_user_timeout": "60000"}


class PoolExhausted(RuntimeError):
    """Every connection stayed busy for longer than a statement may take."""


def pool_size(env: dict[str, str] | None = None) -> int:
    value = (env if env is not None else os.environ).get(POOL_SIZE_ENV, "").strip()
    return max(1, int(value)) if value.isdigit() else DEFAULT_POOL_SIZE


def statement_timeout_s(env: dict[str, str] | None = None) -> float:
    value = (env if env is not None else os.environ).get(STATEMENT_TIMEOUT_ENV, "").strip()
    try:
        return float(value) if value and float(value) > 0 else DEFAULT_STATEMENT_TIMEOUT_S
    except ValueError:
        return DEFAULT_STATEMENT_TIMEOUT_S


def with_safeguards(conninfo: str, timeout_s: float) -> str:
    """The conninfo with keepalives (unless the URL sets its own) and the statement timeout in ``options``."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    given = conninfo_to_dict(conninfo)
    extra = {key: value for key, value in KEEPALIVES.items() if key not in given}
    options = str(given.get("options") or "")
    if "statement_timeout" not in options:
        extra["options"] = f"{options} -c statement_timeout={int(timeout_s * 1000)}".strip()
    return make_conninfo(conninfo, **extra)


class ConnectionPool:
    """At most ``size`` open connections; idle ones are reused, broken ones dropped."""

    def __init__(self, opener: Callable[[], Any], size: int, wait_s: float) -> None:
        self._open = opener
        self.size = size
        self.wait_s = wait_s
        self._idle: list[Any] = []
        self._out = 0  # connections lent now
        self._changed = threading.Condition()
        self.closed = False

    def acquire(self) -> Any:
        """An open connection (an idle one, or a new one while fewer than ``size`` exist)."""
        deadline = time.monotonic() + self.wait_s
        with self._changed:
            while True:
                if self.closed:
                    raise RuntimeError("the database is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if not conn.closed:
                        self._out += 1
                        return conn
                if self._out < self.size:
                    self._out += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PoolExhausted(f"all {self.size} connections stayed busy for {self.wait_s:.0f} s")
                self._changed.wait(left)
        try:
            return self._open()  # outside the condition: connecting may take seconds
        except BaseException:
            with self._changed:
                self._out -= 1
                self._changed.notify()
            raise

    def release(self, conn: Any, broken: bool = False) -> None:
        """Give a connection back; a broken one is closed, and the idle ones with it (a server restart ends
        them all, and each would fail its next caller once)."""
        drop: list[Any] = []
        with self._changed:
            self._out -= 1
            if broken or conn.closed or getattr(conn, "broken", False) or self.closed:
                drop.append(conn)
                if broken or getattr(conn, "broken", False):
                    drop += self._idle
                    self._idle = []
            else:
                self._idle.append(conn)
            self._changed.notify()
        for dead in drop:
            _close_quietly(dead)

    def close(self) -> None:
        with self._changed:
            self.closed = True
            idle, self._idle = self._idle, []
            self._changed.notify_all()
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: Any) -> None:
    with suppress(Exception):  # closing a dead link can fail; it is gone either way
        conn.close()
