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


def test_stream_events_as_captured_live(emulator) -> None:
    """Thinking and drafts, the image in a chunk of its own without finishReason, then an empty
    text carrying STOP; usage on every chunk."""
    payload = body("a stream [[fault:no_caption]]", "1:1", "1K", thinkingConfig={"includeThoughts": True})
    url = f"{emulator.base_url}/v1beta/models/{PRO}:streamGenerateContent"
    with httpx.stream("POST", url, params={"alt": "sse"}, json=payload, headers={"x-goog-api-key": KEY}) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        events = _events(answer.read())
    kinds = [("text" if "text" in p else "image", bool(p.get("thought")))
             for e in events for p in e["candidates"][0]["content"]["parts"]]
    assert kinds[:4] == [("text", True), ("image", True), ("text", True), ("image", True)]
    assert kinds[-2:] == [("image", False), ("text", False)]
    assert events[-1]["candidates"][0]["content"]["parts"] == [{"text": ""}]
    assert [e["candidates"][0].get("finishReason") for e in events] == [None] * (len(events) - 1) + ["STOP"]
    assert all(e["usageMetadata"]["promptTokenCount"] > 0 for e in events)
    assert len({e["responseId"] for e in events}) == 1


def test_async_sdk_stream(sdk) -> None:
    import asyncio

    async def collect() -> list[types.GenerateContentResponse]:
        stream = await sdk.aio.models.generate_content_stream(model=PRO, contents="async stream",
                                                              config=image_config("9:16", "1K"))
        return [chunk async for chunk in stream]

    chunks = asyncio.run(collect())
    images = [p.inline_data.data for c in chunks for p in c.candidates[0].content.parts if p.inline_data]
    assert len(images) == 1 and chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
