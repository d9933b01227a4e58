"""The Files API through the SDK and on the wire: resumable upload, get, list, delete, fileData parts."""

from __future__ import annotations

import io

import httpx
import pytest
from google.genai import errors, types
from PIL import Image

from .conftest import KEY, PRO, image_config, png


def _upload(sdk, data: bytes, mime: str = "image/png") -> types.File:
    return sdk.files.upload(file=io.BytesIO(data), config={"mime_type": mime, "display_name": "ref"})


def test_upload_get_list_delete(quiet_emulator) -> None:
    from .conftest import sdk_client

    sdk = sdk_client(quiet_emulator)
    uploaded = _upload(sdk, png(30, 20))
    assert uploaded.state == types.FileState.ACTIVE and uploaded.size_bytes == len(png(30, 20))
    assert uploaded.name.startswith("files/") and uploaded.uri.endswith(uploaded.name) and uploaded.sha256_hash
    assert sdk.files.get(name=uploaded.name).display_name == "ref"
    assert [f.name for f in sdk.files.list()] == [uploaded.name]
    sdk.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as caught:
        sdk.files.get(name=uploaded.name)
    assert caught.value.code == 403 and "may not exist" in caught.value.message
    assert list(sdk.files.list()) == []


def test_an_uploaded_image_is_a_reference(sdk) -> None:
    wide = _upload(sdk, png(300, 100, (0, 255, 0)))
    answer = sdk.models.generate_content(model=PRO, contents=["use the upload", wide], config=image_config(None, "1K"))
    part = next(p for p in answer.parts if p.inline_data and not p.thought)
    with Image.open(io.BytesIO(part.inline_data.data)) as img:
        assert img.size == (1584, 672), "no ratio given: the uploaded image's nearest ratio (21:9)"
    assert answer.usage_metadata.prompt_token_count > 258


def test_unknown_or_unreadable_uploads_are_refused(sdk) -> None:
    missing = types.Part.from_uri(file_uri="https://generativelanguage.googleapis.com/v1beta/files/nothere",
                                  mime_type="image/png")
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model=PRO, contents=["x", missing], config=image_config("1:1"))
    assert caught.value.code == 403
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    gif = _upload(sdk, out.getvalue(), "image/gif")
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_content(model=PRO, contents=["x", gif], config=image_config("1:1"))
    assert caught.value.message.startswith("Unable to process input image")


def test_resumable_protocol_in_chunks_on_the_wire(emulator) -> None:
    data = png(64, 64)
    start = httpx.post(f"{emulator.base_url}/upload/v1beta/files", json={"file": {"mimeType": "image/png"}},
                       headers={"x-goog-api-key": KEY, "X-Goog-Upload-Protocol": "resumable",
                                "X-Goog-Upload-Command": "start"})
    assert start.status_code == 200 and start.headers["x-goog-upload-status"] == "active"
    url = start.headers["x-goog-upload-url"]
    first = httpx.post(url, content=data[:50], headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"})
    assert first.headers["x-goog-upload-status"] == "active"
    wrong = httpx.post(url, content=data[50:], headers={"X-Goog-Upload-Command": "upload, finalize",
                                                        "X-Goog-Upload-Offset": "7"})
    assert wrong.status_code == 400
    last = httpx.post(url, content=data[50:], headers={"X-Goog-Upload-Command": "upload, finalize",
                                                       "X-Goog-Upload-Offset": "50"})
    assert last.headers["x-goog-upload-status"] == "final"
    assert last.json()["file"]["sizeBytes"] == str(len(data)) and last.json()["file"]["state"] == "ACTIVE"
    no_start = httpx.post(f"{emulator.base_url}/upload/v1beta/files", json={}, headers={"x-goog-api-key": KEY})
    assert no_start.status_code == 400
    assert httpx.post(f"{emulator.base_url}/upload/v1beta/files", json={}, headers={
        "X-Goog-Upload-Command": "start"}).status_code == 403
