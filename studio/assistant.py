"""The prompt assistant: Improve prompt, Variations and Describe, asked of a Gemini text model.

Each task is one structured-output call (``responseMimeType: application/json`` with a
``responseSchema``, the way Google's structured output is asked for), read back and checked here.
A refusal or a failure becomes an ``AssistantError`` in plain words; nothing here changes the
person's prompt. The cost comes from the answer's usage (thinking billed as output), and every call
is charged to the spend ledger before sending and billed from usage after, like an image.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from google import genai
from google.genai import types

from studio.failures import classify_exception
from studio.history.ledger import SpendLedger
from studio.request import ReferenceImage
from studio.text_model import TextModel, TextModels, choose

MIN_VARIATIONS, MAX_VARIATIONS = 2, 8
ROLES = ("character", "object", "style", "background")
REFUSED = ("The text model declined this request ({reason}). Your prompt is unchanged: rephrase it and try "
           "again, or keep writing it yourself.")
UNREADABLE = "The text model's answer could not be read. Your prompt is unchanged; try again."

SYSTEM = ("You help people write prompts for Google's Gemini image models. Keep the person's subject, intent and "
          "every named detail; never add text, logos or real people they did not ask for. Answer in the JSON shape "
          "asked for, nothing else.")

IMPROVE_SCHEMA: dict[str, Any] = {
    "type": "OBJECT", "properties": {"prompt": {"type": "STRING", "description": "the improved prompt"}},
    "required": ["prompt"]}
DESCRIBE_SCHEMA: dict[str, Any] = {
    "type": "OBJECT", "properties": {"role": {"type": "STRING", "enum": list(ROLES)},
                                     "description": {"type": "STRING", "description": "one line"}},
    "required": ["role", "description"]}


def variations_schema(count: int) -> dict[str, Any]:
    return {"type": "OBJECT", "properties": {"variations": {
        "type": "ARRAY", "items": {"type": "STRING"}, "min_items": count, "max_items": count}},
        "required": ["variations"]}


class AssistantError(Exception):
    """A call that gave no usable answer; ``str()`` is the plain message for the person."""


@dataclass(frozen=True)
class AssistResult:
    """What a call gave: the suggestion(s), and its cost from usage."""

    task: str  # improve, variations or describe
    model: TextModel
    prompt: str = ""  # Improve prompt's suggestion
    variations: tuple[str, ...] = ()
    role: str = ""  # Describe's proposed role
    description: str = ""
    prompt_tokens: int = 0
    output_tokens: int = 0  # answer plus thinking
    cost_usd: float = 0.0
    estimate_usd: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def reference_lines(references: Sequence[ReferenceImage], descriptions: dict[str, str]) -> list[str]:
    """``- Image N (role): description`` per reference (the description Describe gave, else its file name)."""
    return [f"- Image {i} ({ref.role}): {descriptions.get(ref.sha256) or ref.name}"
            for i, ref in enumerate(references, start=1)]


def improve_text(prompt: str, reference_notes: Iterable[str] = ()) -> str:
    notes = list(reference_notes)
    text = ("Rewrite this image prompt so an image model follows it better: concrete subject, setting, light, "
            f"composition and style, in one paragraph.\nPrompt:\n\"\"\"\n{prompt.strip()}\n\"\"\"")
    if notes:
        text += "\nReference images sent with it (keep each one's role):\n" + "\n".join(notes)
    return text


def variations_text(prompt: str, count: int, reference_notes: Iterable[str] = ()) -> str:
    notes = list(reference_notes)
    text = (f"Write {count} distinct prompts that explore different takes on this image prompt (style, light, "
            f"angle, setting), each a complete prompt.\nPrompt:\n\"\"\"\n{prompt.strip()}\n\"\"\"")
    if notes:
        text += "\nReference images sent with it:\n" + "\n".join(notes)
    return text


DESCRIBE_TEXT = ("This picture will be a reference for an image model. Propose its role (character, object, style "
                 "or background) and describe it in one short line.")


def check_count(count: int) -> int:
    if not MIN_VARIATIONS <= int(count) <= MAX_VARIATIONS:
        raise AssistantError(f"Ask for {MIN_VARIATIONS} to {MAX_VARIATIONS} variations.")
    return int(count)


def _config(schema: dict[str, Any]) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(system_instruction=SYSTEM, response_mime_type="application/json",
                                       response_schema=schema)


def _usage(response: types.GenerateContentResponse) -> tuple[int, int]:
    meta = response.usage_metadata
    if meta is None:
        return 0, 0
    prompt = (meta.prompt_token_count or 0) + (meta.tool_use_prompt_token_count or 0)
    return prompt, (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)


def read_answer(response: types.GenerateContentResponse) -> dict[str, Any]:
    """The answer's JSON object; a refusal or an unreadable answer is an ``AssistantError``."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        raise AssistantError(REFUSED.format(reason=_reason(str(feedback.block_reason))))
    candidate = response.candidates[0] if response.candidates else None
    finish = str(candidate.finish_reason) if candidate is not None and candidate.finish_reason else ""
    parts = (candidate.content.parts if candidate is not None and candidate.content else None) or []
    text = "".join(p.text or "" for p in parts if not p.thought)
    if not text.strip():
        if any(word in finish for word in ("SAFETY", "PROHIBITED", "BLOCKLIST", "SPII", "RECITATION")):
            raise AssistantError(REFUSED.format(reason=_reason(finish)))
        raise AssistantError("The text model gave an empty answer. Your prompt is unchanged; try again.")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise AssistantError(UNREADABLE) from exc
    if not isinstance(value, dict):
        raise AssistantError(UNREADABLE)
    return value


