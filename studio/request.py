"""What a person asks for, and the checks that turn bad settings into plain words."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from studio import roles
from studio.catalogue import DEFAULT_CATALOGUE, Catalogue, ModelSpec
from studio.regions import edit as region_edit
from studio.regions.edit import RegionEdit

MAX_IMAGES_PER_BATCH = 8
MAX_IMAGES_PER_BATCH_LANE = 200  # Google's Batch API takes far more; 200 keeps one job's History page readable
LANES = ("now", "batch", "flex")  # flex: service_tier "flex", run like Now, about half price, in minutes
BATCH_PRICE_SHARE = 0.5  # Google bills the Batch API at half the interactive price
MAX_PROMPT_CHARS = 30_000  # far above any useful prompt, well under the API's limit
OUTPUT_FORMATS = ("PNG", "JPEG")


@dataclass(frozen=True)
class ReferenceImage:
    """One reference image, already checked and downscaled by ``studio.images``."""

    name: str
    data: bytes = field(repr=False)
    mime_type: str  # "image/png" or "image/jpeg"
    width: int = 0
    height: int = 0
    role: str = roles.DEFAULT_ROLE  # what the image is for (studio.roles); untagged images send no preamble

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class GenerationRequest:
    """Everything needed to make one batch of images."""

    prompt: str
    model_id: str
    aspect_ratio: str = "1:1"
    image_size: str = "1K"
    output_format: str = "PNG"
    jpeg_quality: int = 90
    count: int = 1
    references: tuple[ReferenceImage, ...] = ()
    seed: int | None = None
    temperature: float | None = None
    system_instruction: str | None = None
    include_thoughts: bool = False
    lane: str = "now"  # "now" (interactive), "batch" (Google's Batch API: half price, within 24 h) or "flex"
    grounding: bool = False  # Grounding with Google Search: the model searches before drawing
    thinking_level: str | None = None  # thinkingConfig.thinkingLevel, for models with levels (lower case)
    image_search: bool = False  # image search grounding, for models whose spec.grounding has "image_search"
    store: bool = False  # whether Google may keep the request (the Account setting; sent on the Gemini API)
    fallback_from: str | None = None  # the History entry this attempt replaces on another model (capacity, 404)

    @property
    def price_share(self) -> float:
        """The batch lane's share without a spec (kept for old callers); prices use ``ModelSpec.price_share``."""
        return BATCH_PRICE_SHARE if self.lane == "batch" else 1.0

    # ---- edit threads (studio/threads.py) --------------------------------------------------------------
    # The earlier turns this request continues, in Google's wire shape (user turns, then the model turns as
    # the API returned them), and the History entry of the turn it continues. Empty for a plain request.
    conversation: tuple[dict, ...] = field(default=(), repr=False, compare=False)
    thread_parent_id: str | None = None
    # A region edit (issue 23, ``studio/regions``): the user turn carries the picture and the mask after the
    # instruction, and the runner blends the answer into the picture inside the mask only. None: whole image.
    region: RegionEdit | None = field(default=None, repr=False, compare=False)
    # -----------------------------------------------------------------------------------------------------
    # A set of prompts, one per image (Variations, issue 24): image i uses prompts[i], and ``count`` must equal
    # len(prompts). ``prompt`` stays the prompt the set was made from (the live panel's heading). Empty: every
    # image uses ``prompt``.
    prompts: tuple[str, ...] = ()

    def prompt_for(self, index: int) -> str:
        """The prompt image ``index`` is made from."""
        return self.prompts[index] if self.prompts else self.prompt

    def for_image(self, index: int) -> GenerationRequest:
        """Image ``index`` as a request with its own prompt (the request itself when all share one), so the
        engine, the lanes and History see one prompt per image; the seed stays ``seed_for(index)``."""
        if not self.prompts:
            return self
        return replace(self, prompt=self.prompts[index], prompts=())

    def seed_for(self, index: int) -> int | None:
        """Image ``index`` of a seeded batch uses seed + index, so each image of a batch can be remade alone."""
        return None if self.seed is None else (self.seed + index) % 2**31

    def recipe(self) -> dict:
        """The settings that recreate this request (no image bytes), for files and history."""
        return {
            "prompt": self.prompt,
            "model": self.model_id,
            "aspect_ratio": self.aspect_ratio,
            "image_size": self.image_size,
            "output_format": self.output_format,
            "jpeg_quality": self.jpeg_quality,
            "count": self.count,
            "seed": self.seed,
            "temperature": self.temperature,
            "system_instruction": self.system_instruction,
            "references": len(self.references),
            "reference_roles": [ref.role for ref in self.references],
            "grounding": self.grounding,
            "image_search": self.image_search,
            "thinking_level": self.thinking_level,
            "lane": self.lane,
            **({"fallback_from": self.fallback_from} if self.fallback_from else {}),
            **({"region": self.region.recipe()} if self.region is not None else {}),
            **({"prompts": list(self.prompts)} if self.prompts else {}),
        }

    def preamble(self) -> str:
        """The sentence naming each reference's part, sent after the prompt (empty when none is tagged)."""
        return roles.preamble([ref.role for ref in self.references])


