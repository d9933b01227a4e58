"""Text-model answers: deterministic, sensible prompt rewrites, N variations and image descriptions.

A real text model reads its instructions; the emulator reads the request's shape instead, so any
client gets sensible answers:
- the task comes from ``responseSchema`` / ``responseJsonSchema``: a ``variations`` array gives N
  prompts (N from the array's ``minItems``, else "N prompts" in the text, else 4), ``role`` +
  ``description`` describe the first input image, anything else (or no schema) rewrites the prompt;
- the prompt worked on is the text between the first pair of triple quotes (``\"\"\"…\"\"\"``), else the
  whole text; lines ``- Image N (role): words`` after it name the references a rewrite keeps;
- with ``responseMimeType: application/json`` the answer's text is JSON matching the schema, as
  Google's structured output is; otherwise plain text.
Google's 400s: an IMAGE response modality, a schema without JSON mode, an unknown response MIME type.
Faults: ``prompt_blocked`` (and the other prompt faults) answer ``promptFeedback.blockReason``;
``text_safety`` a candidate stopped with ``finishReason: SAFETY`` and no parts; ``slow=S`` and ``hang`` wait,
the HTTP faults (``quota``, ``overloaded``…) answer Google's errors, as for image models.
Usage: prompt tokens as for image models (``usage.prompt_counts``), the answer at one token per
4 characters, and for thinking models a stable 40–200 thoughts tokens per request.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Mapping

from PIL import Image, ImageStat

from studio.emulator import blocked, errors, usage
from studio.emulator.validation import ParsedRequest, pick

JSON_MIME = "application/json"
MIME_TYPES = ("text/plain", "application/json", "application/xml", "application/yaml", "text/x.enum")
ROLES = ("character", "object", "style", "background")
_QUOTED = re.compile(r'"""\s*(.*?)\s*"""', re.DOTALL)
_REFERENCE = re.compile(r"^\s*-\s*Image\s+(\d+)\s*\(([a-z]+)\)\s*:?\s*(.*)$", re.IGNORECASE | re.MULTILINE)
_COUNT = re.compile(r"\b([2-9]|1\d)\s+(?:distinct\s+|different\s+)?(?:prompts|variations)\b", re.IGNORECASE)

LIGHT = ("soft golden-hour light", "dramatic low-key lighting", "diffused overcast light",
         "warm cinematic lighting with gentle rim light", "crisp morning light")
CAMERA = ("shot at eye level on a 35mm lens", "wide-angle composition with a clear focal point",
          "shallow depth of field on an 85mm lens", "balanced rule-of-thirds framing")
DETAIL = ("rich textures and fine detail", "a cohesive colour palette", "high detail, photorealistic finish",
          "clean background separation and sharp focus")
TWISTS = ("as a watercolour painting", "in golden-hour light", "from a low angle", "as a minimalist flat "
          "illustration", "at night under neon signs", "as a 1970s film photograph", "in soft morning fog",
          "seen from directly above", "as a wide cinematic shot", "as a bold comic-book panel")
COLOURS = {"red": (200, 40, 40), "orange": (230, 130, 30), "yellow": (230, 210, 50), "green": (60, 160, 70),
           "blue": (50, 90, 200), "purple": (130, 60, 170), "pink": (230, 140, 180), "brown": (120, 80, 50),
           "white": (240, 240, 240), "grey": (128, 128, 128), "black": (20, 20, 20)}


def _pick(options: tuple[str, ...], seed: str, taken: str = "") -> str:
    """A stable choice per text, skipping options whose first word the prompt already has."""
    start = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")
    for i in range(len(options)):
        option = options[(start + i) % len(options)]
        if option.split()[0].lower() not in taken.lower():
            return option
    return options[start % len(options)]


def subject(text: str) -> str:
    """The prompt the request works on: the quoted block, else the whole text (markers kept out)."""
    found = _QUOTED.search(text)
    body = found.group(1) if found else text
    return re.sub(r"\s+", " ", re.sub(r"\[\[fault:[^\]]*\]\]", "", body)).strip().rstrip(".") or "an image"


def rewrite(text: str) -> str:
    """A sharper prompt: the original kept whole, then light, camera and detail it does not mention."""
    base = subject(text)
    extras = [_pick(LIGHT, "light|" + base, base), _pick(CAMERA, "camera|" + base, base),
              _pick(DETAIL, "detail|" + base, base)]
    refs = [f"the {role.lower()} from image {n}" for n, role, _ in _REFERENCE.findall(text)
            if role.lower() in ROLES]
    keep = f", keeping {' and '.join(refs)}" if refs else ""
    return f"{base[:1].upper()}{base[1:]}{keep}, {', '.join(extras)}."


def variations(text: str, count: int) -> list[str]:
    """``count`` distinct prompts: the same subject, each with its own style or setting."""
    base = subject(text)
    start = int.from_bytes(hashlib.sha256(("twist|" + base).encode()).digest()[:4], "big")
    chosen = [TWISTS[(start + i) % len(TWISTS)] for i in range(len(TWISTS))][:count]
    out = [f"{base[:1].upper()}{base[1:]}, {twist}" for twist in chosen]
    while len(out) < count:  # more asked than there are twists: still distinct
        out.append(f"{base}, variation {len(out) + 1}")
    return out


def _colour_name(rgb: tuple[float, ...]) -> str:
    return min(COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOURS[name], rgb, strict=False)))


def describe(image: bytes | None) -> dict[str, str]:
    """A role and a one-line description from the picture's colours and layout (stable per image)."""
    if image is None:
        return {"role": "object", "description": "No image was attached, so nothing could be described."}
    with Image.open(io.BytesIO(image)) as img:
        rgb = img.convert("RGB").resize((48, 48))
    width, height = rgb.size
    centre = rgb.crop((width // 4, height // 4, 3 * width // 4, 3 * height // 4))
    whole, middle = ImageStat.Stat(rgb), ImageStat.Stat(centre)
    spread = sum(whole.stddev) / 3
    contrast = sum(abs(a - b) for a, b in zip(middle.mean, whole.mean, strict=False)) / 3
    main = _colour_name(tuple(whole.mean))
    colours = len({_colour_name(rgb.getpixel((x, y))) for x in range(0, width, 4) for y in range(0, height, 4)})  # type: ignore[arg-type]
    if spread < 25:
        role, line = "background", f"A calm, mostly {main} backdrop with little detail"
    elif contrast > 18:
        subject_colour = _colour_name(tuple(middle.mean))
        warm = subject_colour in ("pink", "orange", "brown")
        role = "character" if warm else "object"
        line = (f"A {subject_colour} {'figure' if warm else 'subject'} in the centre against a "
                f"{main} surround")
    elif colours >= 6:
        role, line = "style", f"A colourful, textured picture in mostly {main} tones: a look to borrow"
    else:
        role, line = "background", f"A {main} scene that fills the frame evenly"
    return {"role": role, "description": line + "."}


def _schema(config: object) -> Mapping | None:
    found = pick(config, "responseSchema") or pick(config, "responseJsonSchema")
    return found if isinstance(found, Mapping) else None


def _count(schema: Mapping | None, text: str) -> int:
    items = pick((pick(schema, "properties") or {}), "variations") if schema else None
    for key in ("minItems", "maxItems"):
        value = pick(items, key)
        if value is not None and str(value).isdigit():  # int64 fields travel as JSON strings
            return max(1, min(int(str(value)), 20))
    found = _COUNT.search(text)
    return int(found.group(1)) if found else 4


def check(body: Mapping) -> None:
    """Google's 400s for what a text model cannot answer."""
    config = pick(body, "generationConfig") or {}
    asked = pick(config, "responseModalities") or []
    if any(str(m).upper() == "IMAGE" for m in (asked if isinstance(asked, list) else [asked])):
        raise errors.bad_request("Model does not support the requested response modalities: image",
                                 "generation_config.response_modalities")
    mime = pick(config, "responseMimeType")
    if mime is not None and str(mime) not in MIME_TYPES:
        raise errors.bad_request("* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes "
                                 "are `text/plain`, `application/json`, `application/xml`, `application/yaml` and "
                                 "`text/x.enum`.", "generation_config.response_mime_type")
    if _schema(config) is not None and str(mime) not in (JSON_MIME, "text/x.enum"):
        raise errors.bad_request("* GenerateContentRequest.generation_config.response_schema: response_mime_type "
                                 "must be application/json or text/x.enum when response_schema is set.",
                                 "generation_config.response_schema")


def answer_text(body: Mapping, req: ParsedRequest) -> str:
    """The answer's text: JSON in the schema's shape in JSON mode, else a plain rewrite."""
    config = pick(body, "generationConfig") or {}
    schema = _schema(config)
    properties = pick(schema, "properties") if schema else None
    names = set(properties) if isinstance(properties, Mapping) else set()
    text = req.prompt
    if "variations" in names:
        value: object = {"variations": variations(text, _count(schema, text))}
    elif {"role", "description"} <= names:
        value = describe(req.images[0] if req.images else None)
    else:
        field = next((n for n in ("prompt", "improved", "text") if n in names), "prompt")
        value = {field: rewrite(text)}
    if str(pick(config, "responseMimeType")) != JSON_MIME:
        if isinstance(value, dict) and "variations" in value:
            return "\n".join(f"{i + 1}. {v}" for i, v in enumerate(value["variations"]))
        return next(iter(value.values())) if isinstance(value, dict) else str(value)
    return json.dumps(value, ensure_ascii=False)


def _usage(req: ParsedRequest, answer: str, thinking: bool) -> dict:
    prompt = sum(usage.prompt_counts(req).values())
    out = max(1, math.ceil(len(answer) / 4))
    thoughts = 40 + int.from_bytes(hashlib.sha256(req.all_text.encode()).digest()[:2], "big") % 161 if thinking else 0
    data: dict = {"promptTokenCount": prompt, "candidatesTokenCount": out,
                  "totalTokenCount": prompt + out + thoughts, "promptTokensDetails": usage.prompt_details(req)}
    if thoughts:
        data["thoughtsTokenCount"] = thoughts
    return data


def answer(body: Mapping, req: ParsedRequest, model_id: str, fault_names: set[str], nonce: int,
           thinking: bool = True) -> dict:
    """One generateContent answer of a text model (a refusal when a prompt fault asks for one)."""
    response_id = hashlib.sha256(f"text|{nonce}|{req.all_text}".encode()).hexdigest()[:22]
    prompt_fault = next((blocked.PROMPT_FAULTS[n] for n in fault_names if n in blocked.PROMPT_FAULTS), None)
    if prompt_fault:
        return {"promptFeedback": {"blockReason": prompt_fault},
                "usageMetadata": {"promptTokenCount": sum(usage.prompt_counts(req).values()),
                                  "totalTokenCount": sum(usage.prompt_counts(req).values())},
                "modelVersion": model_id, "responseId": response_id}
    if "text_safety" in fault_names:
        return {"candidates": [{"content": {"role": "model"}, "finishReason": "SAFETY", "index": 0}],
                "usageMetadata": _usage(req, "", thinking), "modelVersion": model_id, "responseId": response_id}
    text = answer_text(body, req)
    return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP",
                            "index": 0}],
            "usageMetadata": _usage(req, text, thinking), "modelVersion": model_id, "responseId": response_id}
