"""Which Gemini text model the prompt assistant uses, and what it costs (the ``[text_models]`` registry table).

The facts live in studio/models.toml. The operator may name another model (``STUDIO_TEXT_MODEL``, or
``text_model`` in the ``[assistant]`` secrets); when the credential's model list lacks the configured
model, the first preferred model it lists is used instead, so a retired ID never breaks the buttons.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from studio import registry

ENV_MODEL = "STUDIO_TEXT_MODEL"
_WHERE = f"{registry.MAIN_NAME}: [text_models]"
TASKS = ("improve", "variation", "describe")


@dataclass(frozen=True)
class TextModel:
    """One text model: its ID, its name for people, and its prices (USD per 1M tokens)."""

    model_id: str
    label: str
    input_price: float
    output_price: float

    def cost(self, prompt_tokens: int, output_tokens: int) -> float:
        """USD for a call's tokens; thinking tokens count as output, as Google bills them."""
        return (prompt_tokens * self.input_price + output_tokens * self.output_price) / 1_000_000


@dataclass(frozen=True)
class TextModels:
    """The table as checked: models in order of preference, and the figures an estimate uses."""

    preferred: tuple[TextModel, ...]
    image_input_tokens: int
    thinking_allowance: int
    expected_output: Mapping[str, int]

    def known(self, model_id: str) -> TextModel | None:
        return next((m for m in self.preferred if m.model_id == model_id), None)

    def priced(self, model_id: str, label: str | None = None) -> TextModel:
        """A model by ID; one the table does not know is priced as its dearest model (an estimate errs high)."""
        found = self.known(model_id)
        if found is not None:
            return found
        dearest = max(self.preferred, key=lambda m: (m.output_price, m.input_price))
        return TextModel(model_id, label or model_id, dearest.input_price, dearest.output_price)

    def estimate(self, model: TextModel, text: str, images: int, task: str, count: int = 1) -> float:
        """USD a call is expected to cost before it is sent: text at 4 characters a token, a fixed count per
        picture, and the table's expected answer plus thinking allowance."""
        prompt = max(1, math.ceil(len(text) / 4)) + images * self.image_input_tokens
        output = self.expected_output.get(task, 100) * max(1, count) + self.thinking_allowance
        return model.cost(prompt, output)


def _number(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise registry.RegistryError(f"{_WHERE} {field}: must be a whole number of 0 or more, not {value!r}")
    return value


def parse(table: Mapping[str, Any]) -> TextModels:
    """Check the table; a mistake raises ``RegistryError`` naming the field."""
    models = table.get("models")
    if not isinstance(models, Mapping) or not models:
        raise registry.RegistryError(f"{_WHERE}: needs at least one [text_models.models.<key>] table")
    built: dict[str, TextModel] = {}
    for key, entry in models.items():
        where = f"{registry.MAIN_NAME}: [text_models.models.{key}]"
        if not isinstance(entry, Mapping):
            raise registry.RegistryError(f"{where}: must be a table of fields")
        prices = entry.get("prices")
        if not isinstance(prices, Mapping) or not {"text_input", "text_output"} <= set(prices):
            raise registry.RegistryError(f"{where} prices: must give text_input and text_output (USD per 1M tokens)")
        for name in ("model_id", "label"):
            if not isinstance(entry.get(name), str) or not str(entry.get(name)).strip():
                raise registry.RegistryError(f"{where} {name}: must be text in quotes")
        for name in ("text_input", "text_output"):
            value = prices[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise registry.RegistryError(f"{where} prices.{name}: must be a number of 0 or more, not {value!r}")
        built[str(key)] = TextModel(str(entry["model_id"]), str(entry["label"]), float(prices["text_input"]),
                                    float(prices["text_output"]))
    order = table.get("preferred", list(built))
    if not isinstance(order, list) or any(k not in built for k in order):
        raise registry.RegistryError(f"{_WHERE} preferred: must list keys of [text_models.models] "
                                     f"({', '.join(built)})")
    rest = [k for k in built if k not in order]
    expected = table.get("expected_output", {})
    if not isinstance(expected, Mapping) or any(k not in TASKS for k in expected):
        raise registry.RegistryError(f"{_WHERE} expected_output: must be a table of {', '.join(TASKS)}")
    return TextModels(tuple(built[k] for k in [*order, *rest]),
                      _number(table.get("image_input_tokens", 258), "image_input_tokens"),
                      _number(table.get("thinking_allowance", 0), "thinking_allowance"),
                      {k: _number(v, f"expected_output.{k}") for k, v in expected.items()})


@functools.lru_cache(maxsize=4)
def _load(mtime: float) -> TextModels:
    return parse(registry.main_data().get("text_models", {}))


def load() -> TextModels:
    """The shipped table, checked once per change of the file."""
    return _load(registry.MAIN_FILE.stat().st_mtime)


def configured(secrets: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The model ID the operator named: ``STUDIO_TEXT_MODEL``, else ``[assistant] text_model``; None if neither."""
    env = os.environ if env is None else env
    named = env.get(ENV_MODEL, "").strip() or str((secrets or {}).get("text_model") or "").strip()
    return named.removeprefix("models/") or None


def _serves_text(listed: Mapping[str, Any]) -> bool:
    methods = listed.get("supported_actions") or listed.get("supportedGenerationMethods") or []
    return "generateContent" in methods


def choose(table: TextModels, configured_id: str | None, listed: Iterable[Mapping[str, Any]] | None) -> TextModel:
    """The model to use: the configured one, else the first preferred; when the credential's list is known,
    the first of those it offers (a listed Flash model as a last resort); the first preferred when it offers none."""
    wanted = [configured_id] if configured_id else []
    wanted += [m.model_id for m in table.preferred]
    if listed is None:
        return table.priced(wanted[0])
    offered = {str(m.get("name", "")).removeprefix("models/"): m for m in listed if _serves_text(m)}
    for model_id in wanted:
        if model_id in offered:
            return table.priced(model_id, str(offered[model_id].get("display_name") or "") or None)
    for model_id, facts in offered.items():
        name = f"{model_id} {facts.get('display_name') or facts.get('displayName') or ''}".lower()
        if "flash" in name and "image" not in name and "embedding" not in name:
            return table.priced(model_id, str(facts.get("display_name") or "") or None)
    return table.priced(wanted[0])
