"""The batch lane in AppTest: the lane beside Generate, the half-price estimate, more images, results in History."""

from __future__ import annotations

import pytest

from components.state import LANE, LANE_BATCH, LANE_NOW
from studio.catalogue import PRO


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_BATCH_POLL_S", "0.1")


def _estimate(at) -> str:
    return next(m.value for m in at.metric if m.label == "Estimated cost")


def test_the_batch_lane_halves_the_estimate_and_takes_more_images(studio_app, fresh_emulator) -> None:
    api = fresh_emulator(batch_delay_s=0.5)
    at = studio_app(api, model_key="pro")
    assert at.radio(key=LANE).value == LANE_NOW and at.radio(key=LANE).options[:2] == [LANE_NOW, LANE_BATCH]
    assert at.slider(key="count").max == 8
    at.radio(key=LANE).set_value(LANE_BATCH).run()
    assert at.slider(key="count").max == 200, "Google's batch takes many more images"
    at.slider(key="count").set_value(12).run()
    assert _estimate(at) == f"${PRO.estimate_cost('1K', 12) / 2:.3f}", "the estimate is the batch price"
    at.text_area(key="prompt").input("twelve product shots of a lamp")
    at.button(key="generate").click().run()
    assert not at.exception and not at.error
    assert [b.label for b in at.button].count("Open") == 12, "every image of the batch lands in the grid"
    at.switch_page("app_pages/history.py").run()
    assert "12 entries" in [c.value for c in at.caption]
    at.switch_page("app_pages/generate.py").run()
    assert at.radio(key=LANE).value == LANE_BATCH, "the lane survives a page switch"
    at.radio(key=LANE).set_value(LANE_NOW).run()
    assert at.slider(key="count").value == 8, "back in the Now lane: at most 8 at once"
    assert _estimate(at) == f"${PRO.estimate_cost('1K', 8):.3f}"
