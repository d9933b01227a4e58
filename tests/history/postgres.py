"""A real PostgreSQL server for the tests: Debian's binaries, a temp data folder, a free loopback port.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user (or ``nobody``)
through ``runuser``; anyone else runs it as themselves. Trust authentication on 127.0.0.1 only, no fsync
(the tests never survive a power cut). ``python -m tests.history.postgres`` starts one and prints its URL.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

SKIP_ENV = "STUDIO_SKIP_POSTGRES"
SUPERUSER = "studio"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the server would not start."""


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, else Debian's /usr/lib/postgresql/<newest>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """The unprivileged user to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as")


class PostgresServer:
    """One throwaway cluster; ``create_database()`` hands out a fresh, empty database URL per test."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise PostgresUnavailable(
                "PostgreSQL's server binaries (initdb, pg_ctl) were not found; install Debian's 'postgresql' "
                "package (bash scripts/setup-tests.sh does), or set STUDIO_SKIP_POSTGRES=1 to skip these tests.")
        self.bin_dir = found
        self.user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="studio-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._names = threading.Lock()
        self._count = 0
        self.started = False

    def _cmd(self, *args: str) -> list[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        return ["runuser", "-u", self.user, "--", *command] if self.user else command

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(self._cmd(*args), capture_output=True, text=True, timeout=timeout, check=False,
                              cwd=self.root)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed ({done.returncode}): {(done.stderr or done.stdout)[-800:]}")

    def start(self) -> PostgresServer:
        if self.user:
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        for attempt in range(5):
            self.port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                          "-o", options, "start")
                break
            except PostgresUnavailable:
                if attempt == 4:
                    log = (self.root / "server.log")
                    raise PostgresUnavailable("PostgreSQL did not start: " + (
                        log.read_text(errors="replace")[-800:] if log.exists() else "no log")) from None
                time.sleep(0.2)
        self.started = True
        atexit.register(self.stop)  # also when the session ends without its fixture teardown
        return self

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh empty database (from template0) and its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        if self.started:
            subprocess.run(self._cmd("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"),
                           capture_output=True, timeout=60, check=False, cwd=self.root)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


def skip_allowed() -> bool:
    """Only an explicit STUDIO_SKIP_POSTGRES=1 lets the PostgreSQL tests skip; otherwise a missing server fails."""
    return os.environ.get(SKIP_ENV, "").strip() == "1"


if __name__ == "__main__":
    server = PostgresServer().start()
    print(server.create_database(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
