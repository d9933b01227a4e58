"""The SSE stream on the wire: ``data: {json}`` events separated by CRLF blank lines."""

from __future__ import annotations

import json

import httpx
from google.genai import types

from .conftest import KEY, PRO, body, image_config


def _events(raw: bytes) -> list[dict]:
    assert raw.endswith(b"\r\n\r\n")
    blocks = [b for b in raw.split(b"\r\n\r\n") if b]
    assert all(b.startswith(b"data: ") for b in blocks)
    return [json.loads(b[len(b"data: "):]) for b in blocks]


def test_stream_events_text_first_image_later_usage_last(emulator) -> None:
    payload = body("a stream", "1:1", "1K", thinkingConfig={"includeThoughts": True})
    url = f"{emulator.base_url}/v1beta/models/{PRO}:streamGenerateContent"
    with httpx.stream("POST", url, params={"alt": "sse"}, json=payload, headers={"x-goog-api-key": KEY}) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        events = _events(answer.read())
    assert len(events) == 5  # thought text, two drafts, caption, image
    kinds = [("text" if "text" in p else "image", bool(p.get("thought")))
             for e in events for p in e["candidates"][0]["content"]["parts"]]
    assert kinds == [("text", True), ("image", True), ("image", True), ("text", False), ("image", False)]
    assert all("usageMetadata" not in e for e in events[:-1]) and "usageMetadata" in events[-1]
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert len({e["responseId"] for e in events}) == 1


def test_async_sdk_stream(sdk) -> None:
    import asyncio

    async def collect() -> list[types.GenerateContentResponse]:
        stream = await sdk.aio.models.generate_content_stream(model=PRO, contents="async stream",
                                                              config=image_config("9:16", "1K"))
        return [chunk async for chunk in stream]

    chunks = asyncio.run(collect())
    assert len(chunks) == 2 and chunks[-1].candidates[0].content.parts[0].inline_data.data
