"""Two replicas, one History: two `streamlit run` processes on one PostgreSQL database and one S3 bucket.

Real parts only: PostgreSQL from Debian's binaries (tests/history/postgres.py), moto's S3 server on loopback,
two studio processes with their own data folders and the same namespace salt, both calling one test
emulator, each driven by its own Chromium context. An image made on A shows in B's History with its files
in the bucket (none on either replica's disk). Through the History page's own controls: a favorite made on A
shows as a favorite on B, a delete made on B is gone on A, and a ZIP exported by the studio and imported on A
shows on B, each after the other replica's History is drawn again. Stopping A loses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, Page, expect

from bench.studio_process import StudioProcess
from studio.credentials import Connection
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore
from studio.history.namespaces import namespace_for
from tests.conftest import TEST_KEY
from tests.history.postgres import PostgresServer

from .conftest import wait_for_app_run
from .test_jobs import LANDED_S, connect, generate, go, history_count, open_buttons

pytestmark = pytest.mark.browser
SALT = "replica-test-salt-" + "0" * 32
KEY_ID = "AKIATESTREPLICAS"
SECRET = "replica-secret-never-shown"
REGION = "us-east-1"
PREFIX = "team/media"


def _s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET)


@pytest.fixture
def shared(postgres_server: PostgresServer, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh database and bucket; the environment both replicas (and this test's own store) share."""
    bucket = f"replicas-{uuid.uuid4().hex[:12]}"
    _s3(s3_endpoint).create_bucket(Bucket=bucket)
    env = {"STUDIO_DATABASE_URL": postgres_server.create_database(), "STUDIO_MEDIA_URL": f"s3://{bucket}/{PREFIX}",
           "AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_REGION": REGION, "STUDIO_NAMESPACE_SALT": SALT}
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.setenv(name, env[name])  # for the HistoryStore this test opens on the same backends
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return {**env, "bucket": bucket}


def _keys(endpoint: str, bucket: str) -> list[str]:
    listing = _s3(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _local_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "ns").rglob("*") if p.is_file()] if (data_dir / "ns").exists() else []


def refresh_history(page: Page) -> None:
    """Draw History again (a browser reload would start a new session, which must connect again)."""
    go(page, "Generate")
    go(page, "History")


def select_first_row(page: Page) -> None:
    """Open the first entry of History (its tile in the Gallery, History's first view), unless an entry is
    already shown."""
    delete = page.get_by_role("button", name="Delete", exact=True)
    if delete.count():
        return
    first_tile = page.locator('[class*="st-key-h_open_"] button').first
    expect(first_tile).to_be_visible(timeout=LANDED_S)
    first_tile.click()
    expect(delete).to_be_visible(timeout=LANDED_S)
    wait_for_app_run(page)


def favorites_only(page: Page) -> None:
    """Flip "★ only", which sits in History's Filters control, then close the control."""
    page.get_by_role("button", name="Filters").click()
    page.get_by_text("★ only", exact=True).click()
    wait_for_app_run(page)
    page.keyboard.press("Escape")


