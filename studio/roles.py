"""Reference roles: what each reference image is for, the sentence that tells the model, and per-model limits.

The person tags each reference (character, object, style, background, other); the studio then sends a short
preamble after the prompt ("Image 1 is a character: …") so the model knows which image plays which part.
References nobody tagged (all "other") send no preamble: old recipes and History entries ask exactly as before.
Google keeps only a few characters and objects faithful per model (docs/GEMINI-API.md), so the studio refuses
more than the model keeps, in plain words, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from studio.catalogue import ModelSpec

CHARACTER = "character"
OBJECT = "object"
STYLE = "style"
BACKGROUND = "background"
OTHER = "other"
ROLES: tuple[str, ...] = (CHARACTER, OBJECT, STYLE, BACKGROUND, OTHER)
DEFAULT_ROLE = OTHER

_SENTENCES = {
    CHARACTER: "is a character: keep their face, build and clothing the same",
    OBJECT: "is an object: keep its shape, colours and details the same",
    STYLE: "is the style reference: match its look, palette and technique, not its content",
    BACKGROUND: "is the background: use it as the setting",
    OTHER: "is another reference",
}


def normalized(role: object) -> str:
    """A stored or imported role as one of ``ROLES``; anything unknown is "other" (no promise made)."""
    text = str(role or "").strip().lower()
    return text if text in ROLES else DEFAULT_ROLE


def any_tagged(roles: Iterable[str]) -> bool:
    return any(normalized(role) != DEFAULT_ROLE for role in roles)


def preamble(roles: Sequence[str]) -> str:
    """The sentences naming each image's part, in the order the images are sent; empty when none is tagged."""
    if not any_tagged(roles):
        return ""
    return " ".join(f"Image {i} {_SENTENCES[normalized(role)]}." for i, role in enumerate(roles, start=1))


def counts(roles: Iterable[str]) -> dict[str, int]:
    tally = dict.fromkeys(ROLES, 0)
    for role in roles:
        tally[normalized(role)] += 1
    return tally


def limits_text(spec: ModelSpec) -> str:
    """The model's limits in one line, shown next to the reference picker."""
    if spec.max_subject_images:
        return (f"{spec.label} keeps up to {spec.max_subject_images} images tagged character or object "
                "consistent.")
    return f"{spec.label} keeps up to {spec.max_people} characters and {spec.max_objects} objects consistent."


def problems(roles: Sequence[str], spec: ModelSpec) -> list[str]:
    """Why these roles are more than the model keeps faithful, in plain words (empty when they fit)."""
    tally = counts(roles)
    characters, objects = tally[CHARACTER], tally[OBJECT]
    found: list[str] = []
    if spec.max_subject_images and characters + objects > spec.max_subject_images:
        found.append(f"{spec.label} keeps at most {spec.max_subject_images} images tagged character or object; "
                     f"you tagged {characters + objects}. Tag fewer, or choose another model (each model's limits "
                     "show beside the picker).")
        return found
    if characters > spec.max_people:
        found.append(f"{spec.label} keeps at most {spec.max_people} characters consistent; you tagged "
                     f"{characters}. Tag the others as another role, or remove them.")
    if objects > spec.max_objects:
        found.append(f"{spec.label} keeps at most {spec.max_objects} objects faithful; you tagged {objects}. "
                     "Tag the others as another role, or remove them.")
    return found


_NAME_WORDS = {
    CHARACTER: {"character", "char", "person", "portrait", "face", "selfie", "headshot", "man", "woman", "girl",
                "boy", "kid", "child", "people", "me"},
    OBJECT: {"object", "product", "item", "prop", "logo", "packshot", "bottle", "shoe", "bag", "toy"},
    STYLE: {"style", "palette", "painting", "moodboard", "mood", "artstyle", "texture", "look"},
    BACKGROUND: {"background", "bg", "backdrop", "scene", "landscape", "setting", "room", "location", "place"},
}


def suggested(file_name: str) -> str:
    """A role read from a file's name where it is obvious ("portrait.png": character, "bg-city.jpg": background);
    "other" when no word, or words of two roles, say so. A suggestion only: the person changes it freely."""
    stem = file_name.rsplit(".", 1)[0].lower()
    words = {word for word in "".join(c if c.isalnum() else " " for c in stem).split()}
    words |= {word.rstrip("s") for word in words if len(word) > 3}  # "products", "portraits"
    found = [role for role, names in _NAME_WORDS.items() if words & names]
    return found[0] if len(found) == 1 else DEFAULT_ROLE
