"""The unmodified google-genai SDK against the emulator: exact pixels, streaming, models, determinism."""

from __future__ import annotations

import asyncio
import io

import pytest
from google.genai import types
from PIL import Image

from studio.catalogue import DEFAULT_CATALOGUE

from .conftest import FLASH, FLASH2, LITE, NB21, PRO, image_config, png, sdk_client


def _final_image(response: types.GenerateContentResponse) -> tuple[bytes, str]:
    parts = [p for p in response.candidates[0].content.parts if p.inline_data and not p.thought]
    assert len(parts) == 1
    return parts[0].inline_data.data, parts[0].inline_data.mime_type


@pytest.mark.parametrize(("model", "ratio", "size", "pixels", "mime"), [
    (PRO, "21:9", "4K", (6336, 2688), "image/jpeg"), (PRO, "9:16", "1K", (768, 1376), "image/jpeg"),
    (NB21, "21:9", "2K", (3168, 1344), "image/jpeg"), (LITE, "1:8", "1K", (368, 2944), "image/jpeg"),
    (FLASH2, "1:8", "512", (176, 1472), "image/jpeg"), (FLASH, "16:9", None, (1344, 768), "image/png")])
def test_generate_content_gives_official_pixels_in_the_models_format(sdk, legacy, model: str, ratio: str,
                                                                     size: str | None, pixels: tuple[int, int],
                                                                     mime: str) -> None:
    client = legacy if model in (FLASH2, FLASH) else sdk
    response = client.models.generate_content(model=model, contents=f"a lighthouse at {ratio} {size}",
                                           config=image_config(ratio, size))
    data, declared = _final_image(response)
    assert declared == mime and data.startswith(b"\xff\xd8" if mime == "image/jpeg" else b"\x89PNG")
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == pixels and img.mode == "RGB"
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.model_version == model and response.response_id


@pytest.mark.parametrize(("ratio", "size", "pixels"), [("21:9", "4K", (6336, 2688)), ("9:16", "1K", (768, 1376))])
def test_generate_content_stream_gives_official_pixels(sdk, ratio: str, size: str, pixels: tuple[int, int]) -> None:
    chunks = list(sdk.models.generate_content_stream(model=PRO, contents=f"a harbour at {ratio} {size}",
                                                     config=image_config(ratio, size)))
    holder = [c for c in chunks if any(p.inline_data for p in c.candidates[0].content.parts)]
    assert len(holder) == 1 and holder[0].candidates[0].finish_reason is None, "the image chunk does not finish"
    with Image.open(io.BytesIO(holder[0].candidates[0].content.parts[0].inline_data.data)) as img:
        assert img.size == pixels
    last = chunks[-1].candidates[0]
    assert last.finish_reason == types.FinishReason.STOP and [p.text for p in last.content.parts] == [""]
    tokens = DEFAULT_CATALOGUE.resolve(PRO).output_tokens(size)
    assert all(c.usage_metadata.candidates_token_count == tokens for c in chunks)  # usage rides on every chunk


def test_every_ratio_and_size_of_every_model_has_catalogue_pixels(emulator, legacy_emulator) -> None:
    """Cheap at 512 px work size: all 10/14 ratios at 1K, plus one at each other size."""
    for model_id in (NB21, PRO, LITE, FLASH2, FLASH):
        client = sdk_client(legacy_emulator if model_id in (FLASH2, FLASH) else emulator)
        spec = DEFAULT_CATALOGUE.resolve(model_id)
        for ratio in spec.ratios:
            for size in ("1K",) if ratio != "1:1" else spec.sizes:
                response = client.models.generate_content(model=model_id, contents="grid", config=image_config(ratio, size))
                with Image.open(io.BytesIO(_final_image(response)[0])) as img:
                    assert img.size == spec.pixel_size(ratio, size), (model_id, ratio, size)


def test_nano_banana_ignores_size(legacy) -> None:
    response = legacy.models.generate_content(model=FLASH, contents="tiny", config=image_config("16:9", "4K"))
    with Image.open(io.BytesIO(_final_image(response)[0])) as img:
        assert img.size == (1344, 768)
    assert response.usage_metadata.candidates_token_count == 1290


