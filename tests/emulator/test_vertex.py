"""Vertex AI paths through the unmodified SDK (``vertexai=True``): bearer tokens only, Vertex's extra fields,
and PNG/JPEG chosen by the server with ``imageOutputOptions`` (compressionQuality honoured)."""

from __future__ import annotations

import io

import httpx
import pytest
from google import genai
from google.genai import errors, types
from google.oauth2.credentials import Credentials
from PIL import Image

from studio.emulator import vertex
from studio.emulator.server import EmulatorServer

from .conftest import FLASH, PRO, TOKEN, body, image_config, post

PROJECT, LOCATION = "studio-test-project", "us-central1"


def vertex_client(server: EmulatorServer, token: str = TOKEN, location: str = LOCATION) -> genai.Client:
    return genai.Client(vertexai=True, project=PROJECT, location=location, credentials=Credentials(token),
                        http_options=types.HttpOptions(base_url=server.base_url))


def vertex_url(server: EmulatorServer, model: str = PRO, method: str = "generateContent") -> str:
    return (f"{server.base_url}/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/"
            f"{model}:{method}")


def output_config(mime: str | None, quality: int | None = None, ratio: str = "1:1",
                  size: str = "1K") -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio=ratio, image_size=size, output_mime_type=mime,
                                       output_compression_quality=quality))


def final_image(response: types.GenerateContentResponse) -> tuple[bytes, str]:
    parts = [p for p in response.candidates[0].content.parts if p.inline_data and not p.thought]
    assert len(parts) == 1
    return parts[0].inline_data.data, parts[0].inline_data.mime_type


def jpeg_tables_for(data: bytes, quality: int) -> bool:
    """Whether the JPEG's quantization tables are libjpeg's for ``quality`` (what encoding at it gives)."""
    with Image.open(io.BytesIO(data)) as img:
        tables = img.quantization
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=quality)
    with Image.open(out) as again:
        return again.quantization == tables


def test_the_sdk_reaches_the_vertex_path_with_its_bearer_token(fresh_emulator) -> None:
    server = fresh_emulator()
    client = vertex_client(server)  # held: a client made inline can be collected mid-call
    response = client.models.generate_content(model=PRO, contents="a pear on Vertex",
                                                             config=image_config("16:9", "1K"))
    data, mime = final_image(response)
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (1376, 768)
    assert mime == "image/jpeg" and data.startswith(b"\xff\xd8")  # no output options: the model's own format
    assert response.create_time is not None and response.usage_metadata.traffic_type == types.TrafficType.ON_DEMAND
    requests = server.stats()["requests"]
    assert requests["vertex_generateContent"] == 1 and requests[f"vertex {PROJECT}/{LOCATION}"] == 1


@pytest.mark.parametrize(("size", "pixels"), [("1K", (1024, 1024)), ("4K", (4096, 4096))])
def test_jpeg_at_the_asked_quality_is_encoded_by_the_server(emulator, size: str, pixels: tuple[int, int]) -> None:
    client = vertex_client(emulator)
    low, low_mime = final_image(client.models.generate_content(
        model=PRO, contents=f"a jpeg pear {size}", config=output_config("image/jpeg", 40, size=size)))
    high, _ = final_image(client.models.generate_content(
        model=PRO, contents=f"a jpeg pear {size}", config=output_config("image/jpeg", 95, size=size)))
    assert low_mime == "image/jpeg" and low.startswith(b"\xff\xd8") and high.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(low)) as img:
        assert img.size == pixels
    assert jpeg_tables_for(low, 40) and jpeg_tables_for(high, 95) and not jpeg_tables_for(low, 95)
    assert len(low) < len(high)


def test_png_when_asked_even_where_the_model_answers_jpeg(emulator) -> None:
    client = vertex_client(emulator)
    data, mime = final_image(client.models.generate_content(
        model=PRO, contents="a png pear", config=output_config("image/png")))
    assert mime == "image/png" and data.startswith(b"\x89PNG")


def test_jpeg_without_a_quality_gets_vertex_default(legacy_emulator) -> None:
    client = vertex_client(legacy_emulator)  # Nano Banana answers PNG unless asked: on the 2025 lineup
    data, _ = final_image(client.models.generate_content(
        model=FLASH, contents="a default-quality pear", config=output_config("image/jpeg", ratio="1:1", size="1K")))
    assert jpeg_tables_for(data, vertex.DEFAULT_JPEG_QUALITY)


