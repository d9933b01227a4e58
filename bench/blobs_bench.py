"""History on object storage (issue 15): recording an image into an S3-compatible store vs local disk.

moto's S3 server runs in its own process on loopback (as a real service would, so it does not share this
process's GIL). Each run records one finished attempt (original, thumbnail, row) through
``HistoryStore.record_attempt`` into two stores that differ only in their blob store: a local folder, and
``S3Blobs``. Runs alternate between the two; each figure is the median of N. The blob writes of a record
(original + thumbnail) are timed alone as well: they are the only work that differs, so the target is judged
on them (end to end, the thumbnail's decode dominates and is noisy on a busy machine). Last, the client-side
peak memory of one PUT (the original must not be held twice).

    python -m bench.blobs_bench [--runs 15] [--runs-4k 7]

Target: S3 adds < 50 ms at 1K; the 4K figure is noted.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
from PIL import Image, ImageFilter

from bench.common import Report
from studio.catalogue import DEFAULT_CATALOGUE
from studio.history import HistoryStore
from studio.history.blobs import BlobStore, LocalBlobs
from studio.history.blobs_s3 import S3Blobs
from studio.images import encode_output, make_thumbnail
from studio.request import GenerationRequest
from studio.results import ImageResult, Usage

BUCKET = "studio-bench"
KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench-secret"}
SIDES = {"1K": 1024, "4K": 4096}
PRO = DEFAULT_CATALOGUE.by_key("pro").model_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone S3 server in a child process; waits until it accepts connections (no fixed sleep)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", f"from moto.server import main; main(['-H', '127.0.0.1', "
                             f"'-p', '{port}'])"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def photo_like_png(side: int) -> bytes:
    """A noisy gradient: compresses like a photo (about 1 MB at 1K, 20 MB at 4K), unlike a flat colour."""
    noise = Image.effect_noise((side, side), 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize((side, side)).convert("RGB")
    out = io.BytesIO()
    Image.blend(gradient, noise, 0.5).filter(ImageFilter.GaussianBlur(0.6)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def attempt(size: str, png: bytes) -> tuple[GenerationRequest, ImageResult]:
    request = GenerationRequest(prompt=f"a bench image at {size}", model_id=PRO, image_size=size)
    image = encode_output(png, "PNG", 90, {**request.recipe(), "index": 0})
    return request, ImageResult(index=0, image=image, usage=Usage(10, 1120, 0, 1130), latency_s=1.0,
                                model_version=PRO, response_id="bench",
                                request_json={"model": request.model_id}, response_json={"candidates": []})


def median_ms(runs: int, fns: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Alternate the contenders run by run, so drift (caches, the other process) hits both alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


@dataclass
class SizeFigures:
    """One image size's medians (ms) on local disk and on S3, and the peak extra memory of one S3 PUT."""

    size: str
    runs: int
    mb: float
    recorded: dict[str, float]
    put: dict[str, float]
    put_peak_mb: float

    @property
    def put_extra_ms(self) -> float:
        """What S3 adds to a record's blob writes: the figure the target (< 50 ms at 1K) is judged on."""
        return self.put["s3"] - self.put["local"]


def compare(runs: dict[str, int]) -> Iterator[SizeFigures]:
    """Record attempts into a local-disk store and an S3 store (moto in its own process), per size in ``runs``."""
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS).create_bucket(Bucket=BUCKET)
        s3_blobs = S3Blobs(BUCKET, "bench", endpoint_url=endpoint, access_key_id=KEYS["aws_access_key_id"],
                           secret_access_key=KEYS["aws_secret_access_key"])
        local = HistoryStore(Path(tmp) / "local.sqlite3", Path(tmp) / "local")
        remote = HistoryStore(Path(tmp) / "s3.sqlite3", None, blobs=s3_blobs)
        local_blobs = LocalBlobs(Path(tmp) / "local")
        print(f"moto S3 server at {endpoint} (own process); local disk under {tmp}", flush=True)
        try:
            for size, count in runs.items():
                request, result = attempt(size, photo_like_png(SIDES[size]))
                assert result.image is not None
                data = result.image.data
                for store in (local, remote):  # warm up: connections, SQLite pages, the PNG decoder
                    store.record_attempt("bench", request, result, batch_id="warm")
                recorded = median_ms(count, {
                    "local": lambda: local.record_attempt("bench", request, result, batch_id="b"),
                    "s3": lambda: remote.record_attempt("bench", request, result, batch_id="b")})
                name, thumb_name = f"{'0' * 32}.png", f"{'0' * 32}.thumb.jpg"
                thumb = make_thumbnail(data)

                def writes(blobs: BlobStore) -> None:
                    blobs.put("bench", name, data)
                    blobs.put("bench", thumb_name, thumb)

                put = median_ms(count, {"local": lambda: writes(local_blobs), "s3": lambda: writes(s3_blobs)})
                tracemalloc.start()
                s3_blobs.put("bench", name, data)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                yield SizeFigures(size, count, len(data) / 2**20, recorded, put, peak / 2**20)
        finally:
            local.close()
            remote.close()


def run(report: Report, quick: bool) -> None:
    """The section of ``python -m bench``; ``--quick`` (the smoke run) records 1K images twice per store."""
    for f in compare({"1K": 2} if quick else {"1K": 15, "4K": 7}):
        judged = f.size == "1K"
        report.add("blobs", f"S3 adds to a record's blob writes, {f.size} ({f.mb:.1f} MB PNG)", f.put_extra_ms, "ms",
                   "< 50" if judged else "", None if quick or not judged else f.put_extra_ms < 50,
                   f"local {f.put['local']:.1f} ms, S3 {f.put['s3']:.1f} ms; whole record_attempt local "
                   f"{f.recorded['local']:.1f} ms, S3 {f.recorded['s3']:.1f} ms; median of {f.runs}")
        report.add("blobs", f"peak extra memory of one S3 PUT, {f.size}", f.put_peak_mb, "MB",
                   note=f"for a {f.mb:.1f} MB image: the original must not be held twice")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.blobs_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per store at 1K (median)")
    parser.add_argument("--runs-4k", type=int, default=7, help="runs per store at 4K (median)")
    args = parser.parse_args(argv)
    print(f"{'figure':<44} {'local':>9} {'S3':>9} {'S3 adds':>9}")
    failed = False
    for f in compare({"1K": args.runs, "4K": args.runs_4k}):
        extra = f.recorded["s3"] - f.recorded["local"]
        verdict = ""
        if f.size == "1K":  # judged on the blob writes: the only work that differs between the two stores
            failed = f.put_extra_ms >= 50
            verdict = "  (target < 50 ms: " + ("met)" if not failed else "MISSED)")
        print(f"{f'record_attempt {f.size} ({f.mb:.1f} MB PNG), median of {f.runs}':<44} "
              f"{f.recorded['local']:>7.1f}ms {f.recorded['s3']:>7.1f}ms {extra:>+7.1f}ms")
        print(f"{'  its blob writes (original + thumbnail)':<44} {f.put['local']:>7.1f}ms {f.put['s3']:>7.1f}ms "
              f"{f.put_extra_ms:>+7.1f}ms{verdict}")
        print(f"{'  peak extra memory of one S3 PUT':<44} {f.put_peak_mb:>16.1f} MB for a {f.mb:.1f} MB image",
              flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
