"""The model catalogue: the registry's facts (studio/models.toml) as ModelSpec objects.

Google renames and retires these models, so every fact is data: the registry file, overridable by the
operator (secrets ``[models]``, STUDIO_MODELS_FILE, STUDIO_MODEL_<KEY> env vars), and any custom ID is
accepted with generic limits. This module builds and looks up specs; ``studio.registry`` reads and checks
the file. The facts and their sources: docs/GEMINI-API.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from studio import registry
from studio.registry import GROUNDING_KINDS, LANES, STATUSES, THINKING_LEVELS, RegistryError

__all__ = ["ALL_RATIOS", "ALL_SIZES", "EXTREME_RATIOS", "GROUNDING_KINDS", "LANES", "STATUSES", "TEN_RATIOS",
           "THINKING_LEVELS", "Catalogue", "ModelSpec", "RegistryError", "custom_model", "startup_problem"]

TEN_RATIOS: tuple[str, ...] = registry.RATIOS[:10]
EXTREME_RATIOS: tuple[str, ...] = registry.RATIOS[10:]
ALL_RATIOS: tuple[str, ...] = registry.RATIOS
ALL_SIZES: tuple[str, ...] = registry.SIZES


@dataclass(frozen=True)
class ModelSpec:
    """What one image model accepts and what it costs."""

    key: str  # stable internal key: "pro", "flash2", "flash", "custom"
    label: str  # the name users know
    model_id: str  # the ID sent to the API (overridable)
    ratios: tuple[str, ...]
    sizes: tuple[str, ...]
    default_size: str
    max_references: int
    max_objects: int
    max_people: int
    recommended_references: int
    pixels: Mapping[tuple[str, str], tuple[int, int]] = field(repr=False)
    tokens_per_image: Mapping[str, int] = field(repr=False)
    usd_per_output_token: float = 0.0  # image output tokens
    usd_per_input_image: float = 0.0011
    usd_per_input_token: float = 0.0  # prompt text and images, as usageMetadata counts them
    usd_per_text_token: float = 0.0  # text output, thinking included (Google bills thoughts as output text)
    size_is_ignored: bool = False  # Nano Banana ignores imageSize
    supports_thoughts: bool = True
    supports_search: bool = False  # Grounding with Google Search (tools: [{googleSearch: {}}])
    max_subject_images: int = 0  # a combined cap on images tagged character or object (0: the two caps above)
    # ---- lifecycle, thinking, grounding, lanes (the registry's newer facts) ----
    status: str = "ga"  # one of STATUSES; a retired model is not offered for new work
    deprecated_on: str | None = None  # ISO dates
    retired_on: str | None = None
    successor: str | None = None  # the key of the model that replaces this one
    thinking_levels: tuple[str, ...] = ()  # subset of THINKING_LEVELS; empty: no thinkingLevel field
    default_thinking_level: str | None = None
    grounding: tuple[str, ...] = ()  # subset of GROUNDING_KINDS
    input_kinds: tuple[str, ...] = ("image",)
    lane_price_share: Mapping[str, float] = field(default_factory=lambda: {"now": 1.0, "batch": 0.5},
                                                  repr=False)  # the lanes the model offers, and their price share
    # ---- what the registry adds for defaults, discovery and the emulator ----
    is_default: bool = False  # the model a new session starts on
    released_on: str | None = None
    gone: str = "shut_down"  # how Google answers a retired ID: "shut_down" or "closed_to_new_users"
    output_format: str = "JPEG"  # what the model encodes its images as (the emulator copies the habit)
    caption_odds: tuple[int, int, int] = (2, 1, 1)  # weights of (no caption, empty text part, a sentence)
    listing: Mapping[str, Any] = field(default_factory=dict, repr=False)  # description and token limits

    @property
    def offered(self) -> bool:
        """Whether new work may be sent to this model (a retired one only keeps its History readable)."""
        return self.status != "retired"

    @property
    def lanes(self) -> tuple[str, ...]:
        return tuple(lane for lane in LANES if lane in self.lane_price_share)

    def price_share(self, lane: str) -> float:
        """The share of the interactive price a lane bills (batch half, flex about half)."""
        return self.lane_price_share.get(lane, 1.0)

    def retirement_note(self, successor: ModelSpec) -> str:
        """What a person reads when work made on this retired model runs on its successor."""
        when = f" on {self.retired_on}" if self.retired_on else ""
        return f"{self.label} was retired by Google{when}; this runs on {successor.label}."

    def pixel_size(self, ratio: str, size: str) -> tuple[int, int]:
        """Exact output pixels (width, height) for a ratio and size."""
        effective = self.default_size if self.size_is_ignored else size
        return self.pixels[(ratio, effective)]

    def output_tokens(self, size: str) -> int:
        effective = self.default_size if self.size_is_ignored else size
        return self.tokens_per_image[effective]

    def price_per_image(self, size: str, lane: str = "now") -> float:
        """USD for one output image at a size, on a lane (batch and flex bill a share of the Now price)."""
        return round(self.output_tokens(size) * self.usd_per_output_token * self.price_share(lane), 4)

    def estimate_cost(self, size: str, count: int, references: int = 0, lane: str = "now") -> float:
        """Estimated USD for a batch before it runs: output images plus input reference images."""
        per_request = (self.output_tokens(size) * self.usd_per_output_token
                       + references * self.usd_per_input_image) * self.price_share(lane)
        return round(per_request * count, 4)

    def cost_from_usage(self, size: str, prompt_tokens: int, output_tokens: int, thoughts_tokens: int,
                        images: int, lane: str = "now") -> float:
        """USD computed from the usage Google recorded: image tokens at the image price, the rest of the
        output and all thinking at the text-output price, the prompt at the input price. Blocked is free."""
        if images <= 0:
            return 0.0
        image_tokens = min(output_tokens, self.output_tokens(size) * images)
        text_tokens = max(0, output_tokens - image_tokens) + max(0, thoughts_tokens)
        cost = (prompt_tokens * self.usd_per_input_token + image_tokens * self.usd_per_output_token
                + text_tokens * self.usd_per_text_token)
        return round(cost * self.price_share(lane), 6)


def _pixels(data: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[tuple[str, str], tuple[int, int]]:
    """Each ratio and size's pixels from the model's 1K tables: 2K/4K exact multiples, 512 halved to 16s."""
    table: dict[str, list[int]] = {}
    for name in spec["pixel_tables"]:
        table.update(data["pixel_tables"][name])
    scales = data.get("sizes", {})
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for ratio in spec["ratios"]:
        w, h = table[ratio]
        for size in spec["sizes"]:
            scale = float(scales.get(size, 1))
            if scale >= 1:
                out[(ratio, size)] = (int(w * scale), int(h * scale))
            else:
                out[(ratio, size)] = (max(16, int(w * scale) // 16 * 16), max(16, int(h * scale) // 16 * 16))
    return out


def spec_from(key: str, data: Mapping[str, Any], spec: Mapping[str, Any]) -> ModelSpec:
    """One registry entry as a ModelSpec (the entry is already checked)."""
    prices = spec["prices"]
    grounding = tuple(spec.get("grounding", ()))
    return ModelSpec(
        key=key, label=spec["label"], model_id=spec["model_id"].strip(),
        ratios=tuple(spec["ratios"]), sizes=tuple(spec["sizes"]), default_size=spec["default_size"],
        max_references=spec["max_references"], max_objects=spec["max_objects"], max_people=spec["max_people"],
        recommended_references=spec["recommended_references"], pixels=_pixels(data, spec),
        tokens_per_image=dict(spec["tokens_per_image"]),
        usd_per_output_token=prices["image_output"] / 1_000_000,
        usd_per_input_image=prices.get("input_image", 0.0),
        usd_per_input_token=prices.get("text_input", 0.0) / 1_000_000,
        usd_per_text_token=prices.get("text_output", 0.0) / 1_000_000,
        size_is_ignored=spec.get("size_is_ignored", False), supports_thoughts=spec.get("thinking", True),
        supports_search="web_search" in grounding, max_subject_images=spec.get("max_subject_images", 0),
        status=spec["status"], deprecated_on=spec.get("deprecated_on"), retired_on=spec.get("retired_on"),
        successor=spec.get("successor"), thinking_levels=tuple(spec.get("thinking_levels", ())),
        default_thinking_level=spec.get("default_thinking_level"), grounding=grounding,
        input_kinds=tuple(spec.get("input_kinds", ("image",))), lane_price_share=dict(spec["lanes"]),
        is_default=spec.get("default", False), released_on=spec.get("released_on"),
        gone=spec.get("gone", "shut_down"), output_format=spec.get("output_format", "JPEG"),
        caption_odds=tuple(spec.get("caption_odds", (2, 1, 1))),
        listing=dict(spec.get("listing", {})),
    )


def env_name(key: str) -> str:
    """The env var that overrides a model's ID, e.g. STUDIO_MODEL_PRO (kept from before the registry)."""
    return f"STUDIO_MODEL_{key.upper()}"


