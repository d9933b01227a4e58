"""The methods peers call besides generateContent: countTokens, paged models.list, search grounding,
Google-shaped 404s, fractional retry delays, 504, captions and interleaved answers."""

from __future__ import annotations

import httpx
import pytest
from google.genai import errors, types

from studio.emulator.usage import INPUT_IMAGE_TOKENS, SEARCH_TOOL_TOKENS

from .conftest import FLASH, FLASH2, KEY, LITE, NB21, PRO, body, image_config, png, post


def test_count_tokens_matches_the_prompt_count(sdk) -> None:
    ref = types.Part.from_bytes(data=png(), mime_type="image/png")
    counted = sdk.models.count_tokens(model=PRO, contents=["x" * 40, ref])
    assert counted.total_tokens == 10 + INPUT_IMAGE_TOKENS
    answer = sdk.models.generate_content(model=PRO, contents=["x" * 40, ref], config=image_config("1:1", "1K"))
    assert answer.usage_metadata.prompt_token_count == counted.total_tokens


def test_count_tokens_takes_a_generate_content_request(emulator) -> None:
    url = f"{emulator.base_url}/v1beta/models/{PRO}:countTokens"
    answer = httpx.post(url, json={"generateContentRequest": {"model": f"models/{PRO}", **body("x" * 8)}},
                        headers={"x-goog-api-key": KEY})
    assert answer.json()["totalTokens"] == 2
    assert httpx.post(url, json={"contents": [], "foo": 1}, headers={"x-goog-api-key": KEY}).status_code == 400
    assert httpx.post(url, json=body("x"), headers={}).status_code == 403


TEXT_MODELS = ("gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-embedding-001",
               "gemini-embedding-2")  # the last from studio/models.toml [embedding_models] (search by meaning)


def test_models_list_pages_through_the_sdk_pager(sdk, legacy) -> None:
    pager = sdk.models.list(config={"page_size": 1})
    assert len(pager.page) == 1
    assert [m.name for m in pager] == [f"models/{m}" for m in (NB21, PRO, LITE, *TEXT_MODELS)]
    assert [m.name for m in legacy.models.list(config={"page_size": 2})][:3] == [
        f"models/{m}" for m in (PRO, FLASH2, FLASH)]
    whole = sdk.models.list()
    assert len(whole.page) == 7
    with pytest.raises(IndexError):  # the last page has no nextPageToken: the SDK says "No more pages"
        whole.next_page()


def test_a_bad_page_token_is_400(emulator) -> None:
    answer = httpx.get(f"{emulator.base_url}/v1beta/models", params={"pageToken": "nonsense"},
                       headers={"x-goog-api-key": KEY})
    assert answer.status_code == 400


def test_only_served_methods_are_advertised(sdk) -> None:
    for model in sdk.models.list():
        if model.name.removeprefix("models/") not in TEXT_MODELS:
            assert set(model.supported_actions) == {"generateContent", "countTokens"}


def test_search_grounding_metadata_and_tool_tokens(sdk) -> None:
    config = image_config("16:9", "1K", tools=[types.Tool(google_search=types.GoogleSearch())])
    answer = sdk.models.generate_content(model=PRO, contents="the weather in Paris today", config=config)
    grounding = answer.candidates[0].grounding_metadata
    assert "<style>" in grounding.search_entry_point.rendered_content
    assert grounding.web_search_queries[0].startswith("the weather in Paris")
    assert grounding.grounding_chunks and all(c.web.uri.startswith("https://") and c.web.title
                                              for c in grounding.grounding_chunks)
    usage = answer.usage_metadata
    assert usage.tool_use_prompt_token_count == SEARCH_TOOL_TOKENS
    assert usage.total_token_count == (usage.prompt_token_count + usage.candidates_token_count
                                       + usage.thoughts_token_count + SEARCH_TOOL_TOKENS)
    plain = sdk.models.generate_content(model=PRO, contents="the weather in Paris today", config=image_config("1:1"))
    assert plain.candidates[0].grounding_metadata is None


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1beta/cachedContents"), ("POST", f"/v1beta/models/{PRO}:embedContent"),
    ("POST", "/v1beta/files"), ("DELETE", f"/v1beta/models/{PRO}"), ("PATCH", "/v1beta/models")])
def test_unknown_paths_are_404_in_googles_shape(emulator, method: str, path: str) -> None:
    answer = httpx.request(method, emulator.base_url + path, headers={"x-goog-api-key": KEY})
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["status"] == "NOT_FOUND" and answer.json()["error"]["code"] == 404


def test_fractional_retry_delay_in_429(emulator, sdk) -> None:
    details = post(emulator, body("wait [[fault:quota=57.238747106]]")).json()["error"]["details"]
    assert {d["@type"].rsplit(".", 1)[-1]: d for d in details}["RetryInfo"]["retryDelay"] == "57.238747106s"
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model=PRO, contents="wait [[fault:quota=34.4]]", config=image_config("1:1"))
    assert "Please retry in 34.4s." in caught.value.message


def test_deadline_exceeded_is_504(sdk) -> None:
    with pytest.raises(errors.ServerError) as caught:
        sdk.models.generate_content(model=PRO, contents="slow [[fault:deadline]]", config=image_config("1:1"))
    assert (caught.value.code, caught.value.status) == (504, "DEADLINE_EXCEEDED")


@pytest.mark.parametrize(("marker", "texts"), [("no_caption", []), ("empty_caption", [""]),
                                               ("with_caption", ["Here is the image you asked for."])])
def test_caption_markers(sdk, marker: str, texts: list[str]) -> None:
    answer = sdk.models.generate_content(model=PRO, contents=f"cap [[fault:{marker}]]", config=image_config("1:1"))
    parts = answer.candidates[0].content.parts
    assert [p.text for p in parts if p.text is not None] == texts and parts[-1].inline_data


def test_pro_captions_vary_by_prompt_and_nano_banana_always_speaks(sdk, legacy) -> None:
    kinds = set()
    for i in range(12):
        parts = sdk.models.generate_content(model=PRO, contents=f"vary {i}", config=image_config("1:1")).candidates[0]
        kinds.add(tuple(p.text for p in parts.content.parts if p.text is not None))
    assert {(), ("",)} <= kinds, kinds
    flash = legacy.models.generate_content(model=FLASH, contents="speak", config=image_config("1:1"))
    assert flash.candidates[0].content.parts[0].text


def test_interleaved_images_and_text(legacy) -> None:
    answer = legacy.models.generate_content(model=FLASH, contents="two takes [[fault:interleaved]]",
                                         config=image_config("1:1"))
    kinds = ["image" if p.inline_data else "text" for p in answer.candidates[0].content.parts]
    assert kinds == ["text", "image", "text", "image"]
    first, second = (p.inline_data.data for p in answer.candidates[0].content.parts if p.inline_data)
    assert first != second
    assert answer.usage_metadata.candidates_token_count == 2 * 1290
