"""Streaming that takes the image from whichever chunk holds it, text from all, and the finish from the end."""

from __future__ import annotations

import asyncio

from google.genai import types

from .conftest import NB21, PRO, image_config, opened


def collect(chunks) -> tuple[list[bytes], str, str | None]:
    """What a peer's stream loop keeps: final images, joined text, the last finish reason."""
    images, text, finish = [], [], None
    for chunk in chunks:
        candidate = chunk.candidates[0] if chunk.candidates else None
        if candidate is None:
            continue
        for part in (candidate.content.parts if candidate.content else None) or []:
            if part.thought:
                continue
            if part.inline_data:
                images.append(part.inline_data.data)
            elif part.text:
                text.append(part.text)
        finish = candidate.finish_reason.value if candidate.finish_reason else finish
    return images, " ".join(text), finish


def test_stream_image_and_finish_from_different_chunks(client) -> None:
    chunks = list(client.models.generate_content_stream(model=PRO, contents="A red kite over a beach",
                                                        config=image_config("16:9", "1K")))
    images, _, finish = collect(chunks)
    assert len(images) == 1 and finish == "STOP"
    holder = next(c for c in chunks if any(p.inline_data for p in c.candidates[0].content.parts or []))
    assert holder is not chunks[-1] and holder.candidates[0].finish_reason is None
    assert opened(images[0]).size == (1376, 768)
    assert all(c.usage_metadata and c.usage_metadata.prompt_token_count for c in chunks)


def test_stream_with_thoughts_shows_drafts_before_the_image(client) -> None:
    config = image_config("9:16", "2K", thinking_config=types.ThinkingConfig(include_thoughts=True))
    order = []
    for chunk in client.models.generate_content_stream(model=NB21, contents="A tall tower", config=config):
        for part in chunk.candidates[0].content.parts or []:
            order.append(("draft" if part.thought else "image") if part.inline_data else
                         ("thought" if part.thought else "text"))
    assert order.index("draft") < order.index("image") and order.count("draft") == 2
    assert order[0] == "thought"


def test_async_streams_in_parallel(client) -> None:
    async def one(prompt: str) -> list[bytes]:
        stream = await client.aio.models.generate_content_stream(model=PRO, contents=prompt, config=image_config())
        return collect([chunk async for chunk in stream])[0]

    async def several() -> list[list[bytes]]:
        return await asyncio.gather(*(one(f"async boat {i}") for i in range(3)))

    results = asyncio.run(several())
    assert [len(r) for r in results] == [1, 1, 1] and len({r[0] for r in results}) == 3


def test_the_declared_mime_type_may_lie(client) -> None:
    """Peers that trust ``mime_type`` to pick a file extension save JPEG bytes as .png; decode by content."""
    response = client.models.generate_content(model=PRO, contents="label me [[fault:wrong_mime]]",
                                              config=image_config())
    part = next(p for p in response.parts if p.inline_data)
    assert part.inline_data.mime_type == "image/png" and opened(part.inline_data.data).format == "JPEG"
    honest = next(p for p in client.models.generate_content(model=PRO, contents="honest", config=image_config()).parts
                  if p.inline_data)
    assert honest.inline_data.mime_type == "image/jpeg" and opened(honest.inline_data.data).format == "JPEG"
