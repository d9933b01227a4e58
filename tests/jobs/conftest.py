"""Fixtures of the job runner tests: a History store in a temp folder and a runner with the default caps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.history import HistoryStore
from studio.jobs import JobRunner, RunnerLimits


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    s = HistoryStore.open(data_dir=tmp_path / "data")
    yield s
    s.close()


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    r = JobRunner(limits=RunnerLimits(per_identity=8, per_process=64))
    yield r
    r.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One History database two processes (or two runners) share: an SQLite file, or a fresh PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    return str(request.getfixturevalue("postgres_server").create_database())
