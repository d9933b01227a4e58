"""The embedding model's facts, read from the registry (studio/models.toml ``[embedding_models]``) and checked.

History's search by meaning needs one model ID, its vector size, its limits and its price; they live in data
like every other model fact, so a new embedding model is a registry edit, not a release.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.registry import MAIN_NAME, RegistryError, main_data

_INTS = ("dimensions", "max_dimensions", "min_dimensions", "input_token_limit", "max_images", "max_batch",
         "image_tokens")
_PRICES = ("text_input", "image_input")
CHARS_PER_TOKEN = 4  # the studio's estimate before sending (Google's usage is counted after)


@dataclass(frozen=True)
class EmbeddingSpec:
    """One embedding model: ID, the vector size the studio asks for, limits and prices (USD per 1M tokens)."""

    key: str
    label: str
    model_id: str
    dimensions: int
    max_dimensions: int
    min_dimensions: int
    input_token_limit: int
    max_images: int
    max_batch: int
    image_tokens: int
    text_price: float
    image_price: float
    description: str = ""

    @property
    def max_chars(self) -> int:
        """Characters of text that fit the model's input limit (by the studio's 4-characters-a-token rule)."""
        return self.input_token_limit * CHARS_PER_TOKEN

    def text_tokens(self, text: str) -> int:
        return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))

    def estimate(self, text_chars: int, images: int) -> float:
        """USD for text of this many characters and this many images, before sending."""
        tokens = max(1, math.ceil(text_chars / CHARS_PER_TOKEN))
        return (tokens * self.text_price + images * self.image_tokens * self.image_price) / 1e6

    def cost(self, text_tokens: int, image_tokens: int) -> float:
        """USD from the usage Google reported."""
        return (text_tokens * self.text_price + image_tokens * self.image_price) / 1e6


def _fail(key: str, field: str, problem: str) -> RegistryError:
    return RegistryError(f"{MAIN_NAME}: [embedding_models.{key}] {field}: {problem}")


def parse(key: str, raw: Mapping[str, Any]) -> EmbeddingSpec:
    """One ``[embedding_models.<key>]`` table as a spec; a RegistryError names what is wrong."""
    for field in ("label", "model_id"):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise _fail(key, field, "must be text in quotes")
    for field in _INTS:
        value = raw.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise _fail(key, field, f"must be a whole number above 0, not {value!r}")
    prices = raw.get("prices")
    if not isinstance(prices, Mapping) or any(not isinstance(prices.get(p), int | float) or prices[p] < 0
                                              for p in _PRICES):
        raise _fail(key, "prices", "must be a table like { text_input = 0.2, image_input = 0.2 }")
    if not raw["min_dimensions"] <= raw["dimensions"] <= raw["max_dimensions"]:
        raise _fail(key, "dimensions", f"must lie between min_dimensions and max_dimensions, not {raw['dimensions']}")
    listing = raw.get("listing") or {}
    return EmbeddingSpec(key=key, label=raw["label"], model_id=raw["model_id"],
                         **{f: int(raw[f]) for f in _INTS},
                         text_price=float(prices["text_input"]), image_price=float(prices["image_input"]),
                         description=str(listing.get("description", "")))


def all_specs(data: Mapping[str, Any] | None = None) -> list[EmbeddingSpec]:
    """Every embedding model of the registry, in file order."""
    tables = (data if data is not None else main_data()).get("embedding_models", {})
    if not isinstance(tables, Mapping):
        raise RegistryError(f"{MAIN_NAME}: [embedding_models] must be tables of models")
    return [parse(str(key), raw) for key, raw in tables.items()]


def default_spec(data: Mapping[str, Any] | None = None) -> EmbeddingSpec:
    """The embedding model the studio uses (``default = true``, else the first)."""
    tables = (data if data is not None else main_data()).get("embedding_models", {})
    specs = all_specs(data)
    if not specs:
        raise RegistryError(f"{MAIN_NAME}: no [embedding_models] table: search by meaning needs one")
    chosen = [s for s in specs if tables[s.key].get("default")]
    return chosen[0] if chosen else specs[0]
