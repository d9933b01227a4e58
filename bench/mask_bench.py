"""Paint to edit (issue 23): what the composite of a region edit costs at 4K, in time and peak memory.

The inputs are what the runner holds after a 4K answer: the version being edited, the model's answer (JPEG,
as the Gemini 3 image models send it and the engine keeps a region edit's answer) and the mask PNG (an ellipse
over about a quarter of the frame, like a painted sky; a rectangle over nine tenths of it as the worst case).
The version is what the studio stores for a 4K PNG version (``images.encode_output`` of a JPEG answer: a
banded PNG with its thumbnail's preview, ``studio/png_bands.py``); a JPEG version and a PNG from elsewhere
(Pillow's, as older History entries hold) are measured too. Figures:

- the whole step, bytes in, PNG and thumbnail out (``blend.composite``: decode the answer and as much of the
  version as the edit needs, feather the mask, blend, write the PNG, the thumbnail): wall time, median of
  ``--runs``, target < 300 ms; CPU time in the note (the step runs on both cores);
- the blend alone (feather and paste on decoded pixels), as context;
- peak extra memory of the whole step: the high-water RSS of a fresh process around one call (Pillow and
  the codecs allocate outside Python's allocator, so tracemalloc cannot see it). Target < 150 MB.

Each case runs in a fresh process with glibc set as the job runner's process sets it
(``memory.map_large_buffers_separately``): every large buffer freshly mapped, as in the studio.

    python -m bench.mask_bench [--runs 7] [--quick]
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
from studio import images, memory, png_bands, previews
from studio.regions import blend, masks
from studio.regions import feather as feather_edge

SIZE_4K = (4096, 4096)  # Nano Banana Pro's 1:1 at 4K: 16.8 megapixels
JPEG_QUALITY = 90
VERSIONS = ("studio PNG", "JPEG version", "PNG from elsewhere")


def make_inputs(size: tuple[int, int], share: str = "quarter",
                version: str = "studio PNG") -> tuple[bytes, bytes, bytes]:
    """(version, answer JPEG, mask PNG): photo-like texture (smooth shapes plus grain), a mirrored answer."""
    width, height = size
    shapes = Image.merge("RGB", [Image.effect_noise((128, 128), 64) for _ in range(3)])
    picture = shapes.resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, 8)
    picture = Image.merge("RGB", [Image.blend(channel, grain, 0.15) for channel in picture.split()])
    mask = Image.new("L", size, 0)
    if share == "quarter":
        ImageDraw.Draw(mask).ellipse((width // 8, height // 12, width * 3 // 4, height * 9 // 16), fill=255)
    else:
        ImageDraw.Draw(mask).rectangle((width // 40, height // 40, width * 39 // 40, height * 37 // 40), fill=255)
    answer = _saved(picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "JPEG")
    as_sent = _saved(picture, "JPEG")  # the model's answer for the version itself
    if version == "studio PNG":
        base = images.encode_output(as_sent, "PNG", JPEG_QUALITY, {"prompt": "a bench picture"}).data
    elif version == "JPEG version":
        base = images.encode_output(as_sent, "JPEG", JPEG_QUALITY, {"prompt": "a bench picture"}).data
    else:
        base = _saved(picture, "PNG")
    return base, answer, masks.to_png(mask)


def _saved(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, quality=JPEG_QUALITY, compress_level=1)
    return out.getvalue()


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


def _timed(fn, runs: int) -> tuple[float, float]:
    """Median (wall, CPU) milliseconds of ``runs`` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def _child(folder: str, runs: int) -> None:
    """In a fresh process set up as the runner's: one call for the peak memory, then ``runs`` timed calls."""
    memory.map_large_buffers_separately()  # as the job runner's process does (services.get_runner)
    base, answer, mask = (Path(folder, name).read_bytes() for name in ("base.img", "answer.img", "mask.png"))
    _reset_high_water()
    before = _high_water_mb()
    result = blend.composite(base, mask, answer, 4)
    peak = _high_water_mb() - before
    wall, cpu = _timed(lambda: blend.composite(base, mask, answer, 4), runs)
    print(json.dumps({"peak_mb": peak, "wall_ms": wall, "cpu_ms": cpu, "out_mb": len(result.png) / 1e6}))


