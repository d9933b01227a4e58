"""Paint to edit (issue 23): what the composite of a region edit costs at 4K, in time and peak memory.

The inputs are what the runner holds after a 4K answer: the version's PNG, the model's answer (JPEG, as the
Gemini 3 image models send it and the engine keeps a region edit's answer; a PNG answer is measured too) and
the mask PNG (an ellipse over about a quarter of the frame, like a painted sky; a mask over nine tenths of it
is measured too, as the worst case). Figures:

- the blend itself (decoded pixels in, blended pixels out): what a region edit adds to the work every version
  does anyway (decoding its answer, encoding its file). Target < 300 ms of CPU time (wall time printed too).
- the whole step, bytes in, PNG and thumbnail out (``blend.composite``: decode both, feather, blend, encode
  the PNG, the thumbnail from the pixels), and the composite's file size.
- peak extra memory of the whole step, measured as the high-water RSS of a fresh process around one call
  (Pillow allocates outside Python's allocator, so tracemalloc cannot see it). Target < 150 MB.
  Pillow holds RGB at 4 bytes a pixel: one decoded 4K frame is 67 MB, so the step holds one at a time.

    python -m bench.mask_bench [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from bench.common import Report
from studio.regions import blend, masks

SIZE_4K = (4096, 4096)  # Nano Banana Pro's 1:1 at 4K: 16.8 megapixels
JPEG_QUALITY = 90


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def make_inputs(size: tuple[int, int], share: str = "quarter", answer_format: str = "JPEG") -> tuple[bytes, bytes, bytes]:
    """(version PNG, answer, mask PNG): photo-like texture (smooth shapes plus grain), a mirrored answer."""
    width, height = size
    shapes = Image.merge("RGB", [Image.effect_noise((128, 128), 64) for _ in range(3)])
    picture = shapes.resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, 8)
    picture = Image.merge("RGB", [Image.blend(channel, grain, 0.15) for channel in picture.split()])
    answer = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mask = Image.new("L", size, 0)
    if share == "quarter":
        ImageDraw.Draw(mask).ellipse((width // 8, height // 12, width * 3 // 4, height * 9 // 16), fill=255)
    else:
        ImageDraw.Draw(mask).rectangle((width // 40, height // 40, width * 39 // 40, height * 37 // 40), fill=255)
    if answer_format == "JPEG":
        out = io.BytesIO()
        answer.save(out, "JPEG", quality=JPEG_QUALITY)
        return _png(picture), out.getvalue(), masks.to_png(mask)
    return _png(picture), _png(answer), masks.to_png(mask)


def _median_ms(fn, runs: int) -> tuple[float, float]:
    """Median (CPU, wall) milliseconds: CPU time is what the step costs; wall time also holds the machine's
    other work (the shared bench machine is often busy), so targets are judged on CPU time."""
    cpu, wall = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(cpu) * 1000, statistics.median(wall) * 1000


def _high_water_mb() -> float:
    """This process's peak RSS so far (VmHWM: per process image, so a fresh process starts from its own size;
    ru_maxrss would carry the parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_high_water() -> None:
    """Start the peak from the current RSS (Linux: "5" to clear_refs), so the figure is the call's own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _child(folder: str) -> None:
    """In a fresh process: the inputs read, then one whole composite; prints the peak RSS growth (MB)."""
    base, answer, mask = (Path(folder, name).read_bytes() for name in ("base.png", "answer.img", "mask.png"))
    _reset_high_water()
    before = _high_water_mb()
    blend.composite(base, mask, answer, 4)
    print(json.dumps({"peak_mb": _high_water_mb() - before}))


def peak_extra_mb(inputs: tuple[bytes, bytes, bytes]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        for name, data in zip(("base.png", "answer.img", "mask.png"), inputs, strict=True):
            Path(folder, name).write_bytes(data)
        out = subprocess.run([sys.executable, "-m", "bench.mask_bench", "--child", folder], capture_output=True,
                             text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"])


def _blend_ms(base: bytes, answer: bytes, mask: bytes, runs: int) -> tuple[float, float]:
    """The blend alone, on decoded pixels (they are dropped on return, before the whole step is measured)."""
    decoded_answer, decoded_mask = blend.decode(answer), masks.load_mask(mask)
    originals = [blend.decode(base) for _ in range(runs)]  # each blend writes into its own copy

    def blend_once() -> None:
        blend.composite_images(originals.pop(), decoded_mask, decoded_answer, 4)

    return _median_ms(blend_once, runs)


def measure(size: tuple[int, int], share: str, runs: int, answer_format: str = "JPEG") -> dict[str, float]:
    base, answer, mask = inputs = make_inputs(size, share, answer_format)
    blend_cpu, blend_wall = _blend_ms(base, answer, mask, runs)
    whole_cpu, whole_wall = _median_ms(lambda: blend.composite(base, mask, answer, 4), max(1, runs // 2))
    out_mb = len(blend.composite(base, mask, answer, 4).png) / 1e6
    return {"blend_ms": blend_cpu, "blend_wall_ms": blend_wall, "whole_ms": whole_cpu, "whole_wall_ms": whole_wall,
            "peak_mb": peak_extra_mb(inputs), "png_mb": len(base) / 1e6, "out_mb": out_mb,
            "answer_mb": len(answer) / 1e6}


def run(report: Report, quick: bool, runs: int = 5) -> None:
    """The section of ``python -m bench``; ``--quick`` (the smoke run) measures a 1K image, once."""
    size = (1024, 1024) if quick else SIZE_4K
    label = "1K" if quick else "4K"
    cases = [("quarter", "JPEG")] if quick else [("quarter", "JPEG"), ("nine tenths", "JPEG"), ("quarter", "PNG")]
    for share, answer_format in cases:
        f = measure(size, share, 1 if quick else runs, answer_format)
        judged = share == "quarter" and answer_format == "JPEG"
        case = f"mask over a {share}" + ("" if answer_format == "JPEG" else ", PNG answer")
        if answer_format == "JPEG":
            report.add("mask", f"blend of a {label} region edit, {case}", f["blend_ms"], "ms",
                       "< 300" if judged else "", f["blend_ms"] < 300 if judged else None,
                       f"CPU time, decoded pixels in and out; wall {f['blend_wall_ms']:.0f} ms; median of "
                       f"{1 if quick else runs}; load average {os.getloadavg()[0]:.1f}")
        report.add("mask", f"whole composite step, {label} ({f['png_mb']:.0f} MB PNG), {case}",
                   f["whole_ms"], "ms", "< 300" if judged else "", f["whole_ms"] < 300 if judged else None,
                   f"CPU time (wall {f['whole_wall_ms']:.0f} ms): decode version and answer "
                   f"({answer_format}, {f['answer_mb']:.1f} MB), feather, blend, encode PNG, thumbnail; "
                   f"the composite's PNG {f['out_mb']:.1f} MB")
        report.add("mask", f"peak extra memory of the whole step, {label}, {case}", f["peak_mb"], "MB",
                   "< 150" if judged else "", f["peak_mb"] < 150 if judged else None,
                   "peak RSS (VmHWM) growth of a fresh process around one call")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mask_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="blends measured (median)")
    parser.add_argument("--quick", action="store_true", help="a 1K image, once")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    report = Report(judge_timings=not args.quick)
    run(report, args.quick, args.runs)
    print(report.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
