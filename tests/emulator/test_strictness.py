"""Where Google answers 400, the emulator does too: modalities, empty turns, unreadable images, unknown fields.

And everything the studio and the SDK legitimately send is still taken.
"""

from __future__ import annotations

import base64
import io

import pytest
from google.genai import errors, types
from PIL import Image

from .conftest import LITE, PRO, body, image_config, png, post


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, fmt)
    return out.getvalue()


def _400(answer) -> str:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    return error["message"]


def test_text_only_modality_on_an_image_model_is_400(sdk) -> None:
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model=PRO, contents="words only",
                                    config=types.GenerateContentConfig(response_modalities=["TEXT"]))
    assert caught.value.code == 400 and "response modalities: text" in caught.value.message
    image_only = sdk.models.generate_content(model=PRO, contents="picture only",
                                             config=types.GenerateContentConfig(response_modalities=["IMAGE"]))
    assert image_only.candidates[0].content.parts


def test_modality_names_are_enum_names_in_any_case(emulator) -> None:
    assert "Invalid value at 'generation_config.response_modalities[0]'" in _400(
        post(emulator, body("x", responseModalities=["PICTURE"])))
    assert post(emulator, body("x", responseModalities=["Text", "Image"])).status_code == 200  # the cookbook's spelling
    assert "response modalities: audio" in _400(post(emulator, body("x", responseModalities=["AUDIO", "IMAGE"])))


def test_empty_prompt_and_empty_turns_are_400(sdk, emulator) -> None:
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model=PRO, contents="", config=image_config("1:1", "1K"))
    assert "required oneof field 'data'" in caught.value.message
    assert "contents.parts must not be empty" in _400(post(emulator, {"contents": [{"role": "user", "parts": []}]}))
    assert "contents.parts must not be empty" in _400(post(emulator, {"contents": [{"role": "user"}]}))
    assert "parts[1].data" in _400(post(emulator, {"contents": [{"role": "user", "parts": [{"text": "a"}, {}]}]}))


def test_a_model_turn_may_hold_the_streams_empty_text(emulator) -> None:
    """The SDK's streaming chat sends back the trailing ``{"text": ""}`` chunk as a model turn."""
    contents = [{"role": "user", "parts": [{"text": "draw"}]}, {"role": "model", "parts": [{"text": ""}]},
                {"role": "user", "parts": [{"text": "again"}]}]
    assert post(emulator, {"contents": contents}).status_code == 200


@pytest.mark.parametrize(("data", "mime"), [
    (_image("GIF"), "image/gif"), (b"just text, not a picture", "image/png"), (_image("BMP"), "image/bmp")])
def test_unreadable_or_unsupported_images_are_400(sdk, data: bytes, mime: str) -> None:
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model=PRO, contents=["edit", types.Part.from_bytes(data=data, mime_type=mime)],
                                    config=image_config("1:1", "1K"))
    assert caught.value.code == 400 and caught.value.message.startswith("Unable to process input image")


def test_png_jpeg_webp_and_heic_images_are_taken(emulator) -> None:
    heic = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64  # Pillow cannot read HEIC; Google can
    for data, mime in ((png(), "image/png"), (_image("JPEG"), "image/jpeg"), (_image("WEBP"), "image/webp"),
                       (heic, "image/heic")):
        request = body("take it")
        request["contents"][0]["parts"].append({"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}})
        assert post(emulator, request).status_code == 200, mime


@pytest.mark.parametrize(("where", "field", "path"), [
    ((), "foo", ""), (("generationConfig",), "foo", "generation_config"),
    (("generationConfig", "imageConfig"), "imageOutputOptions", "generation_config.image_config"),
    (("generationConfig", "imageConfig"), "personGeneration", "generation_config.image_config"),
    (("generationConfig", "thinkingConfig"), "includeThought", "generation_config.thinking_config"),
])
def test_unknown_and_vertex_only_fields_are_400(emulator, where: tuple[str, ...], field: str, path: str) -> None:
    request = body("x", "1:1", "1K", thinkingConfig={"includeThoughts": True})
    target = request
    for key in where:
        target = target[key]
    target[field] = {"mimeType": "image/jpeg"} if field == "imageOutputOptions" else "x"
    at = f" at '{path}'" if path else ""
    assert _400(post(emulator, request)) == (f'Invalid JSON payload received. Unknown name "{field}"{at}: '
                                             "Cannot find field.")


def test_unknown_field_in_a_part_names_its_position(emulator) -> None:
    request = {"contents": [{"role": "user", "parts": [{"text": "a", "colour": "red"}]}]}
    assert "at 'contents[0].parts[0]'" in _400(post(emulator, request))


def test_everything_the_studio_sends_is_taken(sdk) -> None:
    """seed, temperature, systemInstruction, thinkingConfig, imageConfig: as the SDK spells them (some snake_case)."""
    config = image_config("16:9", "2K", seed=7, temperature=0.4, system_instruction="house style",
                          thinking_config=types.ThinkingConfig(include_thoughts=True),
                          safety_settings=[types.SafetySetting(category="HARM_CATEGORY_HARASSMENT",
                                                               threshold="BLOCK_ONLY_HIGH")])
    ref = types.Part.from_bytes(data=png(), mime_type="image/png")
    answer = sdk.models.generate_content(model=PRO, contents=["studio request", ref], config=config)
    assert any(p.inline_data and not p.thought for p in answer.candidates[0].content.parts)


def test_search_grounding_needs_a_model_that_searches(sdk) -> None:
    config = image_config("1:1", None, tools=[types.Tool(google_search=types.GoogleSearch())])
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model=LITE, contents="weather now", config=config)
    assert caught.value.code == 400 and "Search" in caught.value.message
