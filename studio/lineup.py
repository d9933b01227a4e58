"""Today's lineup as the studio uses it: which models are offered, the default, successors, and the nearest
setting a model has.

Every fact comes from the catalogue's ``ModelSpec`` fields (status, successor, ratios, sizes, thinking levels,
grounding, lanes); this module only decides. It asks the catalogue first (``offered()``, ``default()``,
``successor_for()``) and adds what only a session knows (models that answered 404 this session).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from studio.catalogue import ALL_SIZES, THINKING_LEVELS, Catalogue, ModelSpec
from studio.request import GenerationRequest

LANE_WORDS = {"now": "Now", "batch": "Batch", "flex": "Flex"}


def offered(catalogue: Catalogue, unavailable: Iterable[str] = ()) -> tuple[ModelSpec, ...]:
    """The models new work may go to, in catalogue order; ``unavailable`` model IDs (a 404 this session) left out."""
    gone = set(unavailable)
    return tuple(m for m in catalogue.offered() if m.model_id not in gone)


def _by_key(catalogue: Catalogue, key: str | None) -> ModelSpec | None:
    if not key:
        return None
    try:
        return catalogue.by_key(key)
    except KeyError:
        return None


def default_spec(catalogue: Catalogue, unavailable: Iterable[str] = ()) -> ModelSpec:
    """The model a new session starts on: the catalogue's default (Nano Banana 2.1), else the first offered."""
    choices = offered(catalogue, unavailable)
    spec = catalogue.default()
    if spec in choices:
        return spec
    return choices[0] if choices else next(iter(catalogue))


def successor(catalogue: Catalogue, spec: ModelSpec, unavailable: Iterable[str] = ()) -> ModelSpec | None:
    """Where work for ``spec`` goes when it cannot run there: its named successor (followed while that is
    retired too), else the default model; None when nothing else is offered."""
    gone = set(unavailable)
    found = catalogue.successor_for(spec)  # the registry's own answer first
    if found is not None and found.offered and found.model_id not in gone and found.model_id != spec.model_id:
        return found
    seen = {spec.key}
    current: ModelSpec | None = spec
    while current is not None and current.successor and current.successor not in seen:
        seen.add(current.successor)
        current = _by_key(catalogue, current.successor)
        if current is not None and current.offered and current.model_id not in gone:
            return current
    fallback = default_spec(catalogue, gone)
    if fallback.model_id == spec.model_id or not fallback.offered or fallback.model_id in gone:
        return None
    return fallback


def has_web_search(spec: ModelSpec) -> bool:
    return spec.supports_search or "web_search" in spec.grounding


def has_image_search(spec: ModelSpec) -> bool:
    return "image_search" in spec.grounding


# ---- the nearest setting a model has ---------------------------------------------------------------------

