"""The December 2026 lineup as test data, built from the shipped specs (until the registry file is merged).

Nano Banana 2.1 (the default), Nano Banana Pro, Nano Banana 2 Lite; Nano Banana 2 and Nano Banana retired with
2.1 as their successor. Facts from /work/shared/reference/gemini-api-facts.md ("Models (Dec 2026)").
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from studio.catalogue import ALL_RATIOS, FLASH, FLASH2, PRO, Catalogue, ModelSpec

NB21_ID = "gemini-nano-banana-2.1"
LITE_ID = "gemini-3.1-flash-lite-image"
LANES = {"now": 1.0, "batch": 0.5, "flex": 0.5}
GA = {"status": "ga", "deprecated_on": None, "retired_on": None, "successor": None}  # whatever the base spec says

NB21 = replace(FLASH2, **GA, key="nb21", label="Nano Banana 2.1", model_id=NB21_ID, ratios=ALL_RATIOS,
               sizes=("1K", "2K", "4K"), default_size="1K", usd_per_output_token=30 / 1_000_000,
               thinking_levels=("minimal", "medium", "high"), default_thinking_level="medium",
               grounding=("web_search", "image_search"), input_kinds=("image", "pdf", "video"),
               lane_price_share=LANES)
PRO_DEC = replace(PRO, **GA, grounding=("web_search",), lane_price_share=LANES)
LITE = replace(FLASH2, **GA, key="lite", label="Nano Banana 2 Lite", model_id=LITE_ID, sizes=("1K",), default_size="1K",
               thinking_levels=("minimal", "high"), default_thinking_level="minimal", grounding=(),
               supports_search=False, lane_price_share=LANES)
FLASH2_RETIRED = replace(FLASH2, status="retired", deprecated_on="2026-10-06", retired_on="2026-10-29",
                         successor="nb21")
FLASH_RETIRED = replace(FLASH, status="retired", retired_on="2026-10-02", successor="nb21")
DEC_2026: tuple[ModelSpec, ...] = (NB21, PRO_DEC, LITE, FLASH2_RETIRED, FLASH_RETIRED)


def catalogue() -> Catalogue:
    return Catalogue(DEC_2026)


def november_2026() -> Catalogue:
    """The lineup before the registry: Pro, Nano Banana 2 and Nano Banana all offered (tests of per-model limits)."""
    return Catalogue(tuple(replace(spec, **GA) for spec in (PRO, FLASH2, FLASH)))


def use_lineup(monkeypatch: pytest.MonkeyPatch, made: Catalogue | None = None) -> Catalogue:
    """Make the app (its cached catalogue, and the job runner built from it) use a lineup: December 2026's unless
    another is given."""
    made = made or catalogue()
    monkeypatch.setattr(Catalogue, "from_config", classmethod(lambda cls, config=None: made))
    return made