def _reason(raw: str) -> str:
    name = raw.rsplit(".", 1)[-1].upper()
    return {"SAFETY": "safety filters", "PROHIBITED_CONTENT": "prohibited content", "BLOCKLIST": "blocked terms",
            "RECITATION": "it would repeat protected text", "OTHER": "no reason given"}.get(name, name.lower())


def _text(value: object) -> str:
    return " ".join(str(value or "").split())


async def _ask(client: genai.Client, model: TextModel, contents: Any, schema: dict[str, Any],
               secrets: tuple[str, ...]) -> tuple[dict[str, Any], int, int]:
    try:
        response = await client.aio.models.generate_content(model=model.model_id, contents=contents,
                                                            config=_config(schema))
    except Exception as exc:  # every failure is shown in plain words; the SDK's own text may hold a secret
        failure = classify_exception(exc, secrets)
        raise AssistantError(f"{failure.message} Your prompt is unchanged.") from exc
    prompt, output = _usage(response)
    return read_answer(response), prompt, output


async def improve(client: genai.Client, model: TextModel, prompt: str, reference_notes: Iterable[str] = (),
                  secrets: tuple[str, ...] = ()) -> AssistResult:
    if not prompt.strip():
        raise AssistantError("Write a prompt first: there is nothing to improve.")
    answer, used_in, used_out = await _ask(client, model, improve_text(prompt, reference_notes), IMPROVE_SCHEMA,
                                           secrets)
    suggestion = _text(answer.get("prompt"))
    if not suggestion:
        raise AssistantError(UNREADABLE)
    return AssistResult("improve", model, prompt=suggestion, prompt_tokens=used_in, output_tokens=used_out,
                        cost_usd=model.cost(used_in, used_out))


async def vary(client: genai.Client, model: TextModel, prompt: str, count: int, reference_notes: Iterable[str] = (),
               secrets: tuple[str, ...] = ()) -> AssistResult:
    count = check_count(count)
    if not prompt.strip():
        raise AssistantError("Write a prompt first: there is nothing to vary.")
    answer, used_in, used_out = await _ask(client, model, variations_text(prompt, count, reference_notes),
                                           variations_schema(count), secrets)
    raw = answer.get("variations")
    found = list(dict.fromkeys(_text(v) for v in raw if _text(v))) if isinstance(raw, list) else []
    if not found:
        raise AssistantError(UNREADABLE)
    return AssistResult("variations", model, variations=tuple(found[:count]), prompt_tokens=used_in,
                        output_tokens=used_out, cost_usd=model.cost(used_in, used_out))


