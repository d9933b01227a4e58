"""Model IDs drift: compare what the credential can see with the catalogue, so the studio notices by itself.

Google renames and retires image models (previews shut down, new IDs appear). On connect the studio
lists the models the credential can use; a catalogue model that is missing is flagged before a
Generate fails with 404, and unknown image models are offered with generic limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google import genai

from studio.catalogue import Catalogue

MAX_LISTED = 500  # paging stops here: a credential sees a few dozen models


@dataclass(frozen=True)
class ModelCheck:
    """What the credential's model list says about the catalogue."""

    missing: tuple[str, ...]  # catalogue model IDs Google no longer lists for this credential
    new_image_models: tuple[str, ...]  # image-capable IDs the catalogue does not know

    def missing_note(self, model_id: str) -> str | None:
        if model_id not in self.missing:
            return None
        return (f"Google no longer lists {model_id} for your credentials: it may have been renamed or retired. "
                "Choose another model, or type its new ID into Custom model ID.")


def listed_model_ids(client: genai.Client) -> list[str]:
    """Every model ID the credential can see (the SDK pages through ``models.list``)."""
    ids: list[str] = []
    for model in client.models.list(config={"page_size": 100}):
        name = str(getattr(model, "name", "") or "")
        if name:  # "models/ID" on the Gemini API, "publishers/google/models/ID" on Vertex AI
            ids.append(name.rsplit("/", 1)[-1])
        if len(ids) >= MAX_LISTED:
            break
    return ids


def compare(catalogue: Catalogue, listed: Iterable[str]) -> ModelCheck:
    """Catalogue models absent from the list, and listed image models the catalogue lacks."""
    seen = set(listed)
    known = [spec.model_id for spec in catalogue]
    missing = tuple(model_id for model_id in known if model_id not in seen)
    new = tuple(sorted(model_id for model_id in seen if "image" in model_id and not catalogue.is_known(model_id)))
    return ModelCheck(missing=missing, new_image_models=new)