class Catalogue:
    """The models the registry knows (retired ones too, so History stays readable), in registry order."""

    def __init__(self, models: tuple[ModelSpec, ...] | None = None, custom: Mapping[str, Any] | None = None,
                 discovery: Mapping[str, Any] | None = None, lineups: Mapping[str, Any] | None = None) -> None:
        base: Catalogue | None = DEFAULT_CATALOGUE if models is None or custom is None else None
        self.models: tuple[ModelSpec, ...] = base.models if models is None and base else tuple(models or ())
        self._custom: dict[str, Any] = dict(custom if custom is not None else base._custom if base else {})
        self.discovery: dict[str, Any] = dict(discovery if discovery is not None else
                                              base.discovery if base else {})
        self.lineups: dict[str, Any] = dict(lineups if lineups is not None else base.lineups if base else {})
        self._by_id = {m.model_id: m for m in self.models}
        self._by_key = {m.key: m for m in self.models}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Catalogue:
        models = tuple(spec_from(key, data, spec) for key, spec in data["models"].items())
        return cls(models, custom=data.get("custom", {}), discovery=data.get("discovery", {}),
                   lineups=data.get("lineups", {}))

    @classmethod
    def from_config(cls, config: Mapping[str, object] | None = None) -> Catalogue:
        """The registry after the operator's overrides; raises RegistryError naming the file and key.

        ``config`` is ``st.secrets["models"]``: ``[models.<key>]`` tables add or override models; a bare
        string (``pro = "…"`` or ``STUDIO_MODEL_PRO = "…"``) overrides an ID, as do STUDIO_MODEL_<KEY> env
        vars; STUDIO_MODELS_FILE names a TOML file of ``[models.<key>]`` tables. Built once per distinct input.
        """
        config = dict(config or {})
        extra = os.environ.get(registry.ENV_FILE, "").strip()
        stamp = os.stat(extra).st_mtime if extra and os.path.exists(extra) else None
        names = {env_name(key) for key in (*_SHIPPED_KEYS, *config)}  # not all of os.environ: it is slow to walk
        env = {name: os.environ.get(name) for name in sorted(names)}
        try:
            cache_key = json.dumps([config, env, extra, stamp], sort_keys=True, default=str)
        except (TypeError, ValueError):
            cache_key = None
        if cache_key is not None and cache_key in _BUILT:
            return _BUILT[cache_key]
        data, _ = registry.load(config)
        for key, spec in data["models"].items():
            override = config.get(key) or config.get(env_name(key)) or os.environ.get(env_name(key))
            if isinstance(override, str) and override.strip():
                spec["model_id"] = override.strip()
        built = cls.from_data(data)
        if cache_key is not None:
            _BUILT[cache_key] = built
        return built

    def by_key(self, key: str) -> ModelSpec:
        return self._by_key[key]

    def custom(self, model_id: str) -> ModelSpec:
        """A model Google renamed or added: the registry's generic limits (Pro-like pixels)."""
        rules = dict(self._custom)
        base = self._by_key.get(str(rules.pop("based_on", "")), None) or self.models[0]
        overrides: dict[str, Any] = {name: tuple(v) if isinstance(v, list) else v for name, v in rules.items()
                                     if name in ModelSpec.__dataclass_fields__}
        if "grounding" in overrides:
            overrides["supports_search"] = "web_search" in overrides["grounding"]
        return replace(base, **overrides, key="custom", label=f"Custom ({model_id})", model_id=model_id,
                       status="ga", successor=None, deprecated_on=None, retired_on=None, is_default=False,
                       listing={},
                       default_thinking_level=None if not overrides.get("thinking_levels", base.thinking_levels)
                       else base.default_thinking_level)

    def resolve(self, model_id: str) -> ModelSpec:
        """The spec for an ID; unknown IDs (renamed models) get generic limits."""
        model_id = model_id.strip().removeprefix("models/")
        return self._by_id.get(model_id) or self.custom(model_id)

    def is_known(self, model_id: str) -> bool:
        return model_id.strip().removeprefix("models/") in self._by_id

    def offered(self) -> tuple[ModelSpec, ...]:
        """The models new work may go to (not retired), in registry order."""
        return tuple(m for m in self.models if m.offered)

    def default(self) -> ModelSpec:
        """The model a new session starts on (the registry's ``default = true``, else the first offered)."""
        offered = self.offered()
        return next((m for m in offered if m.is_default), offered[0] if offered else self.models[0])

    def successor_for(self, spec: ModelSpec) -> ModelSpec | None:
        """Where work made on ``spec`` goes now: itself when offered, else along the successor chain to an
        offered model; None for a custom or unknown ID (nothing is known about what replaced it)."""
        current = self._by_key.get(spec.key)
        if current is None or spec.key == "custom":
            return None
        seen: set[str] = set()
        while not current.offered:
            if current.key in seen or current.successor not in self._by_key:
                return self.default()
            seen.add(current.key)
            current = self._by_key[current.successor]
        return current

    def lineup(self, name: str = "current") -> tuple[ModelSpec, ...]:
        """A named lineup of the registry (``[lineups]``); "current" is what is offered."""
        if name == "current":
            return self.offered()
        keys = self.lineups.get(name)
        if keys is None:
            raise KeyError(f"no lineup {name!r} (use current, {', '.join(self.lineups)})")
        return tuple(self._by_key[k] for k in keys)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self.models)


