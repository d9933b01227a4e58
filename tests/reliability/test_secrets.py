"""Secrets never reach logs, the database, the data directory, the page or a JSON view.

One full session with an API key runs in the real studio in Chromium (every websocket frame the
browser receives is scanned, not only the final HTML); one with a Google token runs through AppTest,
with every log record captured and every JSON view drawn.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import streamlit as st
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from bench.studio_page import generate_button
from studio.credentials import Connection, with_server_key
from studio.history import HistoryStore, namespace_for
from tests.app.conftest import APP, drawn, settling
from tests.browser.conftest import wait_for_app_run

SECRET_KEY = "AIzaSyTESTSECRETKEY0123456789abcdefghij"
SECRET_TOKEN = "ya29.TESTSECRETTOKEN-0123456789abcdefghijklmnop"


def _files_containing(root: Path, secret: str) -> list[Path]:
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.browser
def test_api_key_session_leaves_no_trace(fresh_emulator, start_studio, page, tmp_path: Path) -> None:
    emulator = fresh_emulator(api_keys=frozenset({SECRET_KEY}))
    studio = start_studio(env={"STUDIO_GEMINI_BASE_URL": emulator.base_url})
    frames: list[str | bytes] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    page.goto(studio.url)
    wait_for_app_run(page)
    page.get_by_label("Gemini API key", exact=True).fill(f"  {SECRET_KEY}  ")
    page.get_by_role("button", name="Connect with API key").click()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible(timeout=30_000)
    wait_for_app_run(page)
    html_snapshots = [page.content()]
    page.get_by_label("Prompt", exact=True).fill("a secretless lighthouse")
    page.get_by_label("Prompt", exact=True).blur()  # commits it (Ctrl+Enter would also press Generate)
    wait_for_app_run(page)
    generate_button(page).click()
    expect(page.get_by_text("1 of 1 images ready")).to_be_visible(timeout=60_000)
    wait_for_app_run(page)
    page.locator('[data-testid="stMain"]').get_by_role("button", name="Open", exact=True).first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    html_snapshots.append(page.content())
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    for link, sign in (("History", "1 entry"), ("Account", "Connected with")):
        page.get_by_role("link", name=link).click()
        expect(page).to_have_url(re.compile(f"/{link.lower()}$"))
        expect(page.get_by_text(sign).first).to_be_visible()
        wait_for_app_run(page)
        html_snapshots.append(page.content())

    assert frames, "the page received websocket frames"
    for frame in frames:
        raw = frame if isinstance(frame, bytes) else frame.encode()
        assert SECRET_KEY.encode() not in raw
    for html in html_snapshots:
        assert SECRET_KEY not in html
    assert "a secretless lighthouse" in "".join(html_snapshots), "the scan looked at real content"
    assert not _files_containing(tmp_path / "data", SECRET_KEY), "database and images"
    assert (tmp_path / "data").exists() and any((tmp_path / "data").rglob("*.sqlite3"))
    assert SECRET_KEY not in studio.log_path.read_text(errors="replace")


def test_google_token_session_leaves_no_trace(fresh_emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture, capfd) -> None:
    emulator = fresh_emulator(bearer_tokens=frozenset({SECRET_TOKEN}))
    data_dir = tmp_path / "data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(data_dir))
    st.cache_resource.clear()
    caplog.set_level(logging.DEBUG)
    connection = Connection(mode="oauth", access_token=SECRET_TOKEN, subject="108-subject", email="a@example.com",
                            base_url=emulator.base_url, expires_at=None)
    at = AppTest.from_file(APP, default_timeout=60)
    settling(at)  # each Generate is followed until its images land
    at.session_state["connection"] = connection
    at.session_state["oauth_token"] = {"access_token": SECRET_TOKEN, "token_type": "Bearer"}
    at.run()
    at.text_area(key="prompt").input("a token-free harbour").run()
    at.button(key="generate").click().run()
    at.text_area(key="prompt").input("blocked [[fault:image_safety]]").run()
    at.button(key="generate").click().run()
    assert len(at.session_state["session_entry_ids"]) == 2
    views = drawn(at)
    at.switch_page("app_pages/account.py").run()
    views += drawn(at)
    assert any("a@example.com" in view for view in views), "the scan reads what was drawn"

    store = HistoryStore.open(data_dir=data_dir)
    namespace = namespace_for(connection, data_dir)
    entries = store.list_entries(namespace)
    assert len(entries) == 2
    json_views = AppTest.from_function(_render_json_views, args=(str(data_dir), namespace), default_timeout=30).run()
    assert len(json_views.json) == 6, "request, response and usage views of both entries"
    views += [el.value if isinstance(el.value, str) else repr(el.value) for el in json_views.json]
    for view in views:
        assert SECRET_TOKEN not in view
    assert not _files_containing(data_dir, SECRET_TOKEN)
    captured = capfd.readouterr()
    assert SECRET_TOKEN not in caplog.text + captured.out + captured.err
    assert SECRET_TOKEN not in repr(connection) and SECRET_TOKEN not in str(at.session_state["connection"])
    store.close()



def test_the_server_key_under_a_google_sign_in_leaves_no_trace(fresh_emulator, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture, capfd) -> None:
    """A Google sign-in using the key configured on the server: the owner's key is on no page, in no JSON view,
    file or log, and the work is filed under the Google identity."""
    emulator = fresh_emulator(api_keys=frozenset({SECRET_KEY}), bearer_tokens=frozenset({SECRET_TOKEN}))
    data_dir = tmp_path / "data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(data_dir))
    monkeypatch.setenv("GEMINI_API_KEY", SECRET_KEY)
    monkeypatch.setenv("STUDIO_GEMINI_BASE_URL", emulator.base_url)
    st.cache_resource.clear()
    caplog.set_level(logging.DEBUG)
    google = Connection(mode="oauth", access_token=SECRET_TOKEN, subject="108-subject", email="a@example.com")
    connection = with_server_key(google, SECRET_KEY, email="a@example.com", email_verified=True,
                                 base_url=emulator.base_url)
    at = AppTest.from_file(APP, default_timeout=60)
    settling(at)
    at.session_state["connection"] = connection
    at.session_state["oauth_token"] = {"access_token": SECRET_TOKEN, "token_type": "Bearer"}
    at.run()
    at.text_area(key="prompt").input("a harbour on the owner's key").run()
    at.button(key="generate").click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["session_entry_ids"]) == 1
    views = drawn(at)
    assert any("Key configured on this server" in view and "a@example.com" in view for view in views), \
        "the scan reads what was drawn (the sidebar's connection line)"
    at.switch_page("app_pages/account.py").run()
    views += drawn(at)
    assert any("with your Google sign-in" in view for view in views), "the Account page was drawn"

    namespace = namespace_for(connection, data_dir)
    assert namespace == "google:108-subject"
    json_views = AppTest.from_function(_render_json_views, args=(str(data_dir), namespace), default_timeout=30).run()
    assert len(json_views.json) == 3, "request, response and usage views of the entry"
    store = HistoryStore.open(data_dir=data_dir)
    assert [e.status for e in store.list_entries(namespace)] == ["ok"], "made with the server's key"
    store.close()
    views += [el.value if isinstance(el.value, str) else repr(el.value) for el in json_views.json]
    captured = capfd.readouterr()
    for secret in (SECRET_KEY, SECRET_TOKEN):
        assert not [view for view in views if secret in view]
        assert not _files_containing(data_dir, secret)
        assert secret not in caplog.text + captured.out + captured.err
        assert secret not in repr(connection) and secret not in str(at.session_state["connection"])

def _render_json_views(data_dir: str, namespace: str) -> None:
    from pathlib import Path

    from components import history_views
    from studio.history import HistoryStore

    store = HistoryStore.open(data_dir=Path(data_dir))
    for entry in store.list_entries(namespace):
        history_views.render_json(entry)
