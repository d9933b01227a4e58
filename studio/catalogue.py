"""The model catalogue: every fact about a Gemini image model, kept as data.

Google renames these models (the ``-preview`` IDs were shut down in 2026), so the
IDs can be overridden from config and any custom ID is accepted with generic
limits. The facts and their sources: docs/GEMINI-API.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

TEN_RATIOS: tuple[str, ...] = (
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
)
EXTREME_RATIOS: tuple[str, ...] = ("1:4", "4:1", "1:8", "8:1")
ALL_RATIOS: tuple[str, ...] = TEN_RATIOS + EXTREME_RATIOS
ALL_SIZES: tuple[str, ...] = ("512", "1K", "2K", "4K")
LANES: tuple[str, ...] = ("now", "batch", "flex")  # interactive, Google's Batch API, service_tier "flex"
THINKING_LEVELS: tuple[str, ...] = ("minimal", "low", "medium", "high")
GROUNDING_KINDS: tuple[str, ...] = ("web_search", "image_search")
STATUSES: tuple[str, ...] = ("ga", "preview", "deprecated", "retired")

# Official output pixels of Nano Banana Pro at 1K; 2K and 4K are exact multiples.
_PRO_1K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (848, 1264), "3:2": (1264, 848),
    "3:4": (896, 1200), "4:3": (1200, 896), "4:5": (928, 1152),
    "5:4": (1152, 928), "9:16": (768, 1376), "16:9": (1376, 768),
    "21:9": (1584, 672),
}
# Nano Banana 2's extreme ratios at 1K: about one megapixel, sides multiples of 16.
# Google has not published this table; replace it here when it does.
_EXTREME_1K: dict[str, tuple[int, int]] = {
    "1:4": (512, 2048), "4:1": (2048, 512), "1:8": (368, 2944), "8:1": (2944, 368),
}
_FLASH_1K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832),
    "3:4": (864, 1184), "4:3": (1184, 864), "4:5": (896, 1152),
    "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768),
    "21:9": (1536, 672),
}
_SCALE = {"1K": 1, "2K": 2, "4K": 4}


def _scaled(table: Mapping[str, tuple[int, int]], sizes: tuple[str, ...]) -> dict:
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for ratio, (w, h) in table.items():
        for size in sizes:
            if size == "512":
                out[(ratio, size)] = (max(16, w // 32 * 16), max(16, h // 32 * 16))
            else:
                out[(ratio, size)] = (w * _SCALE[size], h * _SCALE[size])
    return out


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

    def price_per_image(self, size: str) -> float:
        return round(self.output_tokens(size) * self.usd_per_output_token, 4)

    def estimate_cost(self, size: str, count: int, references: int = 0) -> float:
        """Estimated USD for a batch before it runs: output images plus input reference images."""
        per_request = self.price_per_image(size) + references * self.usd_per_input_image
        return round(per_request * count, 4)

    def cost_from_usage(self, size: str, prompt_tokens: int, output_tokens: int, thoughts_tokens: int,
                        images: int) -> float:
        """USD computed from the usage Google recorded: image tokens at the image price, the rest of the
        output and all thinking at the text-output price, the prompt at the input price. Blocked is free."""
        if images <= 0:
            return 0.0
        image_tokens = min(output_tokens, self.output_tokens(size) * images)
        text_tokens = max(0, output_tokens - image_tokens) + max(0, thoughts_tokens)
        cost = (prompt_tokens * self.usd_per_input_token + image_tokens * self.usd_per_output_token
                + text_tokens * self.usd_per_text_token)
        return round(cost, 6)


PRO = ModelSpec(
    key="pro", label="Nano Banana Pro", model_id="gemini-3-pro-image",
    ratios=TEN_RATIOS, sizes=("1K", "2K", "4K"), default_size="1K",
    max_references=14, max_objects=6, max_people=5, recommended_references=14,
    pixels=_scaled(_PRO_1K, ("1K", "2K", "4K")),
    tokens_per_image={"1K": 1120, "2K": 1120, "4K": 2000},
    usd_per_output_token=120 / 1_000_000, usd_per_input_token=2 / 1_000_000, usd_per_text_token=12 / 1_000_000,
    supports_search=True,
)
FLASH2 = ModelSpec(
    key="flash2", label="Nano Banana 2", model_id="gemini-3.1-flash-image",
    ratios=ALL_RATIOS, sizes=ALL_SIZES, default_size="1K",
    max_references=14, max_objects=10, max_people=4, recommended_references=14,
    pixels=_scaled({**_PRO_1K, **_EXTREME_1K}, ALL_SIZES),
    tokens_per_image={"512": 747, "1K": 1120, "2K": 1680, "4K": 2520},
    usd_per_output_token=60 / 1_000_000, usd_per_input_token=0.5 / 1_000_000, usd_per_text_token=3 / 1_000_000,
    supports_search=True,
)
FLASH = ModelSpec(
    key="flash", label="Nano Banana", model_id="gemini-2.5-flash-image",
    ratios=TEN_RATIOS, sizes=("1K",), default_size="1K",
    max_references=14, max_objects=3, max_people=3, recommended_references=3,
    pixels=_scaled(_FLASH_1K, ("1K",)),
    tokens_per_image={"1K": 1290}, usd_per_output_token=30 / 1_000_000, usd_per_input_token=0.3 / 1_000_000,
    usd_per_text_token=2.5 / 1_000_000,
    size_is_ignored=True, supports_thoughts=False, max_subject_images=3,
)
BUILTIN: tuple[ModelSpec, ...] = (PRO, FLASH2, FLASH)


def custom_model(model_id: str) -> ModelSpec:
    """A model Google has renamed or added: generic limits, Pro-like pixels."""
    return replace(PRO, key="custom", label=f"Custom ({model_id})", model_id=model_id,
                   max_objects=6, max_people=5, supports_search=False)


# Config keys that override the built-in IDs, e.g. STUDIO_MODEL_PRO=gemini-3-pro-image-002.
OVERRIDE_KEYS = {"pro": "STUDIO_MODEL_PRO", "flash2": "STUDIO_MODEL_FLASH2",
                 "flash": "STUDIO_MODEL_FLASH"}


class Catalogue:
    """The models on offer, after config overrides."""

    def __init__(self, models: tuple[ModelSpec, ...] = BUILTIN) -> None:
        self.models = models
        self._by_id = {m.model_id: m for m in models}
        self._by_key = {m.key: m for m in models}

    @classmethod
    def from_config(cls, config: Mapping[str, object] | None = None) -> Catalogue:
        """Apply ID overrides from a mapping (``st.secrets["models"]``) then env vars.

        The mapping may use the short keys (``pro = "…"``) or the env names.
        """
        config = config or {}
        models = []
        for spec in BUILTIN:
            env_name = OVERRIDE_KEYS[spec.key]
            override = config.get(spec.key) or config.get(env_name) or os.environ.get(env_name)
            models.append(replace(spec, model_id=str(override)) if override else spec)
        return cls(tuple(models))

    def by_key(self, key: str) -> ModelSpec:
        return self._by_key[key]

    def resolve(self, model_id: str) -> ModelSpec:
        """The spec for an ID; unknown IDs (renamed models) get generic limits."""
        model_id = model_id.strip().removeprefix("models/")
        return self._by_id.get(model_id) or custom_model(model_id)

    def is_known(self, model_id: str) -> bool:
        return model_id.strip().removeprefix("models/") in self._by_id

    def __iter__(self):
        return iter(self.models)


DEFAULT_CATALOGUE = Catalogue()