_BUILT: dict[str, Catalogue] = {}
_SHIPPED_KEYS: tuple[str, ...] = ()  # the shipped registry's keys, set below


def startup_problem(config: Mapping[str, object] | None = None) -> str | None:
    """What the app calls at start: None when the registry and its overrides load, else the plain message
    (naming the file and the key) to show instead of the studio."""
    try:
        Catalogue.from_config(config)
    except RegistryError as exc:
        return f"The model registry cannot be used: {exc}"
    return None


def _shipped() -> Catalogue:
    data, _ = registry.load({}, env={})
    return Catalogue.from_data(data)


DEFAULT_CATALOGUE = _shipped()
"""The shipped registry, without operator overrides."""
_SHIPPED_KEYS = tuple(spec.key for spec in DEFAULT_CATALOGUE)

NB21 = DEFAULT_CATALOGUE.by_key("nb21")
PRO = DEFAULT_CATALOGUE.by_key("pro")
LITE = DEFAULT_CATALOGUE.by_key("lite")
FLASH2 = DEFAULT_CATALOGUE.by_key("flash2")  # retired: History only
FLASH = DEFAULT_CATALOGUE.by_key("flash")  # retired: History only
BUILTIN: tuple[ModelSpec, ...] = DEFAULT_CATALOGUE.models
OVERRIDE_KEYS = {spec.key: env_name(spec.key) for spec in BUILTIN}


def custom_model(model_id: str) -> ModelSpec:
    """A model Google has renamed or added: generic limits, Pro-like pixels."""
    return DEFAULT_CATALOGUE.custom(model_id)
