"""Helpers for the emulator tests: SDK clients, raw HTTP, small test images."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator

import httpx
import pytest
from google import genai
from google.genai import types
from PIL import Image

from studio.emulator.server import EmulatorConfig, EmulatorServer

NB21 = "gemini-nano-banana-2.1"
PRO = "gemini-3-pro-image"
LITE = "gemini-3.1-flash-lite-image"
FLASH2 = "gemini-3.1-flash-image"  # retired: answered only by the legacy (lineup "2025") emulator
FLASH = "gemini-2.5-flash-image"  # retired: likewise
KEY = "test-key"
try:  # google-genai 3.x talks through httpx2 when it is installed, httpx otherwise
    import httpx2

    NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
    TIMEOUTS: tuple[type[Exception], ...] = (httpx.TimeoutException, httpx2.TimeoutException)
except ImportError:  # pragma: no cover
    NETWORK_ERRORS, TIMEOUTS = (httpx.HTTPError,), (httpx.TimeoutException,)
TOKEN = "test-token"


def png(width: int = 64, height: int = 64, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def image_config(ratio: str | None = None, size: str | None = None, **extra: object) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                       image_config=types.ImageConfig(aspect_ratio=ratio, image_size=size), **extra)


def sdk_client(server: EmulatorServer, api_key: str = KEY, **http: object) -> genai.Client:
    return genai.Client(api_key=api_key,
                        http_options=types.HttpOptions(base_url=server.base_url, api_version="v1beta", **http))


def body(prompt: str, ratio: str | None = None, size: str | None = None, images: list[bytes] = (),
         **generation: object) -> dict:
    """A generateContent body in Google's documented camelCase form."""
    parts: list[dict] = [{"text": prompt}]
    parts += [{"inlineData": {"mimeType": "image/png", "data": base64.b64encode(i).decode()}} for i in images]
    image_cfg = {k: v for k, v in (("aspectRatio", ratio), ("imageSize", size)) if v}
    return {"contents": [{"role": "user", "parts": parts}],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": image_cfg, **generation}}


def post(server: EmulatorServer, payload: dict, model: str = PRO, headers: dict | None = None,
         stream: bool = False, version: str = "v1beta", params: dict | None = None) -> httpx.Response:
    method = "streamGenerateContent" if stream else "generateContent"
    headers = {"x-goog-api-key": KEY} if headers is None else headers
    params = {"alt": "sse", **(params or {})} if stream else params
    return httpx.post(f"{server.base_url}/{version}/models/{model}:{method}", json=payload, headers=headers,
                      params=params, timeout=30)


def image_parts(answer: dict) -> list[dict]:
    parts = answer["candidates"][0]["content"].get("parts") or []
    return [p for p in parts if "inlineData" in p]


def decode(part: dict) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(part["inlineData"]["data"])))


@pytest.fixture
def sdk(emulator: EmulatorServer) -> genai.Client:
    return sdk_client(emulator)


@pytest.fixture(scope="session")
def legacy_emulator() -> Iterator[EmulatorServer]:
    """An emulator playing the 2025 lineup (Pro, Nano Banana 2, Nano Banana): the retired models still answer."""
    server = EmulatorServer(EmulatorConfig(api_keys=frozenset({KEY}), bearer_tokens=frozenset({TOKEN}),
                                           lineup="2025")).start()
    yield server
    server.stop()


@pytest.fixture
def legacy(legacy_emulator: EmulatorServer) -> genai.Client:
    return sdk_client(legacy_emulator)


@pytest.fixture
def quiet_emulator(fresh_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    """A fresh emulator of its own, for tests that queue faults or change config."""
    return fresh_emulator()
