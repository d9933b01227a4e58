"""The emulator's text models through the real SDK: rewrites, N variations, descriptions, tokens, Google's errors."""

from __future__ import annotations

import json

import pytest
from google.genai import errors, types

from studio.assistant import DESCRIBE_SCHEMA, IMPROVE_SCHEMA, variations_schema
from tests.emulator.conftest import png

FLASH = "gemini-3.5-flash"
LITE_TEXT = "gemini-3.1-flash-lite"
PROMPT = 'Rewrite it.\nPrompt:\n"""\na red scooter parked on a rainy street at night\n"""'


def _json(schema: dict) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(response_mime_type="application/json", response_schema=schema)


def test_a_rewrite_keeps_the_prompt_and_adds_detail_the_same_every_time(sdk) -> None:
    first = sdk.models.generate_content(model=LITE_TEXT, contents=PROMPT, config=_json(IMPROVE_SCHEMA))
    again = sdk.models.generate_content(model=LITE_TEXT, contents=PROMPT, config=_json(IMPROVE_SCHEMA))
    suggestion = json.loads(first.text)["prompt"]
    assert suggestion.startswith("A red scooter parked on a rainy street at night, ")
    assert len(suggestion) > len("a red scooter parked on a rainy street at night") + 30
    assert json.loads(again.text)["prompt"] == suggestion, "deterministic"
    assert first.parsed == {"prompt": suggestion}, "the SDK reads the structured answer as Google's"
    meta = first.usage_metadata
    assert meta.prompt_token_count > 0 and meta.candidates_token_count == -(-len(first.text) // 4)
    assert meta.thoughts_token_count and meta.total_token_count == (
        meta.prompt_token_count + meta.candidates_token_count + meta.thoughts_token_count)


def test_a_rewrite_keeps_the_roles_of_the_references(sdk) -> None:
    text = PROMPT + "\nReference images:\n- Image 1 (character): a woman in a yellow coat"
    answer = sdk.models.generate_content(model=FLASH, contents=text, config=_json(IMPROVE_SCHEMA))
    assert "the character from image 1" in json.loads(answer.text)["prompt"]


@pytest.mark.parametrize("count", [2, 5, 8])
def test_variations_are_n_distinct_prompts_on_the_same_subject(sdk, count: int) -> None:
    answer = sdk.models.generate_content(model=FLASH, contents=PROMPT, config=_json(variations_schema(count)))
    found = json.loads(answer.text)["variations"]
    assert len(found) == count == len(set(found))
    assert all(v.lower().startswith("a red scooter parked on a rainy street at night") for v in found)


def test_without_json_mode_the_answer_is_plain_text(sdk) -> None:
    answer = sdk.models.generate_content(model=FLASH, contents=PROMPT)
    assert answer.text.startswith("A red scooter") and not answer.text.startswith("{")


def test_describe_proposes_a_role_and_one_line(sdk) -> None:
    plain = types.Part.from_bytes(data=png(64, 64, (90, 120, 200)), mime_type="image/png")
    answer = sdk.models.generate_content(model=FLASH, contents=["Describe it", plain], config=_json(DESCRIBE_SCHEMA))
    value = json.loads(answer.text)
    assert value["role"] == "background" and "blue" in value["description"] and "\n" not in value["description"]
    assert answer.usage_metadata.prompt_tokens_details[-1].modality.name == "IMAGE"


def test_count_tokens_for_a_text_model_agrees_with_its_answers(sdk) -> None:
    assert sdk.models.count_tokens(model=LITE_TEXT, contents="a" * 40).total_tokens == 10
    counted = sdk.models.count_tokens(model=LITE_TEXT, contents=PROMPT).total_tokens
    assert sdk.models.generate_content(model=LITE_TEXT, contents=PROMPT).usage_metadata.prompt_token_count == counted


def test_google_errors_for_bad_input(sdk) -> None:
    with pytest.raises(errors.ClientError) as image:
        sdk.models.generate_content(model=FLASH, contents="x",
                                    config=types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"]))
    assert image.value.code == 400 and "response modalities: image" in image.value.message
    with pytest.raises(errors.ClientError) as schema_only:
        sdk.models.generate_content(model=FLASH, contents="x",
                                    config=types.GenerateContentConfig(response_schema=IMPROVE_SCHEMA))
    assert schema_only.value.code == 400 and "response_schema" in schema_only.value.message
    with pytest.raises(errors.ClientError) as mime:
        sdk.models.generate_content(model=FLASH, contents="x",
                                    config=types.GenerateContentConfig(response_mime_type="image/png"))
    assert mime.value.code == 400 and "allowed mimetypes" in mime.value.message
    with pytest.raises(errors.ClientError) as embedding:
        sdk.models.generate_content(model="gemini-embedding-001", contents="x")
    assert embedding.value.code == 404


def test_a_refusal_has_googles_shapes(sdk) -> None:
    blocked = sdk.models.generate_content(model=FLASH, contents="x [[fault:prompt_blocked]]",
                                          config=_json(IMPROVE_SCHEMA))
    assert blocked.prompt_feedback.block_reason == types.BlockedReason.SAFETY and not blocked.candidates
    stopped = sdk.models.generate_content(model=FLASH, contents="x [[fault:text_safety]]", config=_json(IMPROVE_SCHEMA))
    assert stopped.candidates[0].finish_reason == types.FinishReason.SAFETY and stopped.text is None


def test_a_streamed_text_answer_is_the_same_json(sdk) -> None:
    chunks = list(sdk.models.generate_content_stream(model=FLASH, contents=PROMPT, config=_json(IMPROVE_SCHEMA)))
    whole = sdk.models.generate_content(model=FLASH, contents=PROMPT, config=_json(IMPROVE_SCHEMA))
    assert "".join(c.text or "" for c in chunks) == whole.text
