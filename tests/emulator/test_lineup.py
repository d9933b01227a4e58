"""The emulator follows the registry: Dec 2026 lineup, retired IDs' 404s, thinking levels, flex, store."""

from __future__ import annotations

import time

import httpx
import pytest
from google.genai import errors, types

from studio.emulator.__main__ import _parse, config_from

from .conftest import FLASH, FLASH2, KEY, LITE, NB21, PRO, body, image_config, post, sdk_client


def _error(sdk, model: str, config: types.GenerateContentConfig) -> errors.APIError:
    with pytest.raises(errors.APIError) as caught:
        sdk.models.generate_content(model=model, contents="a lighthouse", config=config)
    return caught.value


def test_retired_ids_answer_googles_404(sdk, legacy) -> None:
    gone = _error(sdk, FLASH2, image_config("1:1", "1K"))
    assert (gone.code, gone.status) == (404, "NOT_FOUND")
    assert gone.message == (f"models/{FLASH2} is not found for API version v1beta, or is not supported for "
                            "generateContent. Call ListModels to see the list of available models and their "
                            "supported methods.")
    closed = _error(sdk, FLASH, image_config("1:1", "1K"))
    assert (closed.code, closed.status) == (404, "NOT_FOUND") and "no longer available to new users" in closed.message
    assert legacy.models.generate_content(model=FLASH2, contents="still here", config=image_config("1:1", "512"))
    assert _error(legacy, NB21, image_config("1:1", "1K")).code == 404, "2.1 did not exist in 2025"


@pytest.mark.parametrize(("model", "level"), [(LITE, "MEDIUM"), (LITE, "LOW"), (PRO, "HIGH"), (NB21, "LOW")])
def test_a_thinking_level_the_model_lacks_is_400(sdk, model: str, level: str) -> None:
    err = _error(sdk, model, image_config("1:1", "1K", thinking_config=types.ThinkingConfig(thinking_level=level)))
    assert (err.code, err.status) == (400, "INVALID_ARGUMENT") and "thinking" in err.message


def test_a_higher_thinking_level_thinks_more(sdk) -> None:
    def run(level: str) -> tuple[int, int]:
        config = image_config("21:9", "2K", thinking_config=types.ThinkingConfig(thinking_level=level,
                                                                                include_thoughts=True))
        answer = sdk.models.generate_content(model=NB21, contents="a harbour at dusk", config=config)
        texts = [p for p in answer.candidates[0].content.parts if p.thought and p.text]
        return len(texts), answer.usage_metadata.thoughts_token_count

    minimal, medium, high = run("MINIMAL"), run("MEDIUM"), run("HIGH")
    assert minimal[0] < medium[0] < high[0] and minimal[1] < medium[1] < high[1]
    lite = sdk.models.generate_content(model=LITE, contents="a harbour at dusk", config=image_config(
        "1:1", "1K", thinking_config=types.ThinkingConfig(thinking_level="HIGH")))
    assert lite.usage_metadata.thoughts_token_count >= 900


def test_the_sdk_sends_the_new_fields_and_the_emulator_reads_them(emulator) -> None:
    """google-genai 3.6.1 spells them serviceTier and store (top level), thinkingConfig.thinking_level."""
    payload = {**body("a kite", "1:1", "1K", thinkingConfig={"thinking_level": "HIGH"}), "serviceTier": "flex",
               "store": False}
    answer = post(emulator, payload, model=NB21)
    assert answer.status_code == 200 and answer.json()["usageMetadata"]["serviceTier"] == "flex"
    for bad, field in (({"store": "no"}, "store"), ({"serviceTier": "express"}, "service_tier"),
                       ({"generationConfig": {"thinkingConfig": {"thinkingLevel": "MAXIMAL"}}}, "thinking_level")):
        refused = post(emulator, {**body("a kite"), **bad}, model=NB21)
        assert refused.status_code == 400 and field in refused.json()["error"]["message"]


def test_flex_is_accepted_and_answers_slower(fresh_emulator) -> None:
    server = fresh_emulator(flex_delay_s=0.6)
    sdk = sdk_client(server)
    started = time.perf_counter()
    sdk.models.generate_content(model=NB21, contents="now", config=image_config("1:1", "1K", store=False))
    now = time.perf_counter() - started
    started = time.perf_counter()
    flex = sdk.models.generate_content(model=NB21, contents="flex", config=image_config(
        "1:1", "1K", service_tier="flex", store=False))
    assert time.perf_counter() - started >= 0.6 > now
    assert flex.candidates[0].content.parts and server.stats()["requests"]["tier_flex"] == 1


def test_text_models_are_listed_but_make_no_images(sdk) -> None:
    err = _error(sdk, "gemini-3.5-flash", image_config("1:1", "1K"))
    assert err.code == 400 and err.message == "Model does not support the requested response modalities: image"
    assert sdk.models.get(model="gemini-3.5-flash").display_name == "Gemini 3.5 Flash"


def test_command_line_flags() -> None:
    config = config_from(_parse(["--lineup", "2025", "--flex-delay", "3", "--text-model", "t-1", "--port", "0"]))
    assert (config.lineup, config.flex_delay_s, config.extra_text_models) == ("2025", 3.0, ("t-1",))
    assert config_from(_parse([])).lineup == "current"


def test_models_get_for_a_retired_id_is_404(emulator) -> None:
    answer = httpx.get(f"{emulator.base_url}/v1beta/models/{FLASH2}", headers={"x-goog-api-key": KEY})
    assert answer.status_code == 404 and answer.json()["error"]["status"] == "NOT_FOUND"