def test_without_ratio_the_first_input_image_is_followed(sdk) -> None:
    wide = types.Part.from_bytes(data=png(320, 180), mime_type="image/png")
    tall = types.Part.from_bytes(data=png(90, 160), mime_type="image/png")
    response = sdk.models.generate_content(model=PRO, contents=["edit this", wide, tall], config=image_config())
    with Image.open(io.BytesIO(_final_image(response)[0])) as img:
        assert img.size == (1376, 768)  # 16:9 at 1K
    response = sdk.models.generate_content(model=PRO, contents="no input", config=image_config())
    with Image.open(io.BytesIO(_final_image(response)[0])) as img:
        assert img.size == (1024, 1024)


def test_same_request_same_bytes_and_prompt_changes_the_picture(sdk) -> None:
    config = image_config("1:1", "1K", seed=7)
    first = _final_image(sdk.models.generate_content(model=PRO, contents="a red fox", config=config))[0]
    again = _final_image(sdk.models.generate_content(model=PRO, contents="a red fox", config=config))[0]
    other = _final_image(sdk.models.generate_content(model=PRO, contents="a blue whale", config=config))[0]
    reseeded = _final_image(sdk.models.generate_content(model=PRO, contents="a red fox",
                                                        config=image_config("1:1", "1K", seed=8)))[0]
    assert first == again
    assert len({first, other, reseeded}) == 3


def test_reference_images_are_composited_in(sdk) -> None:
    config = image_config("1:1", "1K", seed=1)
    plain = _final_image(sdk.models.generate_content(model=PRO, contents="with refs", config=config))[0]
    green = types.Part.from_bytes(data=png(64, 64, (0, 255, 0)), mime_type="image/png")
    with_ref = _final_image(sdk.models.generate_content(model=PRO, contents=["with refs", green], config=config))[0]
    assert plain != with_ref
    with Image.open(io.BytesIO(with_ref)) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    green_pixels = sum(n for n, (r, g, b) in colours if g > 230 and r < 30 and b < 30)  # JPEG: nearly pure green
    assert green_pixels > 1000  # the green thumbnail is visible


def test_async_client_runs_requests_in_parallel(fresh_emulator) -> None:
    server = fresh_emulator(latency_s=0.5)
    client = sdk_client(server)

    async def batch() -> list[types.GenerateContentResponse]:
        return await asyncio.gather(*(client.aio.models.generate_content(
            model=LITE, contents=f"parallel {i}", config=image_config("1:1", "1K")) for i in range(8)))

    import time
    started = time.perf_counter()
    responses = asyncio.run(batch())
    assert time.perf_counter() - started < 3.5  # 8 x 0.5 s would be 4 s in series
    assert all(_final_image(r)[0] for r in responses)


def test_list_and_get_models(sdk) -> None:
    listed = {m.name for m in sdk.models.list()}
    assert {f"models/{m.model_id}" for m in DEFAULT_CATALOGUE.offered()} <= listed
    assert not {f"models/{m.model_id}" for m in DEFAULT_CATALOGUE if not m.offered} & listed, "retired: not listed"
    model = sdk.models.get(model=PRO)
    assert model.name == f"models/{PRO}" and model.display_name == "Nano Banana Pro"


def test_extra_model_ids_are_accepted(fresh_emulator) -> None:
    server = fresh_emulator(extra_models=("gemini-3-pro-image-002",))
    client = sdk_client(server)
    response = client.models.generate_content(model="gemini-3-pro-image-002", contents="renamed",
                                              config=image_config("4:3", "1K"))
    with Image.open(io.BytesIO(_final_image(response)[0])) as img:
        assert img.size == (1200, 896)
    assert "models/gemini-3-pro-image-002" in {m.name for m in client.models.list()}


def test_default_sdk_api_version_v1_and_env_base_url(emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    from google import genai

    client = genai.Client(api_key="test-key")  # SDK defaults: /v1/, base URL from the env var
    response = client.models.generate_content(model=PRO, contents="env var", config=image_config("3:2", "1K"))
    with Image.open(io.BytesIO(_final_image(response)[0])) as img:
        assert img.size == (1264, 848)


def test_response_modalities_image_only_has_no_caption(sdk) -> None:
    config = types.GenerateContentConfig(response_modalities=["IMAGE"],
                                         image_config=types.ImageConfig(aspect_ratio="1:1"))
    parts = sdk.models.generate_content(model=PRO, contents="image only", config=config).candidates[0].content.parts
    assert len(parts) == 1 and parts[0].inline_data
