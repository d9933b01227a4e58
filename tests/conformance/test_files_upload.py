"""Uploading a reference once with ``client.files.upload`` and using it in prompts and chats, as CLIs do."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from .conftest import PRO, image_config, opened


def test_upload_a_path_then_edit_with_it(client, tmp_path: Path) -> None:
    path = tmp_path / "product.png"
    Image.new("RGB", (400, 300), (250, 120, 0)).save(path)
    uploaded = client.files.upload(file=path)
    assert uploaded.mime_type == "image/png" and uploaded.state.value == "ACTIVE"
    response = client.models.generate_content(model=PRO, contents=[uploaded, "Place this on a marble table"],
                                              config=image_config(None, "1K"))
    image = next(p.inline_data.data for p in response.parts if p.inline_data and not p.thought)
    assert opened(image).size == (1200, 896), "the upload's nearest ratio, 4:3"
    assert any(f.name == uploaded.name for f in client.files.list())


def test_an_uploaded_reference_in_a_chat(client, tmp_path: Path) -> None:
    path = tmp_path / "style.jpg"
    Image.new("RGB", (256, 256), (20, 40, 200)).save(path, "JPEG")
    style = client.files.upload(file=path)
    chat = client.chats.create(model=PRO, config=image_config("1:1", "1K"))
    chat.send_message([style, "Paint a harbour in this colour"])
    again = chat.send_message("Add a lighthouse")
    assert any(p.inline_data for p in again.parts)
    client.files.delete(name=style.name)
