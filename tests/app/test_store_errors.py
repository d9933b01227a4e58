"""A History that cannot open says so plainly at start: no traceback, no silent fallback to local disk."""

from __future__ import annotations

import pytest


def test_an_unreachable_bucket_is_one_plain_message(studio_app, monkeypatch: pytest.MonkeyPatch,
                                                    isolated_studio) -> None:
    monkeypatch.setenv("STUDIO_MEDIA_URL", "s3://team-history/images")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    at = studio_app()
    assert not at.exception
    assert any("History cannot be opened" in e.value and "team-history" in e.value for e in at.error)
    assert "test-secret" not in " ".join(e.value for e in at.error)
    assert not [p for p in isolated_studio.rglob("*") if p.is_file() and "ns" in p.parts], "no local fallback"


def test_a_bad_database_url_is_one_plain_message(studio_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_DATABASE_URL", "mysql://somewhere/db")
    at = studio_app()
    assert not at.exception
    assert any("History cannot be opened" in e.value for e in at.error)