def _ratio_value(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    try:
        return math.log(float(width) / float(height))
    except (ValueError, ZeroDivisionError):
        return 0.0


def nearest_ratio(ratio: str, ratios: tuple[str, ...]) -> str:
    """The ratio closest in shape (8:1 on a model without it is 21:9, the widest it has)."""
    if ratio in ratios or not ratios:
        return ratio
    return min(ratios, key=lambda r: abs(_ratio_value(r) - _ratio_value(ratio)))


def _nearest_in(order: tuple[str, ...], value: str, allowed: tuple[str, ...]) -> str:
    """The allowed value closest in ``order``; on a tie the larger (512 becomes 1K, medium becomes high)."""
    if value in allowed or not allowed:
        return value
    where = order.index(value) if value in order else 0
    return min(allowed, key=lambda a: (abs((order.index(a) if a in order else 0) - where),
                                       -(order.index(a) if a in order else 0)))


def nearest_size(size: str, sizes: tuple[str, ...]) -> str:
    return _nearest_in(ALL_SIZES, size, sizes)


def nearest_thinking(level: str | None, spec: ModelSpec) -> str | None:
    """The model's level nearest to ``level``; its default when none was chosen; None for a model without levels."""
    if not spec.thinking_levels:
        return None
    if not level:
        return spec.default_thinking_level or spec.thinking_levels[0]
    return _nearest_in(THINKING_LEVELS, level, spec.thinking_levels)


@dataclass(frozen=True)
class Fitted:
    """Settings moved onto a model, and a plain sentence for each one that had to change."""

    aspect_ratio: str
    image_size: str
    thinking_level: str | None
    grounding: bool
    image_search: bool
    lane: str
    notes: tuple[str, ...]


def fit(spec: ModelSpec, *, aspect_ratio: str, image_size: str, thinking_level: str | None = None,
        grounding: bool = False, image_search: bool = False, lane: str = "now",
        sizes: tuple[str, ...] | None = None) -> Fitted:
    """Map each setting the model lacks to the nearest one it has (``sizes``: the sizes on offer right now)."""
    sizes = sizes or spec.sizes
    notes: list[str] = []
    ratio = nearest_ratio(aspect_ratio, spec.ratios)
    if ratio != aspect_ratio:
        notes.append(f"{spec.label} does not take {aspect_ratio}: Aspect ratio set to {ratio}.")
    size = image_size if spec.size_is_ignored and image_size in spec.sizes else nearest_size(image_size, sizes)
    if size != image_size:
        notes.append(f"{spec.label} makes {size} only: Resolution set to {size}." if len(sizes) == 1 else
                     f"{spec.label} does not make {image_size}: Resolution set to {size}.")
    level = nearest_thinking(thinking_level, spec)
    if thinking_level and level and level != thinking_level:
        notes.append(f"{spec.label} has no {thinking_level.title()} thinking: Thinking level set to "
                     f"{level.title()}.")
    if grounding and not has_web_search(spec):
        notes.append(f"{spec.label} cannot search Google: this runs without Grounding with Google Search.")
    if image_search and not has_image_search(spec):
        notes.append(f"{spec.label} cannot search images: this runs without image search.")
    new_lane = lane if lane in spec.lanes else "now"
    if new_lane != lane:
        notes.append(f"{spec.label} has no {LANE_WORDS.get(lane, lane)} lane: this runs Now.")
    return Fitted(ratio, size, level, grounding and has_web_search(spec), image_search and has_image_search(spec),
                  new_lane, tuple(notes))


def onto(request: GenerationRequest, spec: ModelSpec) -> tuple[GenerationRequest, tuple[str, ...]]:
    """The request sent to ``spec`` instead, each setting it lacks mapped, with the notes saying so."""
    fitted = fit(spec, aspect_ratio=request.aspect_ratio, image_size=request.image_size,
                 thinking_level=request.thinking_level, grounding=request.grounding,
                 image_search=request.image_search, lane=request.lane)
    moved = replace(request, model_id=spec.model_id, aspect_ratio=fitted.aspect_ratio, image_size=fitted.image_size,
                    thinking_level=fitted.thinking_level, grounding=fitted.grounding,
                    image_search=fitted.image_search, lane=fitted.lane,
                    include_thoughts=request.include_thoughts and spec.supports_thoughts)
    return moved, fitted.notes


def for_new_work(request: GenerationRequest, catalogue: Catalogue,
                 unavailable: Iterable[str] = ()) -> tuple[GenerationRequest, tuple[str, ...]]:
    """A request remade from History (Re-run, Retry, Edit): on its own model while that is offered, else on the
    successor, with the retirement note first and the mapped settings after it."""
    gone = set(unavailable)
    if not catalogue.is_known(request.model_id):
        return request, ()  # a custom model: sent as is, Google says whether it still exists
    spec = catalogue.resolve(request.model_id)
    if spec.offered and spec.model_id not in gone:
        return request, ()
    target = successor(catalogue, spec, gone)
    if target is None:
        return request, ()
    moved, notes = onto(request, target)
    if not spec.offered:
        first = spec.retirement_note(target)
    else:
        first = f"{spec.label} is not available to your credentials right now; this runs on {target.label}."
    return moved, (first, *notes)


def lane_price_share(spec: ModelSpec, lane: str) -> float:
    """The share of the interactive price ``lane`` bills on this model (batch half, flex about half)."""
    return spec.price_share(lane)


def labels(specs: Iterable[ModelSpec]) -> Mapping[str, str]:
    return {spec.key: spec.label for spec in specs}