def test_streaming_on_vertex_honours_the_output_options(emulator) -> None:
    client = vertex_client(emulator)
    chunks = list(client.models.generate_content_stream(
        model=PRO, contents="a streamed pear", config=output_config("image/png", ratio="9:16")))
    images = [p.inline_data for c in chunks for p in c.candidates[0].content.parts if p.inline_data]
    assert len(images) == 1 and images[0].mime_type == "image/png" and images[0].data.startswith(b"\x89PNG")
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_vertex_only_fields_are_taken_on_vertex_and_still_refused_on_the_gemini_api(emulator) -> None:
    payload = body("a labelled pear", "1:1", "1K")
    payload["labels"] = {"team": "studio"}
    payload["generationConfig"]["imageConfig"].update(
        {"personGeneration": "ALLOW_ADULT", "imageOutputOptions": {"mimeType": "image/png"}})
    answer = httpx.post(vertex_url(emulator), json=payload, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["candidates"][0]["content"]["parts"][-1]["inlineData"]["mimeType"] == "image/png"
    refused = post(emulator, payload)
    assert refused.status_code == 400 and 'Unknown name "personGeneration"' in refused.json()["error"]["message"]


def test_an_unknown_output_option_is_an_unknown_field(emulator) -> None:
    payload = body("a pear", "1:1", "1K")
    payload["generationConfig"]["imageConfig"]["imageOutputOptions"] = {"mimeType": "image/png", "colour": "red"}
    answer = httpx.post(vertex_url(emulator), json=payload, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert answer.status_code == 400
    assert 'Unknown name "colour"' in answer.json()["error"]["message"]


@pytest.mark.parametrize(("mime", "quality", "words"), [
    ("image/gif", None, "Unsupported image output mime type"), ("image/jpeg", 101, "between 0 and 100")])
def test_output_options_vertex_cannot_honour_are_400(emulator, mime: str, quality: int | None, words: str) -> None:
    client = vertex_client(emulator)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=PRO, contents="a pear", config=output_config(mime, quality))
    assert caught.value.code == 400 and words in caught.value.message


def test_an_api_key_on_vertex_is_refused_as_google_does(emulator) -> None:
    answer = httpx.post(vertex_url(emulator), json=body("a pear"), headers={"x-goog-api-key": "test-key"}, timeout=30)
    error = answer.json()["error"]
    assert (answer.status_code, error["status"]) == (401, "UNAUTHENTICATED")
    assert error["message"].startswith("API keys are not supported by this API. Expected OAuth2 access token")
    assert error["details"][0]["reason"] == "CREDENTIALS_MISSING"
    assert error["details"][0]["metadata"] == {
        "service": "aiplatform.googleapis.com",
        "method": "google.cloud.aiplatform.v1beta1.PredictionService.GenerateContent"}


def test_no_credentials_and_a_bad_token_are_401_on_vertex(emulator) -> None:
    missing = httpx.post(vertex_url(emulator), json=body("a pear"), timeout=30)
    assert missing.status_code == 401 and "missing required authentication credential" in missing.json()["error"]["message"]
    client = vertex_client(emulator, token="not-a-token")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=PRO, contents="a pear")
    assert caught.value.code == 401 and caught.value.status == "UNAUTHENTICATED"
    assert caught.value.details["error"]["details"][0]["metadata"]["service"] == "aiplatform.googleapis.com"


def test_vertex_needs_the_cloud_platform_scope(fresh_emulator) -> None:
    server = fresh_emulator()
    httpx.post(f"{server.base_url}/_emulator/tokens", timeout=10, json={"scopes": {
        "gl-only": ["https://www.googleapis.com/auth/generative-language"],
        "cp": ["https://www.googleapis.com/auth/cloud-platform"]}})
    narrow, wide = vertex_client(server, token="gl-only"), vertex_client(server, token="cp")
    with pytest.raises(errors.ClientError) as caught:
        narrow.models.generate_content(model=PRO, contents="a pear")
    assert caught.value.code == 403 and "insufficient authentication scopes" in caught.value.message
    assert final_image(wide.models.generate_content(model=PRO, contents="a pear"))


def test_tokens_vouched_for_by_userinfo_work_on_vertex(fresh_emulator) -> None:
    """The same check as the Gemini paths' bearer tokens: here a userinfo endpoint (a second emulator's
    /healthz stands in: it answers 200 to any bearer) vouches for a token the emulator never heard of."""
    vouching = fresh_emulator()
    server = fresh_emulator(userinfo_url=f"{vouching.base_url}/healthz", userinfo_cache_s=0)
    client = vertex_client(server, token="ya29.vouched")
    assert final_image(client.models.generate_content(model=PRO, contents="x"))
    assert server.stats()["userinfo_calls"] == 1


def test_an_unknown_model_is_vertex_s_publisher_model_404(emulator) -> None:
    client = vertex_client(emulator)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-0-nope", contents="a pear")
    assert caught.value.code == 404
    assert caught.value.message.startswith(f"Publisher Model `projects/{PROJECT}/locations/{LOCATION}/publishers/"
                                           "google/models/gemini-0-nope` was not found")


def test_other_vertex_methods_are_404_in_google_s_shape(emulator) -> None:
    answer = httpx.post(vertex_url(emulator, method="predict"), json={}, timeout=30,
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 404 and answer.json()["error"]["status"] == "NOT_FOUND"


def test_the_publisher_model_list_is_served_behind_vertex_s_credentials(emulator) -> None:
    client = vertex_client(emulator)
    names = [m.name for m in client.models.list()]
    assert f"publishers/google/models/{PRO}" in names
    refused = httpx.get(f"{emulator.base_url}/v1beta1/publishers/google/models", headers={"x-goog-api-key": "test-key"},
                        timeout=30)
    assert refused.status_code == 401 and refused.json()["error"]["details"][0]["metadata"]["method"] == vertex.LIST_RPC


def test_the_command_line_help_names_the_vertex_paths(capsys: pytest.CaptureFixture[str]) -> None:
    from studio.emulator.__main__ import _parse

    with pytest.raises(SystemExit):
        _parse(["--help"])
    shown = capsys.readouterr().out
    assert "Vertex AI" in shown and "/v1beta1/projects/{project}/locations/{location}/publishers/google/models" in shown


def test_quota_on_vertex_is_vertex_s_bare_resource_exhausted(fresh_emulator) -> None:
    server = fresh_emulator()
    server.queue_fault("quota")
    client = vertex_client(server)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=PRO, contents="a pear")
    assert (caught.value.code, caught.value.status, caught.value.message) == (429, "RESOURCE_EXHAUSTED",
                                                                              vertex.QUOTA_MESSAGE)
    assert "details" not in caught.value.details["error"]  # no RetryInfo on Vertex
