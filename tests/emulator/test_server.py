"""The server itself: concurrency, admin API, stop, CLI, userinfo checks, speed, no secrets in logs."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from studio.emulator import render
from studio.emulator.server import OFFLINE_API_KEY, EmulatorConfig, EmulatorServer

from .conftest import KEY, PRO, body, post


def test_context_manager_and_default_offline_key() -> None:
    with EmulatorServer(EmulatorConfig()).start() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert post(server, body("offline"), headers={"x-goog-api-key": OFFLINE_API_KEY}).status_code == 200
    with pytest.raises(httpx.ConnectError):
        post(server, body("gone"))


def test_a_hundred_and_twenty_concurrent_requests(fresh_emulator) -> None:
    server = fresh_emulator(latency_s=1.5)
    url = f"{server.base_url}/v1beta/models/{PRO}:generateContent"
    payload = body("crowd", "1:1", "1K")
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    with httpx.Client(limits=limits, timeout=30, headers={"x-goog-api-key": KEY}) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=120) as pool:
            codes = list(pool.map(lambda i: client.post(url, json=payload).status_code, range(120)))
        elapsed = time.perf_counter() - started
    assert codes == [200] * 120
    assert elapsed < 20, elapsed  # 120 x 1.5 s in series would be three minutes
    stats = httpx.get(f"{server.base_url}/_emulator/stats").json()
    assert stats["served"] == 120 and stats["in_flight"] == 0 and stats["max_in_flight"] >= 100


def test_stats_and_reset(fresh_emulator) -> None:
    server = fresh_emulator()
    post(server, body("one"))
    post(server, body("two [[fault:overloaded]]"))
    httpx.post(f"{server.base_url}/_emulator/config", json={"latency_s": 3})
    httpx.post(f"{server.base_url}/_emulator/tokens", json={"revoke": ["test-token"]})
    stats = httpx.get(f"{server.base_url}/_emulator/stats").json()
    assert stats["served"] == 2 and stats["requests"]["error_503"] == 1 and stats["latency_s"] == 3
    assert httpx.post(f"{server.base_url}/_emulator/reset").status_code == 200
    stats = httpx.get(f"{server.base_url}/_emulator/stats").json()
    assert stats["served"] == 0 and stats["latency_s"] == 0
    assert post(server, body("x"), headers={"Authorization": "Bearer test-token"}).status_code == 200
    assert httpx.post(f"{server.base_url}/_emulator/nothing").status_code == 404


def test_fresh_4k_render_is_fast() -> None:
    render.clear_cache()
    started = time.process_time()
    data = render.render("a fresh prompt never drawn before", 99, 6336, 2688, [])
    assert time.process_time() - started < 0.7
    assert data.startswith(b"\x89PNG")
    started = time.perf_counter()
    assert render.render("a fresh prompt never drawn before", 99, 6336, 2688, []) == data
    assert time.perf_counter() - started < 0.05  # cached


class _Userinfo(BaseHTTPRequestHandler):
    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        ok = self.headers.get("Authorization") == "Bearer oidc-good"
        data = b'{"sub": "1", "email": "a@example.com"}' if ok else b'{"error": "invalid_token"}'
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def userinfo_url():
    _Userinfo.calls = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Userinfo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/userinfo"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("cache_s", "calls"), [(30.0, 1), (0.0, 3)])
def test_bearer_tokens_checked_against_userinfo(fresh_emulator, userinfo_url: str, cache_s: float, calls: int) -> None:
    server = fresh_emulator(userinfo_url=userinfo_url, userinfo_cache_s=cache_s)
    for _ in range(3):
        assert post(server, body("oidc"), headers={"Authorization": "Bearer oidc-good"}).status_code == 200
    assert _Userinfo.calls == calls
    answer = post(server, body("oidc"), headers={"Authorization": "Bearer oidc-bad"})
    assert answer.status_code == 401 and answer.json()["error"]["status"] == "UNAUTHENTICATED"


def test_logs_never_show_secrets(emulator, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="studio.emulator"):
        post(emulator, body("logged"), headers={}, params={"key": KEY})
        post(emulator, body("logged"), headers={"Authorization": "Bearer test-token"})
        post(emulator, body("logged"), headers={"x-goog-api-key": "AIzaSECRET"})
    text = caplog.text
    assert "key=***" in text and "bearer=***" in text
    assert KEY not in text and "test-token" not in text and "AIzaSECRET" not in text


def test_command_line(tmp_path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio.emulator", "--port", "0", "--api-key", "cli-secret", "--latency-4k", "0.3",
         "--bearer-token", "cli-token"], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        base_url = line.split("emulator on ", 1)[1].split(":", 2)
        base_url = ":".join(base_url[:2]) + ":" + base_url[2].split(":")[0]
        server = type("S", (), {"base_url": base_url})()
        assert post(server, body("cli", "1:1", "1K"), headers={}, params={"key": "cli-secret"}).status_code == 200
        started = time.perf_counter()
        assert post(server, body("cli", "1:1", "4K"), model=PRO,
                    headers={"Authorization": "Bearer cli-token"}).status_code == 200
        assert time.perf_counter() - started >= 0.3
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=10)
    assert "cli-secret" not in line + rest and "cli-token" not in line + rest
    assert "key=***" in rest
