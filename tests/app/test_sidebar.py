"""The control sidebar offers only what the selected model takes, and shows pixels and cost."""

from __future__ import annotations

import pytest

from studio.catalogue import Catalogue
from tests.lineup_catalogue import use_lineup


@pytest.fixture
def lineup(monkeypatch: pytest.MonkeyPatch) -> Catalogue:
    """The December 2026 lineup (2.1 by default; Nano Banana 2 and Nano Banana retired)."""
    return use_lineup(monkeypatch)


def _options(widget) -> list[str]:
    return list(widget.options)


def test_the_settings_appear_once_connected(studio_app, emulator) -> None:
    signed_out = studio_app()
    assert not signed_out.sidebar.radio and not signed_out.sidebar.selectbox, "no settings before connecting"
    connected = studio_app(emulator)
    assert _options(connected.radio(key="image_size")) == ["1K", "2K", "4K"]


def test_choices_follow_the_model(studio_app, emulator, lineup) -> None:
    at = studio_app(emulator)
    assert {"1:4", "4:1", "1:8", "8:1"} <= set(_options(at.selectbox(key="aspect_ratio"))), "2.1 by default"
    at.selectbox(key="model_key").set_value("pro").run()
    assert "1:4" not in _options(at.selectbox(key="aspect_ratio"))
    assert _options(at.radio(key="image_size")) == ["1K", "2K", "4K"]
    at.selectbox(key="model_key").set_value("lite").run()
    assert _options(at.radio(key="image_size")) == ["1K"]
    assert len(_options(at.selectbox(key="aspect_ratio"))) == 14


def test_switching_model_keeps_what_still_fits(studio_app, emulator, lineup) -> None:
    at = studio_app(emulator)
    at.selectbox(key="aspect_ratio").set_value("21:9").run()
    at.radio(key="image_size").set_value("2K").run()
    at.selectbox(key="model_key").set_value("pro").run()
    assert at.session_state["aspect_ratio"] == "21:9" and at.session_state["image_size"] == "2K"
    assert not at.sidebar.info, "nothing changed, nothing to say"
    at.selectbox(key="model_key").set_value("nb21").run()
    at.selectbox(key="aspect_ratio").set_value("8:1").run()
    at.selectbox(key="model_key").set_value("pro").run()
    assert at.session_state["aspect_ratio"] == "21:9", "8:1 does not fit Pro: the nearest shape it has"
    assert any("Aspect ratio set to 21:9" in note.value for note in at.sidebar.info)


def test_exact_pixels_and_cost_are_shown(studio_app, emulator, lineup) -> None:
    at = studio_app(emulator)
    at.selectbox(key="model_key").set_value("pro").run()
    at.selectbox(key="aspect_ratio").set_value("21:9").run()
    at.radio(key="image_size").set_value("4K").run()
    at.slider(key="count").set_value(4).run()
    assert any("6336 × 2688 px" in c.value for c in at.caption)
    assert at.metric[0].value == "$0.960"  # 4 × $0.24 at 4K


def test_jpeg_quality_only_for_jpeg(studio_app, emulator) -> None:
    at = studio_app(emulator)
    assert not [s for s in at.slider if s.key == "jpeg_quality"]
    at.radio(key="output_format").set_value("JPEG").run()
    assert at.slider(key="jpeg_quality").value == 90


def test_seed_randomize(studio_app, emulator) -> None:
    at = studio_app(emulator)
    assert at.session_state["seed"] is None
    at.button(key="seed_randomize").click().run()
    assert isinstance(at.session_state["seed"], int)


def test_the_sidebar_offers_new_image_models_and_flags_vanished_ones(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(extra_models=("gemini-4-pro-image",))
    at = studio_app(api)
    offer = next(b for b in at.sidebar.button if b.label == "Try gemini-4-pro-image")
    offer.click().run()
    assert at.session_state["custom_model_id"] == "gemini-4-pro-image"


def test_the_sidebar_flags_a_model_google_no_longer_lists(fresh_emulator) -> None:
    from streamlit.testing.v1 import AppTest

    from studio.credentials import Connection
    from tests.app.conftest import APP

    api = fresh_emulator()
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["models"] = {"pro": "gemini-3-pro-image-retired"}  # the catalogue's ID, renamed at Google
    at.session_state["connection"] = Connection(mode="api_key", api_key="test-key", base_url=api.base_url)
    at.session_state["model_key"] = "pro"
    at.run()
    assert any("no longer lists gemini-3-pro-image-retired" in w.value for w in at.sidebar.warning)
    assert any(b.label == "Try gemini-3-pro-image" for b in at.sidebar.button), "the ID Google lists is offered"
