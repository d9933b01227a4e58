"""Blocked and empty answers in every shape the live API sends them.

A blocked prompt has no ``candidates`` and a ``promptFeedback.blockReason``. A blocked or empty
output has a candidate with a ``finishReason`` (IMAGE_SAFETY, IMAGE_PROHIBITED_CONTENT,
IMAGE_OTHER, IMAGE_RECITATION, NO_IMAGE), often a ``finishMessage`` (some carry a "Support code"),
and its content in one of four live shapes: no ``content`` key, ``content: {}``,
``{"role": "model"}`` only, or ``parts: null``. Each reason and each shape has a fault marker;
combine them (``[[fault:image_other]][[fault:null_parts]]``) for any pair.
"""

from __future__ import annotations

import hashlib

BLOCK_MESSAGE = ("Unable to show the generated image. The image was filtered out because it violated "
                 "Google's Generative AI Prohibited Use policy. You will not be charged for blocked images. "
                 "Try rephrasing the prompt. If you think this was an error, send feedback.")
NO_IMAGE_MESSAGE = "Unable to generate an image for this prompt. Try rephrasing the prompt to ask for an image."
OTHER_MESSAGE = ("Unable to show the generated image. The model could not generate the image based on the "
                 "prompt provided. You will not be charged for this request. Try rephrasing the prompt. "
                 "If you think this was an error, send feedback. Support code: {code}")
RECITATION_MESSAGE = ("Unable to show the generated image. The image was filtered out because it may recite "
                      "protected material. You will not be charged for blocked images. Try rephrasing the prompt.")

# fault name -> (finishReason, finishMessage or None, default content shape)
FINISH_FAULTS: dict[str, tuple[str, str | None, str]] = {
    "image_safety": ("IMAGE_SAFETY", BLOCK_MESSAGE, "role_only"),
    "image_prohibited_content": ("IMAGE_PROHIBITED_CONTENT", BLOCK_MESSAGE + " Support code: {code}", "role_only"),
    "image_other": ("IMAGE_OTHER", OTHER_MESSAGE, "no_content"),
    "image_recitation": ("IMAGE_RECITATION", RECITATION_MESSAGE, "role_only"),
    "no_image": ("NO_IMAGE", NO_IMAGE_MESSAGE, "empty_content"),
}
SHAPE_FAULTS = ("no_content", "empty_content", "role_only", "null_parts")
SHAPE_DEFAULT_REASON = "no_image"  # a shape marker alone gives a NO_IMAGE answer in that shape
PROMPT_FAULTS: dict[str, str] = {
    "prompt_blocked": "SAFETY",
    "prompt_blocked_other": "OTHER",
    "prompt_blocklist": "BLOCKLIST",
    "prompt_prohibited": "PROHIBITED_CONTENT",
    "prompt_image_safety": "IMAGE_SAFETY",
}
ALL = frozenset({*FINISH_FAULTS, *SHAPE_FAULTS, *PROMPT_FAULTS})


def support_code(prompt: str) -> str:
    return str(int.from_bytes(hashlib.sha256(f"support|{prompt}".encode()).digest()[:4], "big") % 10**8).zfill(8)


def prompt_block(names: set[str]) -> dict | None:
    """``promptFeedback`` for a blocked prompt, or None."""
    for name, reason in PROMPT_FAULTS.items():
        if name in names:
            feedback: dict = {"blockReason": reason}
            if reason == "SAFETY":
                feedback["safetyRatings"] = [
                    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]
            return feedback
    return None


def blocked_candidate(names: set[str], prompt: str) -> dict | None:
    """The candidate of a blocked or empty output, or None when the output is not blocked."""
    reason_fault = next((n for n in FINISH_FAULTS if n in names), None)
    shape = next((n for n in SHAPE_FAULTS if n in names), None)
    if reason_fault is None and shape is None:
        return None
    reason, message, default_shape = FINISH_FAULTS[reason_fault or SHAPE_DEFAULT_REASON]
    candidate: dict = {}
    shape = shape or default_shape
    if shape == "empty_content":
        candidate["content"] = {}
    elif shape == "role_only":
        candidate["content"] = {"role": "model"}
    elif shape == "null_parts":
        candidate["content"] = {"parts": None, "role": "model"}
    candidate["finishReason"] = reason
    if message:
        candidate["finishMessage"] = message.format(code=support_code(prompt))
    candidate["index"] = 0
    return candidate
