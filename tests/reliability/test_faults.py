"""A failing API, through the engine: retries that honour the server, and no image lost to a neighbour's fault."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from studio.credentials import Connection, make_client
from studio.emulator.server import EmulatorConfig, EmulatorServer
from studio.engine import Engine
from studio.request import GenerationRequest
from studio.results import FailureKind

PRO = "gemini-3-pro-image"


def _engine(emulator: EmulatorServer, **kwargs: object) -> Engine:
    connection = Connection(mode="api_key", api_key="test-key", base_url=emulator.base_url)
    kwargs.setdefault("retry_base_s", 0.05)
    return Engine(make_client(connection), **kwargs)


def _queue(emulator: EmulatorServer, fault: str, count: int = 1, value: float = 0) -> None:
    httpx.post(f"{emulator.base_url}/_emulator/faults", json={"fault": fault, "count": count, "value": value})


def test_429_storm_honours_retry_info_and_says_when(fresh_emulator) -> None:
    emulator = fresh_emulator()
    _queue(emulator, "quota", count=3)
    notices: list[tuple[int, FailureKind, float]] = []
    started = time.perf_counter()
    result = _engine(emulator).run(GenerationRequest(prompt="storm", model_id=PRO),
                                   on_retry=lambda i, f, d: notices.append((i, f.kind, d)))[0]
    elapsed = time.perf_counter() - started
    assert result.ok and result.attempts == 4
    assert [n[1] for n in notices] == [FailureKind.QUOTA] * 3
    assert all(1.0 <= n[2] < 1.5 for n in notices), "the server's RetryInfo (1s) sets the wait"
    assert elapsed >= 3.0


def test_quota_limit_zero_is_not_retried(fresh_emulator) -> None:
    emulator = fresh_emulator()
    result = _engine(emulator).run(GenerationRequest(prompt="no quota [[fault:quota_zero]]", model_id=PRO))[0]
    assert result.failure.kind is FailureKind.QUOTA and result.attempts == 1
    assert "limit: 0" in result.failure.message and "billing" in result.failure.message


@pytest.mark.parametrize(("fault", "kind"), [("overloaded", FailureKind.OVERLOADED),
                                             ("server_error", FailureKind.SERVER_ERROR),
                                             ("drop_stream", FailureKind.NETWORK)])
def test_transient_faults_are_retried_then_succeed(fresh_emulator, fault: str, kind: FailureKind) -> None:
    emulator = fresh_emulator()
    seen: list[FailureKind] = []
    result = _engine(emulator).run(GenerationRequest(prompt=f"flaky [[fault:{fault}*2]]", model_id=PRO),
                                   on_retry=lambda i, f, d: seen.append(f.kind))[0]
    assert result.ok and result.attempts == 3 and seen == [kind, kind]


def test_persistent_overload_gives_up_with_a_plain_message(fresh_emulator) -> None:
    emulator = fresh_emulator()
    result = _engine(emulator, max_attempts=2, max_overload_attempts=3).run(
        GenerationRequest(prompt="always busy [[fault:overloaded]]", model_id=PRO))[0]
    assert result.failure.kind is FailureKind.OVERLOADED and result.attempts == 3
    assert result.failure.message.startswith("The model is overloaded")
    assert "503" in result.failure.detail


def test_hang_past_the_timeout_fails_only_that_image(fresh_emulator) -> None:
    emulator = fresh_emulator()
    _queue(emulator, "hang", count=1)
    # the timeout must only be long enough for a loaded machine to answer the other two; nothing is timed
    results = _engine(emulator, timeout_s=5, max_attempts=1).run(
        GenerationRequest(prompt="one hangs", model_id=PRO, count=3))
    kinds = sorted((r.failure.kind if r.failure else "ok") for r in results)
    assert kinds == sorted(["ok", "ok", FailureKind.TIMEOUT])


@pytest.mark.parametrize(("fault", "kind", "needle"), [
    ("malformed", FailureKind.MALFORMED, "could not be read"),
    ("text_only", FailureKind.NO_IMAGE, "The model said"),
    ("no_image", FailureKind.NO_IMAGE, "no image"),
    ("image_safety", FailureKind.OUTPUT_BLOCKED, "IMAGE_SAFETY"),
    ("prompt_blocked", FailureKind.PROMPT_BLOCKED, "SAFETY"),
])
def test_answers_without_an_image(fresh_emulator, fault: str, kind: FailureKind, needle: str) -> None:
    emulator = fresh_emulator()
    result = _engine(emulator).run(GenerationRequest(prompt=f"odd answer [[fault:{fault}]]", model_id=PRO))[0]
    assert result.failure is not None and result.failure.kind is kind
    assert needle in result.failure.message
    if fault == "image_safety":
        assert "not be charged" in result.failure.detail  # Google's finishMessage is kept


def test_wrong_declared_mime_type_is_seen_through(fresh_emulator) -> None:
    emulator = fresh_emulator()
    result = _engine(emulator).run(GenerationRequest(prompt="mislabelled [[fault:wrong_mime]]", model_id=PRO,
                                                     output_format="PNG"))[0]
    assert result.ok
    assert result.image.declared_mime_type == "image/png"
    assert result.image.data.startswith(b"\x89PNG") and result.image.mime_type == "image/png"


def test_batch_of_four_where_two_fail_keeps_two(fresh_emulator) -> None:
    emulator = fresh_emulator()
    _queue(emulator, "image_safety", count=2)
    results = _engine(emulator).run(GenerationRequest(prompt="half blocked", model_id=PRO, count=4))
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert sum(r.ok for r in results) == 2
    assert sum(r.status == "blocked" for r in results) == 2


def _wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s} s for {what}")
        time.sleep(0.02)


def test_emulator_killed_mid_batch_and_started_again() -> None:
    """Stopped while all four requests are in flight, restarted after a retry found nobody listening."""
    config = dict(api_keys=frozenset({"test-key"}), latency_s=60.0)  # answers only once stopped (cut off)
    first = EmulatorServer(EmulatorConfig(**config)).start()
    engine = _engine(first, retry_base_s=0.2, max_attempts=6)
    notices: list[FailureKind] = []
    replacement: list[EmulatorServer] = []
    problems: list[BaseException] = []

    def kill_and_restart() -> None:  # collects its problems: the main thread asserts
        try:
            _wait_until(lambda: first.state.in_flight == 4, "all four requests in flight")
            first.stop()  # in-flight requests are cut off
            _wait_until(lambda: len(notices) >= 5, "a retry refused by the stopped server")
            replacement.append(EmulatorServer(EmulatorConfig(**{**config, "latency_s": 0.0, "port": first.port}))
                               .start())
        except BaseException as exc:
            problems.append(exc)

    killer = threading.Thread(target=kill_and_restart)
    killer.start()
    try:
        results = engine.run(GenerationRequest(prompt="survive a restart", model_id=PRO, count=4),
                             on_retry=lambda i, f, d: notices.append(f.kind))
    finally:
        killer.join(60)
        for server in replacement:
            server.stop()
    assert not killer.is_alive() and problems == []
    assert all(r.ok for r in results), [r.failure for r in results]
    assert all(r.attempts >= 2 for r in results)
    assert sum(r.attempts for r in results) >= 9, "at least one retry met the stopped server"
