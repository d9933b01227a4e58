"""Google's validation and error bodies: through the SDK (exception code/status) and raw HTTP."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from studio.emulator.responses import signature

from .conftest import FLASH, FLASH2, KEY, LITE, NB21, PRO, TOKEN, body, image_config, png, post, sdk_client


def _error(response) -> dict:
    return response.json()["error"]


def _sdk_error(client, model: str = PRO, contents: object = "x", config: object = None) -> errors.APIError:
    with pytest.raises(errors.APIError) as caught:
        client.models.generate_content(model=model, contents=contents, config=config or image_config("1:1", "1K"))
    return caught.value


def test_unknown_model_is_404(sdk, emulator) -> None:
    err = _sdk_error(sdk, model="gemini-9-ultra-image")
    assert isinstance(err, errors.ClientError) and (err.code, err.status) == (404, "NOT_FOUND")
    assert "models/gemini-9-ultra-image is not found for API version v1beta" in err.message
    assert post(emulator, body("x"), model="nope").status_code == 404
    answer = sdk_client(emulator)
    with pytest.raises(errors.ClientError) as caught:
        answer.models.get(model="gemini-9-ultra-image")
    assert caught.value.code == 404


@pytest.mark.parametrize(("model", "ratio", "size", "field"), [
    (PRO, "7:3", "1K", "aspect_ratio"),
    (PRO, "1:4", "1K", "aspect_ratio"),  # extreme ratios are Nano Banana 2 only
    (PRO, "1:1", "1k", "image_size"),  # uppercase K required
    (PRO, "1:1", "512", "image_size"),
    (NB21, "1:1", "4k", "image_size"),
    (NB21, "1:1", "512", "image_size"),  # 2.1 refuses 512
    (LITE, "1:1", "2K", "image_size"),  # Lite is 1K only
    (LITE, "1:1", "4K", "image_size"),
])
def test_unsupported_ratio_or_size_is_400(sdk, model: str, ratio: str, size: str, field: str) -> None:
    err = _sdk_error(sdk, model=model, config=image_config(ratio, size))
    assert (err.code, err.status) == (400, "INVALID_ARGUMENT")
    assert field in err.message and (ratio if field == "aspect_ratio" else size) in err.message


def test_extreme_ratio_works_on_nano_banana_2_and_size_is_ignored_by_nano_banana(sdk, legacy) -> None:
    assert sdk.models.generate_content(model=NB21, contents="tall", config=image_config("1:8", "4K")).candidates
    assert sdk.models.generate_content(model=LITE, contents="wide", config=image_config("8:1", "1K")).candidates
    assert legacy.models.generate_content(model=FLASH2, contents="tall", config=image_config("1:8", "512")).candidates
    assert legacy.models.generate_content(model=FLASH, contents="any size", config=image_config("1:1", "1k")).candidates


def test_too_many_references_is_400(sdk) -> None:
    ref = types.Part.from_bytes(data=png(8, 8), mime_type="image/png")
    err = _sdk_error(sdk, contents=["fifteen", *[ref] * 15])
    assert (err.code, err.status) == (400, "INVALID_ARGUMENT") and "15" in err.message and "14" in err.message
    assert sdk.models.generate_content(model=PRO, contents=["fourteen", *[ref] * 14],
                                       config=image_config("1:1", "1K")).candidates


def test_candidate_count_above_one_is_400(sdk) -> None:
    err = _sdk_error(sdk, config=image_config("1:1", "1K", candidate_count=2))
    assert (err.code, err.status) == (400, "INVALID_ARGUMENT")
    assert "Multiple candidates is not enabled" in err.message


def test_no_credentials_is_403(emulator) -> None:
    answer = post(emulator, body("x"), headers={})
    assert answer.status_code == 403 and _error(answer)["status"] == "PERMISSION_DENIED"
    assert "unregistered callers" in _error(answer)["message"]


def test_bad_api_key_is_400_api_key_invalid(emulator) -> None:
    err = _sdk_error(sdk_client(emulator, api_key="AIzaWRONG"))
    assert (err.code, err.status) == (400, "INVALID_ARGUMENT")
    assert err.message == "API key not valid. Please pass a valid API key."
    answer = post(emulator, body("x"), headers={"x-goog-api-key": "AIzaWRONG"})
    details = _error(answer)["details"]
    assert any(d.get("reason") == "API_KEY_INVALID" and d["@type"].endswith("google.rpc.ErrorInfo") for d in details)


def test_key_in_query_and_bearer_token_are_accepted(emulator) -> None:
    assert post(emulator, body("query key"), headers={}, params={"key": KEY}).status_code == 200
    assert post(emulator, body("query key"), headers={}, params={"key": "bad"}).status_code == 400
    assert post(emulator, body("bearer"), headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_key_and_bearer_together_are_400(emulator) -> None:
    answer = post(emulator, body("x"), headers={"x-goog-api-key": KEY, "Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400 and _error(answer)["status"] == "INVALID_ARGUMENT"
    assert "The API Key and the authentication credential are from different projects" in _error(answer)["message"]


def test_bad_or_revoked_bearer_token_is_401(quiet_emulator) -> None:
    answer = post(quiet_emulator, body("x"), headers={"Authorization": "Bearer forged"})
    assert answer.status_code == 401 and _error(answer)["status"] == "UNAUTHENTICATED"
    import httpx

    httpx.post(f"{quiet_emulator.base_url}/_emulator/tokens", json={"revoke": [TOKEN]})
    assert post(quiet_emulator, body("x"), headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
    httpx.post(f"{quiet_emulator.base_url}/_emulator/tokens", json={"add": [TOKEN, "new-token"]})
    assert post(quiet_emulator, body("x"), headers={"Authorization": "Bearer new-token"}).status_code == 200


def test_narrow_scopes_are_403_scope_insufficient(quiet_emulator) -> None:
    import httpx

    httpx.post(f"{quiet_emulator.base_url}/_emulator/tokens",
               json={"scopes": {"narrow": ["openid", "email"],
                                "wide": ["https://www.googleapis.com/auth/generative-language"]}})
    answer = post(quiet_emulator, body("x"), headers={"Authorization": "Bearer narrow"})
    assert answer.status_code == 403 and _error(answer)["status"] == "PERMISSION_DENIED"
    assert _error(answer)["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert post(quiet_emulator, body("x"), headers={"Authorization": "Bearer wide"}).status_code == 200


def _model_turn(signed: bool) -> dict:
    part = {"inlineData": {"mimeType": "image/png", "data": __import__("base64").b64encode(png()).decode()}}
    if signed:
        part["thoughtSignature"] = signature("an earlier answer")  # one the emulator issued
    return {"role": "model", "parts": [part]}


@pytest.mark.parametrize(("contents_before", "position"), [
    ([{"role": "user", "parts": [{"text": "draw"}]}], (2, 1)),
    ([{"role": "user", "parts": [{"text": "a"}]}, "signed", {"role": "user", "parts": [{"text": "b"}]}], (4, 1)),
])
def test_multi_turn_model_image_without_signature_is_400(emulator, contents_before: list, position) -> None:
    contents = [_model_turn(True) if c == "signed" else c for c in contents_before]
    contents += [_model_turn(False), {"role": "user", "parts": [{"text": "make it blue"}]}]
    answer = post(emulator, {"contents": contents})
    assert answer.status_code == 400 and _error(answer)["status"] == "INVALID_ARGUMENT"
    assert _error(answer)["message"].startswith(
        f"Image part is missing a thought_signature in content position {position[0]}, part position {position[1]}")


def test_multi_turn_with_signatures_works_and_sdk_chat_keeps_them(sdk, emulator, legacy_emulator) -> None:
    contents = [{"role": "user", "parts": [{"text": "draw"}]}, _model_turn(True),
                {"role": "user", "parts": [{"text": "make it blue"}]}]
    assert post(emulator, {"contents": contents}).status_code == 200
    chat = sdk.chats.create(model=PRO, config=image_config("1:1", "1K"))
    chat.send_message("a cat")
    second = chat.send_message("now with a hat")
    assert any(p.inline_data for p in second.candidates[0].content.parts)
    # Nano Banana does not think: no signatures needed
    assert post(legacy_emulator, {"contents": [contents[0], _model_turn(False), contents[2]]},
                model=FLASH).status_code == 200


def _tampered(sig: str) -> str:
    """The same signature with one character changed (still valid base64)."""
    return sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]


def test_multi_turn_with_an_altered_signature_is_400(emulator) -> None:
    first = post(emulator, body("a red kite")).json()
    model_turn = first["candidates"][0]["content"]
    user = {"role": "user", "parts": [{"text": "a red kite"}]}
    edit = {"role": "user", "parts": [{"text": "make it blue"}]}
    assert post(emulator, {"contents": [user, model_turn, edit]}).status_code == 200, "sent back as returned: fine"
    image_at = next(i for i, p in enumerate(model_turn["parts"]) if "inlineData" in p)
    tampered = {**model_turn, "parts": [dict(p) for p in model_turn["parts"]]}
    tampered["parts"][image_at]["thoughtSignature"] = _tampered(tampered["parts"][image_at]["thoughtSignature"])
    answer = post(emulator, {"contents": [user, tampered, edit]})
    assert answer.status_code == 400 and _error(answer)["status"] == "INVALID_ARGUMENT"
    assert _error(answer)["message"] == "Corrupted thought signature."
    made_up = {**model_turn, "parts": [{**p, "thoughtSignature": "c2lnbmF0dXJl"} for p in model_turn["parts"]]}
    assert post(emulator, {"contents": [user, made_up, edit]}).status_code == 400, "a signature it never issued"


def test_an_edit_is_drawn_on_the_previous_model_image(emulator) -> None:
    import base64
    import io

    from PIL import Image, ImageChops, ImageStat

    def final_image(answer: dict) -> Image.Image:
        part = next(p for p in answer["candidates"][0]["content"]["parts"] if "inlineData" in p)
        return Image.open(io.BytesIO(base64.b64decode(part["inlineData"]["data"]))).convert("RGB")

    user = {"role": "user", "parts": [{"text": "a lighthouse at dusk"}]}
    first = post(emulator, body("a lighthouse at dusk")).json()
    other = post(emulator, body("a bowl of cherries")).json()
    edit = {"role": "user", "parts": [{"text": "add a boat"}]}

    def edited_from(answer: dict) -> Image.Image:
        reply = post(emulator, {"contents": [user, answer["candidates"][0]["content"], edit]})
        assert reply.status_code == 200
        return final_image(reply.json())

    def distance(a: Image.Image, b: Image.Image) -> float:
        return sum(ImageStat.Stat(ImageChops.difference(a, b.resize(a.size))).mean)

    from_first, from_other = edited_from(first), edited_from(other)
    # each edit looks like the image it edited, far more than like the other one
    assert distance(from_first, final_image(first)) < distance(from_first, final_image(other)) / 2
    assert distance(from_other, final_image(other)) < distance(from_other, final_image(first)) / 2


def test_snake_case_request_fields_are_accepted(emulator) -> None:
    snake = {"contents": [{"role": "user", "parts": [
        {"text": "snake"}, {"inline_data": {"mime_type": "image/png", "data": __import__("base64").b64encode(png(90, 160)).decode()}}]}],
        "generation_config": {"response_modalities": ["TEXT", "IMAGE"],
                              "image_config": {"aspect_ratio": "16:9", "image_size": "2K"},
                              "thinking_config": {"include_thoughts": True}}}
    answer = post(emulator, snake)
    assert answer.status_code == 200
    parts = answer.json()["candidates"][0]["content"]["parts"]
    assert any(p.get("thought") for p in parts)
    assert answer.json()["usageMetadata"]["promptTokensDetails"][1] == {"modality": "IMAGE", "tokenCount": 258}


def test_bad_json_bad_base64_and_unknown_paths(emulator) -> None:
    import httpx

    url = f"{emulator.base_url}/v1beta/models/{PRO}:generateContent"
    answer = httpx.post(url, content=b"{not json", headers={"x-goog-api-key": KEY})
    assert answer.status_code == 400 and _error(answer)["status"] == "INVALID_ARGUMENT"
    bad = {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "@@@"}}]}]}
    assert post(emulator, bad).status_code == 400
    assert post(emulator, {"contents": []}).status_code == 400
    assert httpx.get(f"{emulator.base_url}/v1beta/tunedModels", headers={"x-goog-api-key": KEY}).status_code == 404
    assert httpx.get(f"{emulator.base_url}/v1beta/models", headers={}).status_code == 403
