"""Client programs written the way public Gemini image programs use the SDK, pointed at the emulator.

They configure the SDK through its own environment variables (``GOOGLE_GEMINI_BASE_URL``,
``GOOGLE_API_KEY``) and build ``genai.Client()`` with no arguments, as notebooks and CLIs do; the
SDK then speaks its default API version (v1). A change that makes the emulator cleaner or
stranger than Google in a way these programs notice fails here.
"""

from __future__ import annotations

import io

import pytest
from google import genai
from google.genai import types
from PIL import Image

from studio.emulator.server import EmulatorServer

KEY = "test-key"
NB21 = "gemini-nano-banana-2.1"
PRO = "gemini-3-pro-image"
LITE = "gemini-3.1-flash-lite-image"
FLASH2 = "gemini-3.1-flash-image"  # retired: only the 2025-lineup emulator (legacy_client) answers it
FLASH = "gemini-2.5-flash-image"  # retired: likewise


@pytest.fixture
def client(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> genai.Client:
    """``genai.Client()`` configured only by environment, as peer programs do."""
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    return genai.Client()


@pytest.fixture
def legacy_client(fresh_emulator, monkeypatch: pytest.MonkeyPatch) -> genai.Client:
    """Like ``client``, against an emulator playing the 2025 lineup (Nano Banana 2 and Nano Banana answer)."""
    server = fresh_emulator(lineup="2025")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    return genai.Client()


def image_config(ratio: str = "1:1", size: str | None = "1K", **extra: object) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                       image_config=types.ImageConfig(aspect_ratio=ratio, image_size=size), **extra)


def opened(data: bytes) -> Image.Image:
    """Decode by content, never by the declared mime type (it can be wrong)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
