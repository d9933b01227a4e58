"""Multi-turn editing through ``client.chats``, as the cookbook notebook and studio peers do it."""

from __future__ import annotations

from google.genai import types

from .conftest import FLASH, PRO, image_config, opened


def _final_images(response: types.GenerateContentResponse) -> list[bytes]:
    return [p.inline_data.data for p in response.parts or [] if p.inline_data and not p.thought]


def test_chat_creates_then_edits_keeping_signatures(client) -> None:
    chat = client.chats.create(model=PRO, config=image_config("16:9", "2K"))
    first = chat.send_message("A watercolour fox in a snowy forest")
    second = chat.send_message("Now make the fox wear a red scarf")
    third = chat.send_message("Turn it into a night scene")
    for response in (first, second, third):
        (data,) = _final_images(response)
        assert opened(data).size == (2752, 1536)
    assert len({_final_images(r)[0] for r in (first, second, third)}) == 3
    history = chat.get_history()
    assert [c.role for c in history] == ["user", "model"] * 3
    signed = [p for c in history if c.role == "model" for p in c.parts if p.inline_data]
    assert signed and all(p.thought_signature for p in signed), "the chat kept every signature"


def test_a_config_given_to_send_message_replaces_the_chats(client) -> None:
    chat = client.chats.create(model=PRO, config=image_config("1:1", "1K"))
    chat.send_message("A lighthouse")
    wider = chat.send_message("Same lighthouse, wider", config=image_config("21:9", "1K"))
    assert opened(_final_images(wider)[0]).size == (1584, 672)


def test_streaming_chat_with_thoughts(client) -> None:
    config = image_config("1:1", "1K", thinking_config=types.ThinkingConfig(include_thoughts=True))
    chat = client.chats.create(model=PRO, config=config)
    for turn in ("A paper boat", "Put it on a puddle"):
        images, drafts = [], []
        for chunk in chat.send_message_stream(turn):
            for part in (chunk.candidates[0].content.parts if chunk.candidates and chunk.candidates[0].content
                         else None) or []:
                if part.inline_data:
                    (drafts if part.thought else images).append(part.inline_data.data)
        assert len(images) == 1 and len(drafts) == 2
    assert len(chat.get_history()) >= 4


def test_nano_banana_chat_needs_no_signatures(legacy_client) -> None:
    chat = legacy_client.chats.create(model=FLASH, config=image_config("4:3", None))
    chat.send_message("A teapot")
    edited = chat.send_message("Make it blue")
    assert opened(_final_images(edited)[0]).size == (1184, 864)
