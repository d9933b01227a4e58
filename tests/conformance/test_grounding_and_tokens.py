"""Search-grounded images with their sources shown, and counting tokens before spending them."""

from __future__ import annotations

import html
import re

from google.genai import types

from .conftest import PRO, image_config, opened


def sources_panel(response: types.GenerateContentResponse) -> str:
    """What a peer shows under a grounded image: Google's entry point HTML, then the source links."""
    metadata = response.candidates[0].grounding_metadata
    if metadata is None:
        return ""
    links = [f'<a href="{html.escape(c.web.uri)}">{html.escape(c.web.title)}</a>'
             for c in metadata.grounding_chunks or [] if c.web]
    return metadata.search_entry_point.rendered_content + "<ul>" + "".join(f"<li>{x}</li>" for x in links) + "</ul>"


def test_grounded_image_with_search_entry_point_and_sources(client) -> None:
    config = image_config("16:9", "1K", tools=[{"google_search": {}}])
    response = client.models.generate_content(
        model=PRO, contents="Visualise the current weather forecast for San Francisco as a chart", config=config)
    assert opened(next(p.inline_data.data for p in response.parts if p.inline_data and not p.thought)).size == (1376, 768)
    panel = sources_panel(response)
    assert "<style>" in panel and len(re.findall(r"<li><a href=\"https://", panel)) >= 2
    queries = response.candidates[0].grounding_metadata.web_search_queries
    assert queries and "weather" in queries[0]
    usage = response.usage_metadata
    assert usage.tool_use_prompt_token_count and usage.total_token_count > usage.prompt_token_count


def test_grounded_stream_carries_metadata_on_its_last_chunk(client) -> None:
    config = image_config("1:1", "1K", tools=[types.Tool(google_search=types.GoogleSearch())])
    chunks = list(client.models.generate_content_stream(model=PRO, contents="Today's top headline as a poster",
                                                        config=config))
    grounded = [c for c in chunks if c.candidates[0].grounding_metadata]
    assert grounded == [chunks[-1]] and sources_panel(chunks[-1])


def test_ungrounded_answers_have_no_sources(client) -> None:
    assert sources_panel(client.models.generate_content(model=PRO, contents="A calm sea", config=image_config())) == ""


def test_count_tokens_before_generating(client) -> None:
    reference = types.Part.from_bytes(data=_png(), mime_type="image/png")
    contents = ["Put this logo on a mug", reference]
    counted = client.models.count_tokens(model=PRO, contents=contents)
    response = client.models.generate_content(model=PRO, contents=contents, config=image_config())
    assert counted.total_tokens == response.usage_metadata.prompt_token_count > 258


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (250, 200, 0)).save(out, "PNG")
    return out.getvalue()