def whole_step(inputs: tuple[bytes, bytes, bytes], runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        for name, data in zip(("base.img", "answer.img", "mask.png"), inputs, strict=True):
            Path(folder, name).write_bytes(data)
        out = subprocess.run([sys.executable, "-m", "bench.mask_bench", "--child", folder, "--runs", str(runs)],
                             capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def blend_alone_ms(base: bytes, answer: bytes, mask: bytes, runs: int) -> tuple[float, float]:
    """Feather and paste on decoded pixels (each paste into its own copy of the original)."""
    size = Image.open(io.BytesIO(base)).size
    decoded_mask, answer_pixels = masks.load_mask(mask, size), blend.decode_pixels(answer)
    box = feather_edge.changed_box(decoded_mask, 4)
    assert box is not None
    originals = [blend.decode_pixels(base).copy() for _ in range(runs)]

    def once() -> None:
        alpha = feather_edge.feathered(decoded_mask, box, 4, False)
        blend.paste_into(originals.pop(), box, blend.answer_part(answer_pixels, size, box), alpha)

    return _timed(once, runs)


def run(report: Report, quick: bool, runs: int = 7) -> None:
    """The section of ``python -m bench``; ``--quick`` (the smoke run) measures a 1K image, once."""
    size = (1024, 1024) if quick else SIZE_4K
    label = "1K" if quick else "4K"
    runs = 1 if quick else runs
    cases = [("quarter", "studio PNG")] if quick else [
        ("quarter", "studio PNG"), ("nine tenths", "studio PNG"), ("quarter", "JPEG version"),
        ("quarter", "PNG from elsewhere")]
    for share, version in cases:
        inputs = make_inputs(size, share, version)
        judged = share == "quarter" and version == "studio PNG"
        case = f"mask over a {share}, {version}"
        if judged:
            wall, cpu = blend_alone_ms(*inputs, runs)
            report.add("mask", f"blend of a {label} region edit, {case}", wall, "ms", "", None,
                       f"feather and paste on decoded pixels; CPU {cpu:.0f} ms; median of {runs}")
        f = whole_step(inputs, runs)
        report.add("mask", f"whole composite step, {label}, {case}", f["wall_ms"], "ms",
                   "< 300" if judged else "", f["wall_ms"] < 300 if judged else None,
                   f"wall time, median of {runs} in a fresh process; CPU {f['cpu_ms']:.0f} ms (both cores); "
                   f"version {len(inputs[0]) / 1e6:.1f} MB, answer {len(inputs[1]) / 1e6:.1f} MB, composite "
                   f"{f['out_mb']:.1f} MB; load average {os.getloadavg()[0]:.1f}")
        report.add("mask", f"peak extra memory of the whole step, {label}, {case}", f["peak_mb"], "MB",
                   "< 150" if judged else "", f["peak_mb"] < 150 if judged else None,
                   "peak RSS (VmHWM) growth of a fresh process around one call")
    if not quick:
        _version_figures(report, size, runs)


def _version_figures(report: Report, size: tuple[int, int], runs: int) -> None:
    """What a 4K PNG version costs outside the edit, and the codecs the step stands on."""
    answer = make_inputs(size)[1]
    picture = Image.open(io.BytesIO(answer))
    picture.load()
    as_sent = _saved(picture, "JPEG")
    wall, _ = _timed(lambda: images.encode_output(as_sent, "PNG", JPEG_QUALITY, {"prompt": "x"}), runs)
    report.add("mask", "a 4K JPEG answer kept as a PNG version (engine)", wall, "ms", "", None,
               "images.encode_output: decode, banded PNG with preview; Pillow's PNG took 2.1 s")
    studio_png = images.encode_output(as_sent, "PNG", JPEG_QUALITY, {"prompt": "x"}).data
    head = png_bands.header(studio_png)
    preview_mb = len(head[2].get(previews.PREVIEW, b"")) / 1e6 if head else 0.0
    elsewhere = _saved(picture, "PNG")
    for name, data in (("studio PNG", studio_png), ("PNG from elsewhere", elsewhere)):
        wall, _ = _timed(lambda data=data: images.make_thumbnail(data), runs)
        report.add("mask", f"thumbnail of a 4K {name}", wall, "ms", "", None,
                   f"from its preview chunk ({preview_mb:.1f} MB)" if name == "studio PNG"
                   else "Pillow decodes every pixel")
    wall, _ = _timed(lambda: previews.fitted(studio_png, 1280), runs)
    report.add("mask", "the paint canvas' background of a 4K studio PNG (1280 px)", wall, "ms", "", None,
               "previews.fitted: read by png_bands, reduced a band at a time")
    wall, _ = _timed(lambda: _pillow_fitted(studio_png, 1280), runs)
    report.add("mask", "the same through Pillow (as before)", wall, "ms", "", None, "decode, thumbnail")
    pixels = blend.decode_pixels(answer)
    wall, _ = _timed(lambda: png_bands.encode(pixels), runs)
    report.add("mask", "write a whole 4K frame (png_bands.encode)", wall, "ms", "", None, "both cores, ISA-L")
    frame_png = png_bands.encode(pixels)
    wall, _ = _timed(lambda: png_bands.decode(frame_png), runs)
    report.add("mask", "read it back (png_bands.decode)", wall, "ms", "", None,
               f"{len(frame_png) / 1e6:.1f} MB; Pillow reads the same file in the next row")
    wall, _ = _timed(lambda: blend.decode(frame_png), runs)
    report.add("mask", "the same file read by Pillow", wall, "ms", "", None, "one core, zlib")
    wall, _ = _timed(lambda: blend.decode_pixels(answer), runs)
    report.add("mask", "decode the 4K JPEG answer (simplejpeg, into NumPy)", wall, "ms", "", None, "")
    wall, _ = _timed(lambda: blend.decode(answer), runs)
    report.add("mask", "the same with Pillow", wall, "ms", "", None, "RGB at 4 bytes a pixel")


def _pillow_fitted(data: bytes, max_side: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        picture = img.convert("RGB")
    picture.thumbnail((max_side, max_side))
    return picture


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mask_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="calls measured per case (median)")
    parser.add_argument("--quick", action="store_true", help="a 1K image, once")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.runs)
        return 0
    report = Report(judge_timings=not args.quick)
    run(report, args.quick, args.runs)
    print(report.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