class ValidationError(ValueError):
    """A request the model cannot take; ``problems`` are sentences for a person."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def problems_with(request: GenerationRequest, catalogue: Catalogue = DEFAULT_CATALOGUE) -> list[str]:
    """Every reason the request cannot be sent, in plain words (empty when it is fine)."""
    spec = catalogue.resolve(request.model_id) if request.model_id.strip() else None
    problems: list[str] = []
    prompt = request.prompt.replace("\x00", "")
    if not prompt.strip():
        problems.append("Write a prompt first: describe the image you want.")
    elif len(prompt) > MAX_PROMPT_CHARS:
        problems.append(
            f"The prompt is {len(prompt):,} characters; keep it under {MAX_PROMPT_CHARS:,}."
        )
    problems += _prompts_problems(request)
    if spec is None:
        problems.append("Choose a model.")
        return problems
    problems += _settings_problems(request, spec)
    n_refs = len(request.references)
    if request.region is not None:
        problems += region_edit.problems(request.region)
        if request.lane == "batch":
            problems.append("A painted region, Extend or Upscale runs Now: choose the Now or Flex lane.")
        sent = n_refs + len(request.region.images())
        if n_refs <= spec.max_references < sent:
            problems.append(f"{spec.label} takes at most {spec.max_references} images in all; the picture and its "
                            f"mask count too, so remove {sent - spec.max_references} reference image(s).")
    return problems


def _prompts_problems(request: GenerationRequest) -> list[str]:
    """A set of prompts (one per image): as many as images, none empty or too long."""
    if not request.prompts:
        return []
    problems: list[str] = []
    if len(request.prompts) != request.count:
        problems.append(f"This set has {len(request.prompts)} prompts for {request.count} images: each image needs "
                        "exactly one prompt.")
    for number, text in enumerate(request.prompts, start=1):
        text = text.replace("\x00", "")
        if not text.strip():
            problems.append(f"Prompt {number} of the set is empty: write it or leave it out.")
        elif len(text) > MAX_PROMPT_CHARS:
            problems.append(f"Prompt {number} of the set is {len(text):,} characters; keep it under "
                            f"{MAX_PROMPT_CHARS:,}.")
    return problems


def _settings_problems(request: GenerationRequest, spec: ModelSpec) -> list[str]:
    problems: list[str] = []
    if request.aspect_ratio not in spec.ratios:
        problems.append(
            f"{spec.label} does not take the aspect ratio {request.aspect_ratio}; "
            f"choose one of {', '.join(spec.ratios)}."
        )
    if request.image_size not in spec.sizes:
        if len(spec.sizes) == 1:
            problems.append(f"{spec.label} accepts {spec.sizes[0]} only.")
        else:
            problems.append(
                f"{spec.label} does not take the size {request.image_size!r}; "
                f"choose {', '.join(spec.sizes)} (with a capital K)."
            )
    if request.output_format not in OUTPUT_FORMATS:
        problems.append(f"Output format must be PNG or JPEG, not {request.output_format!r}.")
    if not 1 <= request.jpeg_quality <= 100:
        problems.append(f"JPEG quality must be between 1 and 100; you set {request.jpeg_quality}.")
    if request.lane not in LANES:
        problems.append(f"Choose the lane Now, Batch or Flex, not {request.lane!r}.")
    elif request.lane not in spec.lanes:
        problems.append(f"{spec.label} has no {request.lane.title()} lane: choose Now.")
    if request.thinking_level is not None and request.thinking_level not in spec.thinking_levels:
        if spec.thinking_levels:
            problems.append(f"{spec.label} has no {request.thinking_level.title()} thinking level: choose "
                            f"{', '.join(level.title() for level in spec.thinking_levels)}.")
        else:
            problems.append(f"{spec.label} has no thinking levels: leave Thinking level unset.")
    most = MAX_IMAGES_PER_BATCH_LANE if request.lane == "batch" else MAX_IMAGES_PER_BATCH
    if not 1 <= request.count <= most:
        problems.append(f"Number of images must be between 1 and {most}; you asked for {request.count}.")
    n_refs = len(request.references)
    if n_refs > spec.max_references:
        problems.append(
            f"{spec.label} takes at most {spec.max_references} reference images; you added {n_refs}."
        )
    problems += roles.problems([ref.role for ref in request.references], spec)
    if request.grounding and not (spec.supports_search or "web_search" in spec.grounding):
        problems.append(f"{spec.label} cannot search Google: turn off Grounding with Google Search, or choose "
                        "a model that can search.")
    if request.image_search and "image_search" not in spec.grounding:
        problems.append(f"{spec.label} cannot search images: turn off image search.")
    if request.temperature is not None and not 0.0 <= request.temperature <= 2.0:
        problems.append(f"Temperature must be between 0 and 2; you set {request.temperature}.")
    if request.seed is not None and not 0 <= request.seed < 2**31:
        problems.append("Seed must be a whole number between 0 and 2,147,483,647.")
    return problems


def warnings_for(request: GenerationRequest, catalogue: Catalogue = DEFAULT_CATALOGUE) -> list[str]:
    """Advice that does not block sending (e.g. more references than a model handles well)."""
    spec = catalogue.resolve(request.model_id)
    n_refs = len(request.references)
    if spec.recommended_references < n_refs <= spec.max_references:
        best = max((m for m in catalogue if m.offered), key=lambda m: m.recommended_references, default=spec)
        better = (f" {best.label} keeps up to {best.recommended_references} faithful."
                  if best.recommended_references >= n_refs else "")  # from the specs: no model named here
        return [f"{spec.label} works best with up to {spec.recommended_references} reference images; "
                f"you added {n_refs}.{better}"]
    return []


def validate(request: GenerationRequest, catalogue: Catalogue = DEFAULT_CATALOGUE) -> GenerationRequest:
    """Return the request (prompt cleaned of NUL characters) or raise ValidationError."""
    problems = problems_with(request, catalogue)
    if problems:
        raise ValidationError(problems)
    if "\x00" in request.prompt or any("\x00" in text for text in request.prompts):
        return replace(request, prompt=request.prompt.replace("\x00", ""),
                       prompts=tuple(text.replace("\x00", "") for text in request.prompts))
    return request
