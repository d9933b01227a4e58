"""The shell: the sign-in gate, navigation, the offline mode and its banner."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_not_connected_sees_only_the_welcome_page(studio_app) -> None:
    at = studio_app()
    assert not at.exception
    assert at.title[0].value.startswith("🍌 Nano Banana Pro studio")
    labels = [b.label for b in at.button]
    assert "Try offline" in labels
    assert "Generate" not in labels, "the Generate page is behind the sign-in gate"


def test_the_welcome_page_starts_no_runner_and_connecting_starts_it(studio_app, monkeypatch: pytest.MonkeyPatch,
                                                                     isolated_studio) -> None:
    """A woken app paints its welcome page without the job runner (its start freezes the heap: cold start,
    issue 22); the first connected run starts it, and it marks work a dead process left running."""
    from studio.jobs import JobRunner

    started: list[JobRunner] = []
    recover = JobRunner.recover
    monkeypatch.setattr(JobRunner, "recover", lambda self, store: started.append(self) or recover(self, store))
    at = studio_app(settled=False)  # (settling waits on the runner, so it would start one)
    assert not at.exception and "Try offline" in [b.label for b in at.button]
    assert started == [], "no runner before anyone connects"
    at.button(key="try_offline").click().run()
    assert at.title[0].value == "Generate" and len(started) == 1


def test_try_offline_connects_to_the_bundled_emulator_and_labels_it(studio_app) -> None:
    at = studio_app()
    at.button(key="try_offline").click().run()
    connection = at.session_state["connection"]
    assert connection.mode == "offline" and connection.base_url.startswith("http://127.0.0.1:")
    assert any("Offline mode" in m.value and "badge" in m.value for m in at.markdown), "the offline chip"
    assert at.title[0].value == "Generate"


def test_offline_mode_can_be_turned_off(studio_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_OFFLINE_MODE", "off")
    at = studio_app()
    assert "Try offline" not in [b.label for b in at.button]


def test_empty_api_key_gets_its_own_message(studio_app) -> None:
    at = studio_app()
    at.text_input(key="api_key_input").input("   ")
    next(b for b in at.button if b.label == "Connect with API key").click()  # the form's submit button (Try offline comes first)
    at.run()
    assert any("field is empty" in e.value for e in at.error)
    assert "connection" not in at.session_state


def test_bad_api_key_is_refused_plainly(studio_app, emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_GEMINI_BASE_URL", emulator.base_url)
    at = studio_app()
    at.text_input(key="api_key_input").input("AIzaNOT-A-REAL-KEY-123456789")
    next(b for b in at.button if b.label == "Connect with API key").click()
    at.run()
    assert any(e.value.startswith("API key not valid") for e in at.error)
    assert "AIzaNOT" not in str([e.value for e in at.error])


def test_good_api_key_with_spaces_connects(studio_app, emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_GEMINI_BASE_URL", emulator.base_url)
    at = studio_app()
    at.text_input(key="api_key_input").input("  test-key  ")
    next(b for b in at.button if b.label == "Connect with API key").click()
    at.run()
    assert at.session_state["connection"].api_key == "test-key"
    assert at.title[0].value == "Generate"


def test_no_pages_folder() -> None:
    assert not (ROOT / "pages").exists(), "a pages/ folder would bypass the sign-in gate"


def test_a_malformed_registry_override_stops_the_studio_with_one_plain_message(
        studio_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models.toml"
    models.write_text('[models.nb21]\nsizes = ["3K"]\n', encoding="utf-8")
    monkeypatch.setenv("STUDIO_MODELS_FILE", str(models))
    at = studio_app(settled=False)  # settling asks for the runner, which needs the catalogue
    assert not at.exception
    [error] = at.error
    assert str(models) in error.value or "models.toml" in error.value
    assert "[models.nb21]" in error.value and "3K" in error.value
    assert "Try offline" not in [b.label for b in at.button], "nothing else is drawn"
