"""The prompt assistant through the real SDK against the emulator: answers read, costs from usage, refusals plain."""

from __future__ import annotations

import asyncio
import time

import pytest
from google import genai
from google.genai import types

from studio import assistant, text_model
from studio.assistant import AssistantError
from studio.emulator.server import EmulatorServer
from studio.history import HistoryStore
from studio.registry import RegistryError
from studio.request import ReferenceImage
from tests.emulator.conftest import png

TABLE = text_model.load()
LITE = TABLE.preferred[0]


def _client(server: EmulatorServer) -> genai.Client:
    return genai.Client(api_key="test-key",
                        http_options=types.HttpOptions(base_url=server.base_url, api_version="v1beta"))


def test_improve_reads_the_suggestion_and_costs_it_from_usage(emulator) -> None:
    result = asyncio.run(assistant.improve(_client(emulator), LITE, "a red scooter at night"))
    assert result.prompt.startswith("A red scooter at night, ") and result.prompt != "a red scooter at night"
    assert result.prompt_tokens > 0 and result.output_tokens > 0
    assert result.cost_usd == pytest.approx(
        (result.prompt_tokens * LITE.input_price + result.output_tokens * LITE.output_price) / 1e6)


def test_improve_sends_the_references_descriptions(emulator) -> None:
    ref = ReferenceImage("me.png", png(), "image/png", role="character")
    notes = assistant.reference_lines([ref], {ref.sha256: "a woman in a yellow coat"})
    assert notes == ["- Image 1 (character): a woman in a yellow coat"]
    result = asyncio.run(assistant.improve(_client(emulator), LITE, "walking in the park", notes))
    assert "the character from image 1" in result.prompt


def test_variations_are_distinct_and_counted(emulator) -> None:
    result = asyncio.run(assistant.vary(_client(emulator), LITE, "a bowl of lemons", 3))
    assert len(result.variations) == 3 == len(set(result.variations))
    with pytest.raises(AssistantError, match="2 to 8"):
        asyncio.run(assistant.vary(_client(emulator), LITE, "a bowl of lemons", 9))


def test_describe_proposes_a_role(emulator) -> None:
    ref = ReferenceImage("sky.png", png(64, 64, (90, 120, 200)), "image/png")
    result = asyncio.run(assistant.describe(_client(emulator), LITE, ref))
    assert result.role in assistant.ROLES and result.description


@pytest.mark.parametrize("marker", ["[[fault:prompt_blocked]]", "[[fault:text_safety]]"])
def test_a_refusal_is_plain_words(emulator, marker: str) -> None:
    with pytest.raises(AssistantError) as refused:
        asyncio.run(assistant.improve(_client(emulator), LITE, f"something {marker}"))
    assert "declined" in str(refused.value) and "safety" in str(refused.value) and "unchanged" in str(refused.value)


def test_a_failure_is_plain_words_without_the_key(emulator) -> None:
    with pytest.raises(AssistantError) as failed:
        asyncio.run(assistant.improve(_client(emulator), LITE, "x [[fault:quota]]", secrets=("test-key",)))
    assert str(failed.value).startswith("Quota reached") and "test-key" not in str(failed.value)


def test_the_model_is_chosen_from_the_credentials_list(emulator) -> None:
    client = _client(emulator)
    assert asyncio.run(assistant.pick_model(client, TABLE, None)).model_id == "gemini-3.1-flash-lite"
    assert asyncio.run(assistant.pick_model(client, TABLE, "gemini-3.5-flash")).model_id == "gemini-3.5-flash"
    fallback = asyncio.run(assistant.pick_model(client, TABLE, "gemini-1.0-pro-gone"))
    assert fallback.model_id == "gemini-3.1-flash-lite", "a configured model the list lacks is not used"


def test_choose_prefers_a_listed_flash_and_prices_unknown_models_high() -> None:
    listed = [{"name": "models/gemini-9-flash", "display_name": "Gemini 9 Flash",
               "supported_actions": ["generateContent"]},
              {"name": "models/gemini-9-flash-image", "supported_actions": ["generateContent"]}]
    chosen = text_model.choose(TABLE, None, listed)
    dearest = max(TABLE.preferred, key=lambda m: m.output_price)
    assert chosen.model_id == "gemini-9-flash" and chosen.output_price == dearest.output_price


def test_configuration_names_the_model() -> None:
    assert text_model.configured({"text_model": "models/gemini-x"}, env={}) == "gemini-x"
    assert text_model.configured({"text_model": "gemini-x"}, env={"STUDIO_TEXT_MODEL": "gemini-y"}) == "gemini-y"
    assert text_model.configured(None, env={}) is None


def test_the_table_is_checked() -> None:
    with pytest.raises(RegistryError, match="prices"):
        text_model.parse({"models": {"a": {"model_id": "m", "label": "M", "prices": {"text_input": 1}}}})
    with pytest.raises(RegistryError, match="preferred"):
        text_model.parse({"preferred": ["b"], "models": {"a": {"model_id": "m", "label": "M",
                                                               "prices": {"text_input": 1, "text_output": 2}}}})


def test_an_estimate_grows_with_the_prompt_and_the_count() -> None:
    short = TABLE.estimate(LITE, "a cat", 0, "improve")
    assert 0 < short < TABLE.estimate(LITE, "a cat " * 200, 0, "improve")
    assert TABLE.estimate(LITE, "a cat", 0, "variation", 8) > TABLE.estimate(LITE, "a cat", 0, "variation", 2)


def test_a_call_counts_in_the_spend_ledger(tmp_path) -> None:
    store = HistoryStore.open(url=f"sqlite:///{tmp_path / 'h.sqlite3'}", data_dir=tmp_path)
    before = store.ledger.spent(0, "ns")
    charge = assistant.Charge(store.ledger, "ns", 0.002)
    assert store.ledger.spent(0, "ns") == pytest.approx(before + 0.002)
    charge.bill(0.005)
    assert store.ledger.spent(time.time() - 60, "ns") == pytest.approx(before + 0.005)
