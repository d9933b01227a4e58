"""The emulator's embedContent / batchEmbedContents through the real google-genai SDK (and raw HTTP for the
shapes the SDK does not send): vectors that carry meaning, outputDimensionality, usage, listing and errors."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from studio.embedding_spec import default_spec
from studio.emulator.server import EmulatorServer

SPEC = default_spec()
EMBED = SPEC.model_id
SCOOTER = "a red scooter parked on a rainy street at night"
VEHICLE = "a vehicle waiting in the rain after dark"
LEMONS = "a bowl of lemons on a wooden table"


def _picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "PNG")
    return out.getvalue()


def _vectors(client: genai.Client, contents: list, dims: int = 768) -> np.ndarray:
    answer = client.models.embed_content(model=EMBED, contents=contents,
                                         config=types.EmbedContentConfig(output_dimensionality=dims))
    return np.array([e.values for e in answer.embeddings or []])


def test_related_prompts_are_nearer_than_unrelated_ones(client: genai.Client) -> None:
    texts = [VEHICLE, SCOOTER, LEMONS]
    v = _vectors(client, [types.Content(parts=[types.Part(text=t)]) for t in texts])
    assert v.shape == (3, 768)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    near, far = float(v[0] @ v[1]), float(v[0] @ v[2])
    assert near > far + 0.3, (near, far)
    again = _vectors(client, [types.Content(parts=[types.Part(text=VEHICLE)])])
    assert np.allclose(again[0], v[0]), "deterministic"


def test_similar_pictures_are_near_and_prompt_and_picture_make_one_vector(client: genai.Client) -> None:
    def content(colour: str) -> types.Content:
        return types.Content(parts=[types.Part(text="a picture"),
                                    types.Part.from_bytes(data=_picture(colour), mime_type="image/png")])
    red, crimson, blue = _vectors(client, [content("#d01010"), content("#c01818"), content("#1020d0")])
    assert float(red @ crimson) > float(red @ blue) + 0.1


def test_output_dimensionality_is_honoured_and_usage_is_reported(client: genai.Client) -> None:
    answer = client.models.embed_content(model=EMBED, contents="a lighthouse",
                                         config={"output_dimensionality": 256})
    assert len(answer.embeddings[0].values or []) == 256
    assert answer.usage_metadata is not None and answer.usage_metadata.prompt_token_count == 3
    full = client.models.embed_content(model=EMBED, contents="a lighthouse")
    assert len(full.embeddings[0].values or []) == SPEC.max_dimensions


def test_batch_of_many_answers_in_order(client: genai.Client) -> None:
    texts = [f"prompt number {i}" for i in range(20)]
    batch = _vectors(client, [types.Content(parts=[types.Part(text=t)]) for t in texts])
    single = _vectors(client, [types.Content(parts=[types.Part(text=texts[7])])])
    assert batch.shape == (20, 768) and np.allclose(batch[7], single[0])


def test_single_embed_content_route_answers_one_embedding(emulator: EmulatorServer) -> None:
    body = {"content": {"parts": [{"text": SCOOTER}]}, "outputDimensionality": 128}
    r = httpx.post(f"{emulator.base_url}/v1beta/models/{EMBED}:embedContent", json=body,
                   headers={"x-goog-api-key": "test-key"})
    assert r.status_code == 200 and len(r.json()["embedding"]["values"]) == 128


@pytest.mark.parametrize(("config", "message"), [
    ({"output_dimensionality": 5000}, "output_dimensionality"),
    ({"output_dimensionality": 12}, "output_dimensionality"),
])
def test_bad_dimensionality_is_googles_400(client: genai.Client, config: dict, message: str) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model=EMBED, contents="x", config=config)
    assert caught.value.code == 400 and message in str(caught.value)


def test_too_long_too_many_empty_and_unknown_model_are_refused(client: genai.Client,
                                                              emulator: EmulatorServer) -> None:
    with pytest.raises(errors.ClientError, match="exceeds the maximum number of tokens"):
        client.models.embed_content(model=EMBED, contents="word " * (SPEC.max_chars // 5 + 10))
    with pytest.raises(errors.ClientError, match="at most 100 requests"):
        client.models.embed_content(model=EMBED, contents=[types.Content(parts=[types.Part(text=str(i))])
                                                           for i in range(101)])
    with pytest.raises(errors.ClientError) as missing:
        client.models.embed_content(model="gemini-embedding-9", contents="x")
    assert missing.value.code == 404
    r = httpx.post(f"{emulator.base_url}/v1beta/models/{EMBED}:batchEmbedContents",
                   json={"requests": [{"model": f"models/{EMBED}", "content": {"parts": []}}]},
                   headers={"x-goog-api-key": "test-key"})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    r = httpx.post(f"{emulator.base_url}/v1beta/models/{EMBED}:batchEmbedContents",
                   json={"requests": [{"model": "models/other", "content": {"parts": [{"text": "x"}]}}]},
                   headers={"x-goog-api-key": "test-key"})
    assert r.status_code == 400 and "does not match" in r.json()["error"]["message"]
    r = httpx.post(f"{emulator.base_url}/v1beta/models/{EMBED}:batchEmbedContents",
                   json={"requests": [{"content": {"parts": [{"text": "x"}]}}]})
    assert r.status_code == 403, "no credentials"


def test_quota_marker_answers_429(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model=EMBED, contents="a cat [[fault:quota]]")
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"


def test_listed_and_counted(client: genai.Client) -> None:
    listed = {m.name: m for m in client.models.list()}
    model = listed[f"models/{EMBED}"]
    assert "embedContent" in (model.supported_actions or []) and model.input_token_limit == SPEC.input_token_limit
    assert client.models.get(model=EMBED).display_name == SPEC.label
    assert client.models.count_tokens(model=EMBED, contents="a red scooter").total_tokens == 4
    with pytest.raises(errors.ClientError):
        client.models.generate_content(model=EMBED, contents="a red scooter")
