"""Fixtures for the reliability suite."""

from __future__ import annotations

from tests.app.conftest import isolated_studio, studio_app  # noqa: F401 - the AppTest fixtures
from tests.browser.conftest import browser, page, start_studio  # noqa: F401 - shared browser fixtures