def click_and_wait(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    wait_for_app_run(page)


def open_export_import(page: Page) -> None:
    """Open the "Export and import" expander (it keeps its state across reruns: click only when closed)."""
    details = page.locator('[data-testid="stExpander"] details').filter(has_text="Export and import")
    expect(details).to_have_count(1, timeout=LANDED_S)
    if details.get_attribute("open") is None:
        details.get_by_text("Export and import", exact=True).click()
    expect(details).to_have_attribute("open", "")


def export_everything(page: Page, folder: Path) -> Path:
    open_export_import(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export everything (ZIP)").click()
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def import_archive(page: Page, archive: Path, entries: int) -> None:
    open_export_import(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(archive))
    # the page draws Import once the server holds the upload
    expect(page.get_by_role("button", name="Import", exact=True)).to_be_visible(timeout=LANDED_S)
    wait_for_app_run(page)
    click_and_wait(page, "Import")
    expect(page.get_by_text(f"Imported {entries} entries.", exact=True)).to_be_visible(timeout=LANDED_S)


def test_two_replicas_share_one_history(start_studio: Callable[..., StudioProcess], fresh_emulator: Callable[
        ..., EmulatorServer], shared: dict[str, str], page: Page, browser: Browser, tmp_path: Path) -> None:
    api = fresh_emulator(latency_s=0.2)
    env = {k: v for k, v in shared.items() if k != "bucket"}
    env["STUDIO_GEMINI_BASE_URL"] = api.base_url
    data_a, data_b = tmp_path / "data", tmp_path / "data-b"
    replica_a = start_studio(env={**env, "STUDIO_DATA_DIR": str(data_a)})
    replica_b = start_studio(env={**env, "STUDIO_DATA_DIR": str(data_b)})
    assert replica_a.port != replica_b.port

    context_b = browser.new_context(viewport={"width": 1440, "height": 1000})
    page_b = context_b.new_page()
    store = HistoryStore.open(url=shared["STUDIO_DATABASE_URL"], data_dir=tmp_path / "test-store",
                              media_url=shared["STUDIO_MEDIA_URL"])
    try:
        # an image made on A ...
        connect(page, replica_a.url)
        generate(page, "a lighthouse shared by two replicas")
        expect(open_buttons(page)).to_have_count(1, timeout=LANDED_S)
        history_count(page, 1)

        # ... is in B's History (B never made it: its own job runner is idle)
        connect(page_b, replica_b.url)
        history_count(page_b, 1)
        expect(page_b.locator('[data-testid="stException"]')).to_have_count(0)
        assert api.stats()["requests"]["ok"] == 1

        # one namespace on both replicas (same salt), the files in the bucket, none on either disk
        namespace = namespace_for(Connection(mode="api_key", api_key=TEST_KEY), tmp_path / "unused", salt=SALT)
        entries = store.list_entries(namespace)
        assert len(entries) == 1 and entries[0].status == "ok"
        entry = entries[0]
        original = store.read_image(namespace, entry.id)
        assert original and store.read_thumbnail(namespace, entry.id)
        keys = _keys(shared["AWS_ENDPOINT_URL"], shared["bucket"])
        assert all(key.startswith(f"{PREFIX}/ns/") for key in keys), keys
        assert any(key.endswith(".thumb.jpg") for key in keys), keys
        assert any(not key.endswith(".thumb.jpg") and key.rsplit("/", 1)[-1].startswith(entry.id) for key in keys), \
            (entry.id, keys)
        assert _local_files(data_a) == [] and _local_files(data_b) == []

        # a favorite made on A's History page shows as a favorite in B's History
        go(page, "History")
        select_first_row(page)
        click_and_wait(page, "☆ Favorite")
        expect(page.get_by_role("button", name="★ Unfavorite", exact=True)).to_be_visible(timeout=LANDED_S)
        refresh_history(page_b)
        favorites_only(page_b)
        expect(page_b.get_by_text("1 entry", exact=True)).to_be_visible(timeout=LANDED_S)
        wait_for_app_run(page_b)
        select_first_row(page_b)
        expect(page_b.get_by_role("button", name="★ Unfavorite", exact=True)).to_be_visible()
        favorites_only(page_b)  # back to everything

        # A exports its History as the studio's ZIP (kept for the import below)
        archive = export_everything(page, tmp_path)
        wait_for_app_run(page)

        # a delete made on B's History page is gone from A's History
        select_first_row(page_b)
        click_and_wait(page_b, "Delete")
        expect(page_b.get_by_text("Nothing here yet.")).to_be_visible(timeout=LANDED_S)
        refresh_history(page)
        expect(page.get_by_text("Nothing here yet.")).to_be_visible(timeout=LANDED_S)
        assert store.count_entries(namespace) == 0

        # the ZIP imported on A's History page shows in B's History, with its image
        import_archive(page, archive, 1)
        refresh_history(page_b)
        expect(page_b.get_by_text("1 entry", exact=True)).to_be_visible(timeout=LANDED_S)
        imported = store.list_entries(namespace)
        assert [e.prompt for e in imported] == ["a lighthouse shared by two replicas"] and imported[0].id != entry.id
        assert imported[0].favorite, "the favorite travelled in the archive"
        assert store.read_image(namespace, imported[0].id) == original
        assert _local_files(data_a) == [] and _local_files(data_b) == [], "the import wrote to the bucket only"

        # stopping A loses nothing
        replica_a.stop()
        refresh_history(page_b)
        expect(page_b.get_by_text("1 entry", exact=True)).to_be_visible(timeout=LANDED_S)
        assert len(store.list_entries(namespace)) == 1
    finally:
        store.close()
        context_b.close()
