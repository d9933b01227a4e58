"""The December 2026 lineup as the tests name it: the shipped registry (studio/models.toml), no copy of its facts.

Nano Banana 2.1 (the default), Nano Banana Pro, Nano Banana 2 Lite; Nano Banana 2 and Nano Banana retired with
2.1 as their successor. Facts from /work/shared/reference/gemini-api-facts.md ("Models (Dec 2026)").
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from studio.catalogue import DEFAULT_CATALOGUE, FLASH, FLASH2, PRO, Catalogue, ModelSpec

NB21 = DEFAULT_CATALOGUE.by_key("nb21")
PRO_DEC = DEFAULT_CATALOGUE.by_key("pro")
LITE = DEFAULT_CATALOGUE.by_key("lite")
FLASH2_RETIRED = DEFAULT_CATALOGUE.by_key("flash2")
FLASH_RETIRED = DEFAULT_CATALOGUE.by_key("flash")
NB21_ID = NB21.model_id
LITE_ID = LITE.model_id
GA = {"status": "ga", "deprecated_on": None, "retired_on": None, "successor": None}  # whatever the base spec says
DEC_2026: tuple[ModelSpec, ...] = DEFAULT_CATALOGUE.models


def catalogue() -> Catalogue:
    return DEFAULT_CATALOGUE


def november_2026() -> Catalogue:
    """The lineup before the registry: Pro, Nano Banana 2 and Nano Banana all offered (tests of per-model limits)."""
    return Catalogue(tuple(replace(spec, **GA) for spec in (PRO, FLASH2, FLASH)))


def use_lineup(monkeypatch: pytest.MonkeyPatch, made: Catalogue | None = None) -> Catalogue:
    """Make the app (its cached catalogue, and the job runner built from it) use a lineup: December 2026's unless
    another is given."""
    made = made or catalogue()
    monkeypatch.setattr(Catalogue, "from_config", classmethod(lambda cls, config=None: made))
    return made
