"""Model IDs drift: compare what the credential can see with the registry, so the studio notices by itself.

Google renames and retires image models, and new ones need not carry "image" in their ID (Nano Banana 2.1
does not). On connect the studio lists the models the credential can use; a registry model that is missing
is flagged, with the reason, before a Generate fails with 404; a listed model the registry does not know is
offered as custom only when its listing (display name, description, methods) says it makes images. The
rules for that live in the registry's ``[discovery]`` table; the ID is never read for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google import genai

from studio.catalogue import Catalogue, ModelSpec

MAX_LISTED = 500  # paging stops here: a credential sees a few dozen models


class ListedModel(str):
    """A listed model ID (a plain ``str``, so existing callers keep comparing IDs) that also carries what
    Google's listing says about it."""

    display_name: str
    description: str
    methods: tuple[str, ...]

    def __new__(cls, model_id: str, display_name: str = "", description: str = "",
                methods: Iterable[str] = ()) -> ListedModel:
        self = super().__new__(cls, model_id)
        self.display_name, self.description, self.methods = display_name, description, tuple(methods)
        return self


@dataclass(frozen=True)
class ModelCheck:
    """What the credential's model list says about the registry."""

    missing: tuple[str, ...]  # offered registry model IDs Google does not list for this credential
    new_image_models: tuple[str, ...]  # listed models the registry does not know whose listing says "images"
    reasons: Mapping[str, str] = field(default_factory=dict)  # missing model ID -> why, in plain words

    def missing_note(self, model_id: str) -> str | None:
        if model_id not in self.missing:
            return None
        return self.reasons.get(model_id) or (
            f"Google no longer lists {model_id} for your credentials: it may have been renamed or retired. "
            "Choose another model, or type its new ID into Custom model ID.")


def listed_model_ids(client: genai.Client) -> list[ListedModel]:
    """Every model the credential can see (the SDK pages through ``models.list``), with its listing."""
    found: list[ListedModel] = []
    for model in client.models.list(config={"page_size": 100}):
        name = str(getattr(model, "name", "") or "")
        if name:  # "models/ID" on the Gemini API, "publishers/google/models/ID" on Vertex AI
            found.append(ListedModel(name.rsplit("/", 1)[-1], str(getattr(model, "display_name", "") or ""),
                                     str(getattr(model, "description", "") or ""),
                                     [str(a) for a in getattr(model, "supported_actions", None) or []]))
        if len(found) >= MAX_LISTED:
            break
    return found


def makes_images(listed: str, rules: Mapping[str, Any]) -> bool:
    """Whether a listing says the model makes images: it serves generateContent and its display name or
    description says so. A bare ID (no listing) never qualifies; the ID itself is never read."""
    if not isinstance(listed, ListedModel):
        return False
    methods = rules.get("methods", ["generateContent"])
    if methods and listed.methods and not set(methods) & set(listed.methods):
        return False
    words = f"{listed.display_name}\n{listed.description}".lower()
    if any(phrase in words for phrase in rules.get("not_image_phrases", [])):
        return False
    if any(phrase in words for phrase in rules.get("image_phrases", [])):
        return True
    return any(re.search(rf"\b{re.escape(word)}\b", words) for word in rules.get("image_words", []))


def _reason(spec: ModelSpec, catalogue: Catalogue) -> str:
    """Why an offered registry model may be missing from the credential's list, and what to do."""
    alternative = catalogue.default() if catalogue.default().key != spec.key else None
    instead = f"Choose {alternative.label}, or" if alternative else "Choose another model, or"
    status = "a preview your project may not be enrolled in" if spec.status == "preview" else (
        "deprecated and may be shut down soon" if spec.status == "deprecated" else
        "not open to your project or region, or renamed or retired since this studio's registry was written")
    return (f"Google no longer lists {spec.model_id} ({spec.label}) for your credentials: it may be {status}. "
            f"{instead} type its new ID into Custom model ID.")


def compare(catalogue: Catalogue, listed: Iterable[str]) -> ModelCheck:
    """Offered registry models absent from the list (with reasons), and listed image models it lacks."""
    listed = list(listed)
    seen = {str(m) for m in listed}
    missing = tuple(spec.model_id for spec in catalogue.offered() if spec.model_id not in seen)
    reasons = {spec.model_id: _reason(spec, catalogue) for spec in catalogue.offered() if spec.model_id in missing}
    new = tuple(sorted({str(m) for m in listed if not catalogue.is_known(str(m))
                        and makes_images(m, catalogue.discovery)}))
    return ModelCheck(missing=missing, new_image_models=new, reasons=reasons)