async def describe(client: genai.Client, model: TextModel, reference: ReferenceImage,
                   secrets: tuple[str, ...] = ()) -> AssistResult:
    contents = [DESCRIBE_TEXT, types.Part.from_bytes(data=reference.data, mime_type=reference.mime_type)]
    answer, used_in, used_out = await _ask(client, model, contents, DESCRIBE_SCHEMA, secrets)
    role = _text(answer.get("role")).lower()
    line = _text(answer.get("description"))
    if role not in ROLES or not line:
        raise AssistantError(UNREADABLE)
    return AssistResult("describe", model, role=role, description=line, prompt_tokens=used_in,
                        output_tokens=used_out, cost_usd=model.cost(used_in, used_out))


async def pick_model(client: genai.Client, table: TextModels, configured_id: str | None) -> TextModel:
    """The text model this credential offers (its model list); the configured or first preferred when the list
    cannot be read (the call itself then says what is wrong)."""
    try:
        pager = await client.aio.models.list(config={"page_size": 200})
        listed = [m.model_dump() async for m in pager]
    except Exception:  # the list is a hint only: the call that follows reports any real problem plainly
        return choose(table, configured_id, None)
    return choose(table, configured_id, listed)


@dataclass
class Charge:
    """One assistant call in the spend ledger: charged (the estimate) before sending, billed from usage after."""

    ledger: SpendLedger | None
    namespace: str
    estimate_usd: float
    entry_id: str = field(default_factory=lambda: f"assist-{uuid.uuid4().hex}")

    def __post_init__(self) -> None:
        if self.ledger is not None:
            self.ledger.charge(self.entry_id, self.namespace, time.time(), self.estimate_usd)

    def bill(self, cost_usd: float) -> None:
        if self.ledger is not None:
            self.ledger.bill(self.entry_id, cost_usd)


@dataclass(frozen=True)
class Task:
    """One thing asked of the text model: ``improve``, ``variations`` (``count``) or ``describe`` (``reference``)."""

    kind: str
    prompt: str = ""
    count: int = 0
    notes: tuple[str, ...] = ()
    reference: ReferenceImage | None = field(default=None, repr=False)


def estimate_for(table: TextModels, model: TextModel, task: Task) -> float:
    """USD the task is expected to cost, shown before it runs and charged to the ledger when it is sent."""
    if task.kind == "describe":
        return table.estimate(model, SYSTEM + DESCRIBE_TEXT, 1, "describe")
    if task.kind == "variations":
        return table.estimate(model, SYSTEM + variations_text(task.prompt, task.count, task.notes), 0, "variation",
                              task.count)
    return table.estimate(model, SYSTEM + improve_text(task.prompt, task.notes), 0, "improve")


async def run(client: genai.Client, task: Task, table: TextModels, *, configured_id: str | None = None,
              model: TextModel | None = None, ledger: SpendLedger | None = None, namespace: str = "",
              secrets: tuple[str, ...] = ()) -> AssistResult:
    """The whole call as the runner makes it: the model (from the credential's list unless known), the
    estimate charged to the ledger, the call, and its cost from usage billed."""
    chosen = model or await pick_model(client, table, configured_id)
    estimate = estimate_for(table, chosen, task)
    charge = await asyncio.to_thread(Charge, ledger, namespace, estimate)
    try:
        if task.kind == "describe" and task.reference is not None:
            result = await describe(client, chosen, task.reference, secrets)
        elif task.kind == "variations":
            result = await vary(client, chosen, task.prompt, task.count, task.notes, secrets)
        else:
            result = await improve(client, chosen, task.prompt, task.notes, secrets)
    except AssistantError:
        await asyncio.to_thread(charge.bill, 0.0)  # nothing came back: the estimate stays counted, as for images
        raise
    await asyncio.to_thread(charge.bill, result.cost_usd)
    return replace(result, estimate_usd=estimate)
