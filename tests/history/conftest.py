"""Fixtures for the history store: real images, real requests and results, no emulator needed."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.history import HistoryStore
from studio.images import encode_output
from studio.request import GenerationRequest, ReferenceImage
from studio.results import Failure, FailureKind, ImageResult, Usage


def png(colour: str = "teal", size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def make_request(prompt: str = "a lighthouse at dawn", refs: int = 0, **kw: object) -> GenerationRequest:
    references = tuple(ReferenceImage(name=f"ref{i}.png", data=png(size=(30 + i, 20)), mime_type="image/png")
                       for i in range(refs))
    return GenerationRequest(prompt=prompt, model_id=str(kw.pop("model_id", "gemini-3-pro-image")),
                             references=references, **kw)  # type: ignore[arg-type]


def ok_result(request: GenerationRequest, index: int = 0) -> ImageResult:
    image = encode_output(png(), request.output_format, 90, {**request.recipe(), "index": index})
    return ImageResult(index=index, image=image, usage=Usage(10, 1120, 0, 1130), latency_s=1.25,
                       model_version="gemini-3-pro-image", response_id=f"resp-{index}",
                       request_json={"model": request.model_id}, response_json={"candidates": []})


def failed_result(kind: FailureKind = FailureKind.OUTPUT_BLOCKED, index: int = 0) -> ImageResult:
    return ImageResult(index=index, failure=Failure(kind, "blocked plainly", "IMAGE_SAFETY"),
                       finish_reason="IMAGE_SAFETY")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    s = HistoryStore.open(data_dir=tmp_path / "data")
    yield s
    s.close()


@pytest.fixture
def record(store: HistoryStore) -> Callable[..., object]:
    def add(namespace: str = "local", prompt: str = "a lighthouse at dawn", ok: bool = True, refs: int = 0,
            parent_id: str | None = None, **kw: object):
        request = make_request(prompt, refs, **kw)
        result = ok_result(request) if ok else failed_result()
        return store.record_attempt(namespace, request, result, batch_id="batch", parent_id=parent_id)

    return add
