"""Thoughts, drafts, signatures and usage token counts as Google reports them."""

from __future__ import annotations

import base64
import io
import math

import pytest
from google.genai import types
from PIL import Image

from studio.catalogue import DEFAULT_CATALOGUE
from studio.emulator.usage import INPUT_IMAGE_TOKENS, THOUGHT_TOKENS_MAX, THOUGHT_TOKENS_MIN

from .conftest import FLASH, FLASH2, LITE, NB21, PRO, body, image_config, png, post


def test_several_thoughts_and_two_1k_drafts_then_signed_final_parts(sdk) -> None:
    config = image_config("16:9", "2K", thinking_config=types.ThinkingConfig(include_thoughts=True))
    parts = sdk.models.generate_content(model=PRO, contents="a castle", config=config).candidates[0].content.parts
    thoughts = [p for p in parts if p.thought]
    finals = [p for p in parts if not p.thought]
    texts = [p.text for p in thoughts if p.text]
    assert len(texts) in (2, 3) and "castle" in texts[0] and texts[0].startswith("**")
    drafts = [p for p in thoughts if p.inline_data]
    assert len(drafts) == 2 and thoughts[0].text and thoughts[1].inline_data, "thinking, then a draft"
    for draft in drafts:
        with Image.open(io.BytesIO(draft.inline_data.data)) as img:
            assert img.size == (1376, 768), "drafts come at 1K, the final at 2K"
    assert all(p.thought_signature for p in finals) and not any(p.thought_signature for p in thoughts)
    with Image.open(io.BytesIO(next(p for p in finals if p.inline_data).inline_data.data)) as img:
        assert img.size == (2752, 1536)


def test_signatures_are_padded_base64_on_the_wire(emulator) -> None:
    raw = post(emulator, body("sig")).json()
    for part in raw["candidates"][0]["content"]["parts"]:
        sig = part["thoughtSignature"]
        assert len(sig) % 4 == 0 and base64.b64decode(sig, validate=True)


def test_no_thoughts_unless_asked_and_none_for_nano_banana(sdk, legacy) -> None:
    plain = sdk.models.generate_content(model=PRO, contents="plain", config=image_config("1:1", "1K"))
    assert not any(p.thought for p in plain.candidates[0].content.parts)
    asked = image_config("1:1", "1K", thinking_config=types.ThinkingConfig(include_thoughts=True))
    flash = legacy.models.generate_content(model=FLASH, contents="plain", config=asked)
    assert not any(p.thought for p in flash.candidates[0].content.parts)
    assert flash.usage_metadata.thoughts_token_count is None


@pytest.mark.parametrize(("model", "size"), [(PRO, "1K"), (PRO, "2K"), (PRO, "4K"), (NB21, "1K"), (NB21, "2K"),
                                             (NB21, "4K"), (LITE, "1K"), (FLASH2, "512"), (FLASH, "4K")])
def test_candidates_tokens_are_the_catalogues(emulator, legacy_emulator, model: str, size: str) -> None:
    spec = DEFAULT_CATALOGUE.resolve(model)
    server = emulator if spec.offered else legacy_emulator
    usage = post(server, body("count me", "1:1", size), model=model).json()["usageMetadata"]
    assert usage["candidatesTokenCount"] == spec.output_tokens(size)
    assert usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": spec.output_tokens(size)}]
    assert usage["totalTokenCount"] == (usage["promptTokenCount"] + usage["candidatesTokenCount"]
                                        + usage.get("thoughtsTokenCount", 0))


def test_prompt_tokens_count_text_and_input_images(sdk) -> None:
    prompt = "x" * 41
    refs = [types.Part.from_bytes(data=png(), mime_type="image/png")] * 3
    usage = sdk.models.generate_content(model=PRO, contents=[prompt, *refs],
                                        config=image_config("1:1", "1K")).usage_metadata
    text_tokens = math.ceil(41 / 4)
    assert usage.prompt_token_count == text_tokens + 3 * INPUT_IMAGE_TOKENS
    details = {d.modality.value: d.token_count for d in usage.prompt_tokens_details}
    assert details == {"TEXT": text_tokens, "IMAGE": 3 * INPUT_IMAGE_TOKENS}
    assert THOUGHT_TOKENS_MIN <= usage.thoughts_token_count <= THOUGHT_TOKENS_MAX
    assert usage.total_token_count == usage.prompt_token_count + 1120 + usage.thoughts_token_count


def test_thoughts_tokens_vary_by_prompt_but_not_on_repeat(emulator) -> None:
    counts = [post(emulator, body(f"vary {i}", "1:1", "1K")).json()["usageMetadata"]["thoughtsTokenCount"]
              for i in range(6)]
    assert len(set(counts)) > 1
    assert post(emulator, body("vary 0", "1:1", "1K")).json()["usageMetadata"]["thoughtsTokenCount"] == counts[0]


def test_usage_says_service_tier_and_drafts_are_not_billed(emulator) -> None:
    plain = post(emulator, body("bill", "1:1", "1K")).json()["usageMetadata"]
    thinking = post(emulator, body("bill", "1:1", "1K", thinkingConfig={"includeThoughts": True})).json()
    assert plain["serviceTier"] == "standard"
    assert thinking["usageMetadata"]["candidatesTokenCount"] == plain["candidatesTokenCount"] == 1120
