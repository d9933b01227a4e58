"""Edit threads (issue 11): how large each turn's request grows over a 10-turn thread, at 1K and at 4K.

Every edit resends the whole conversation: each earlier instruction with its references and each model
image with its thought signature (Google's inline request limit is 100 MB). The thread is really made:
the studio's engine through the real SDK against the emulator, each turn recorded in History and the next
built from it by ``studio.threads`` (what the Edit page does). For each turn's request:

- ``sent``: the bytes of ``contents`` as the SDK sends them (``wire.request_body_size``), trimmed as the
  studio trims: thought parts (thinking text, draft images) are never resent, and the reference given on
  the first turn (a 4000 x 3000 photo) went in downscaled to 2048 px by ``images.load_reference``;
- ``untrimmed``: the same thread if drafts were resent and the reference went in at full size;
- ``photo``: ``sent`` with each emulator image (flat shapes that compress well) replaced by a photo-like PNG
  of the same pixels, which is closer to what Nano Banana Pro returns: the figure to plan with.

    python -m bench.thread_bench [--turns 10] [--sizes 1K 4K]
"""

from __future__ import annotations

import argparse
import io
import json
import uuid

from PIL import Image

from bench.blobs_bench import photo_like_png
from bench.common import connection_for, start_emulator
from studio import images, threads
from studio import turns as wire
from studio.catalogue import PRO
from studio.credentials import make_client
from studio.engine import Engine
from studio.history import HistoryStore
from studio.request import GenerationRequest, ReferenceImage

NS = "bench"
INSTRUCTIONS = ("put it on a puddle", "add rain", "make it dusk", "add a red sail", "a frog on board",
                "zoom out a little", "add reflections", "make it a watercolour", "add a signature", "warmer light")


def b64_len(n: int) -> int:
    return 4 * -(-n // 3)


def photo_reference() -> tuple[ReferenceImage, int]:
    """A 4000 x 3000 photo as a person drops it, and its size before the studio downscales it."""
    side = photo_like_png(1000)
    with Image.open(io.BytesIO(side)) as img:
        big = img.resize((4000, 3000))
    out = io.BytesIO()
    big.save(out, "JPEG", quality=92)
    ref, _notes = images.load_reference("holiday.jpg", out.getvalue())
    return ref, len(out.getvalue())


def model_images(contents: tuple[dict, ...]) -> list[bytes]:
    return [wire.decode_b64(p["inlineData"]["data"]) for c in contents if c["role"] == "model"
            for p in c["parts"] if "inlineData" in p]


def photo_png(width: int, height: int, cache: dict[tuple[int, int], int]) -> int:
    """Bytes of a photo-like PNG of these pixels (made once per size)."""
    if (width, height) not in cache:
        side = photo_like_png(max(width, height))
        with Image.open(io.BytesIO(side)) as img:
            out = io.BytesIO()
            img.crop((0, 0, width, height)).save(out, "PNG", compress_level=1)
        cache[(width, height)] = len(out.getvalue())
    return cache[(width, height)]


def run_thread(engine: Engine, size: str, turns: int, reference: ReferenceImage, raw_ref_bytes: int,
               photo_cache: dict[tuple[int, int], int]) -> list[tuple[int, int, int, int]]:
    """(turn, sent, untrimmed, photo) bytes for each turn's request."""
    store = HistoryStore.private()
    rows = []
    drafts_b64 = 0
    request = GenerationRequest(prompt="a paper boat on a pond", model_id=PRO.model_id, image_size=size,
                                references=(reference,), include_thoughts=True)
    try:
        for turn in range(1, turns + 1):
            sent = wire.request_body_size(request.conversation, request)
            ref_extra = b64_len(raw_ref_bytes) - b64_len(len(reference.data))
            photo = sent
            for data in model_images(request.conversation):
                with Image.open(io.BytesIO(data)) as img:
                    photo += b64_len(photo_png(img.width, img.height, photo_cache)) - b64_len(len(data))
            rows.append((turn, sent, sent + drafts_b64 + ref_extra, photo))
            (result,) = engine.run(request)
            if not result.ok:
                raise SystemExit(f"turn {turn} failed: {result.failure}")
            drafts_b64 += sum(b64_len(len(d.data)) for d in result.drafts)
            entry = store.record_attempt(NS, request, result, batch_id=uuid.uuid4().hex)
            history = threads.turns_from_store(store, NS, entry.id)
            base = GenerationRequest(prompt="", model_id=PRO.model_id, image_size=size, include_thoughts=True)
            request = threads.edit_request(base, entry, history, INSTRUCTIONS[(turn - 1) % len(INSTRUCTIONS)])
    finally:
        store.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.thread_bench", description=__doc__)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--sizes", nargs="+", default=["1K", "4K"])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    emulator = start_emulator()
    engine = Engine(make_client(connection_for(emulator)))
    reference, raw_ref = photo_reference()
    cache: dict[tuple[int, int], int] = {}
    figures: dict[str, list] = {}
    limit = wire.INLINE_REQUEST_LIMIT
    try:
        print(f"Request body per turn (MB; Google's inline limit {limit / 1e6:.0f} MB). Reference: 4000x3000 "
              f"JPEG {raw_ref / 1e6:.1f} MB, sent downscaled to {reference.width}x{reference.height} "
              f"({len(reference.data) / 1e6:.2f} MB).", flush=True)
        for size in args.sizes:
            rows = run_thread(engine, size, args.turns, reference, raw_ref, cache)
            figures[size] = rows
            print(f"\n{size}: turn | sent | untrimmed | photo-like | photo-like % of limit")
            for turn, sent, untrimmed, photo in rows:
                flag = "  OVER" if photo > limit else ""
                print(f"  {turn:>2} | {sent / 1e6:7.2f} | {untrimmed / 1e6:7.2f} | {photo / 1e6:7.2f} | "
                      f"{100 * photo / limit:5.1f}%{flag}", flush=True)
    finally:
        engine.close()
        emulator.stop()
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
