"""The studio's Vertex AI mode end to end through the real SDK: the emulator's Vertex path encodes PNG/JPEG,
and the studio keeps the server's pixels (it only adds the recipe's metadata segments, it never re-encodes)."""

from __future__ import annotations

import io
import struct

import pytest
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials
from PIL import Image

from studio import images
from studio.catalogue import PRO
from studio.credentials import Connection, make_client
from studio.emulator.server import EmulatorServer
from studio.engine import Engine
from studio.request import GenerationRequest
from tests.conftest import TEST_TOKEN

PROJECT, LOCATION = "studio-vertex-proj", "global"


def vertex_engine(server: EmulatorServer) -> Engine:
    """The engine exactly as the job runner builds it for a Vertex connection."""
    connection = Connection(mode="vertex", access_token=TEST_TOKEN, project=PROJECT, location=LOCATION,
                            base_url=server.base_url)
    return Engine(make_client(connection), secrets=connection.secrets(), vertex=True, retry_base_s=0.05)


def server_image(server: EmulatorServer, request: GenerationRequest, token: str = TEST_TOKEN) -> bytes:
    """What the emulator sends for this request on Vertex, asked directly (its images are deterministic)."""
    client = genai.Client(vertexai=True, project=PROJECT, location=LOCATION, credentials=Credentials(token),
                          http_options=types.HttpOptions(base_url=server.base_url))
    fmt = request.output_format
    response = client.models.generate_content(
        model=request.model_id, contents=request.prompt,
        config=types.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"], seed=request.seed_for(0),
            image_config=types.ImageConfig(aspect_ratio=request.aspect_ratio, image_size=request.image_size,
                                           output_mime_type=f"image/{fmt.lower()}",
                                           output_compression_quality=request.jpeg_quality if fmt == "JPEG" else None)))
    parts = [p for p in response.candidates[0].content.parts if p.inline_data and not p.thought]
    return parts[0].inline_data.data


def jpeg_without_app_segments(data: bytes) -> bytes:
    """The JPEG minus its APPn (metadata) segments: quantization and Huffman tables, frame, scan data."""
    assert data[:2] == b"\xff\xd8"
    out, pos = bytearray(data[:2]), 2
    while data[pos] == 0xFF and data[pos + 1] != 0xDA:  # up to the start of scan
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if not 0xE0 <= data[pos + 1] <= 0xEF:
            out += data[pos:pos + 2 + length]
        pos += 2 + length
    return bytes(out + data[pos:])


def png_without_text_chunks(data: bytes) -> bytes:
    """The PNG minus its text chunks: header, pixel data (IDAT) and end, as the encoder wrote them."""
    out, pos = bytearray(data[:8]), 8
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        if kind not in (b"iTXt", b"tEXt", b"zTXt"):
            out += data[pos:pos + 12 + length]
        pos += 12 + length
    return bytes(out)


def quality_of(data: bytes, quality: int) -> bool:
    """The JPEG's quantization tables are libjpeg's for ``quality``."""
    with Image.open(io.BytesIO(data)) as img:
        tables, again = img.quantization, io.BytesIO()
        img.convert("RGB").save(again, "JPEG", quality=quality)
    with Image.open(again) as other:
        return other.quantization == tables


@pytest.mark.parametrize(("fmt", "size", "pixels", "quality"), [
    ("JPEG", "1K", (1376, 768), 70), ("JPEG", "4K", (5504, 3072), 88), ("PNG", "1K", (1376, 768), 90)])
def test_vertex_images_are_the_server_s_encoding_with_the_recipe_added(
        fresh_emulator, fmt: str, size: str, pixels: tuple[int, int], quality: int) -> None:
    server = fresh_emulator()
    engine = vertex_engine(server)
    request = GenerationRequest(prompt=f"a lighthouse in fog, {fmt} {size}", model_id=PRO.model_id,
                                aspect_ratio="16:9", image_size=size, output_format=fmt, jpeg_quality=quality,
                                seed=41)
    try:
        [result] = engine.run(request)
    finally:
        engine.close()
    assert result.failure is None, result.failure
    assert result.request_json["generationConfig"]["imageConfig"]["imageOutputOptions"]["mimeType"] == \
        f"image/{fmt.lower()}"  # the studio asked Vertex for the format
    image = result.image
    assert image is not None and (image.width, image.height) == pixels
    assert image.mime_type == f"image/{fmt.lower()}" and image.declared_mime_type == f"image/{fmt.lower()}"
    assert images.read_recipe(image.data)["prompt"] == request.prompt  # the recipe is inside the file
    sent = server_image(server, request)
    if fmt == "JPEG":
        # byte for byte the server's tables and entropy-coded scan: a decode and re-encode would change them
        assert jpeg_without_app_segments(image.data) == jpeg_without_app_segments(sent)
        assert quality_of(image.data, quality) and not quality_of(image.data, images_default_quality(quality))
    else:
        assert png_without_text_chunks(image.data) == png_without_text_chunks(sent)
    requests = server.stats()["requests"]
    assert requests["vertex_generateContent"] == 2 and requests[f"vertex {PROJECT}/{LOCATION}"] == 2


def images_default_quality(quality: int) -> int:
    """A quality other than the asked one, to show the tables tell qualities apart."""
    return 95 if quality != 95 else 50


def test_the_same_request_on_the_gemini_api_is_re_encoded_by_the_studio(fresh_emulator) -> None:
    """The counter-case: the Gemini API takes no format choice, so a PNG asked of Pro (which answers JPEG)
    is re-encoded by the studio; on Vertex the same request arrives as PNG from the server."""
    server = fresh_emulator()
    connection = Connection(mode="api_key", api_key="test-key", base_url=server.base_url)
    engine = Engine(make_client(connection), secrets=connection.secrets(), vertex=False)
    request = GenerationRequest(prompt="a kite", model_id=PRO.model_id, aspect_ratio="1:1", image_size="1K",
                                output_format="PNG", seed=3)
    try:
        [result] = engine.run(request)
    finally:
        engine.close()
    assert result.image is not None and result.image.mime_type == "image/png"
    assert result.image.declared_mime_type == "image/jpeg"  # the server sent JPEG; the studio made the PNG
    assert "imageOutputOptions" not in result.request_json["generationConfig"]["imageConfig"]


def test_vertex_quota_without_retry_info_is_retried_with_backoff(fresh_emulator) -> None:
    server = fresh_emulator()
    server.queue_fault("quota")
    engine = vertex_engine(server)
    try:
        [result] = engine.run(GenerationRequest(prompt="a busy pear", model_id=PRO.model_id, output_format="JPEG"))
    finally:
        engine.close()
    assert result.failure is None and result.attempts == 2 and result.image is not None
    assert server.stats()["requests"]["error_429"] == 1
