"""Engine figures: overhead over a raw SDK call, batch parallelism, streaming, concurrent sessions."""

from __future__ import annotations

import threading
import time

import httpx

from bench.common import Report, connection_for, median_time, percentile, raw_client, raw_config, start_emulator
from studio.catalogue import DEFAULT_CATALOGUE
from studio.credentials import make_client
from studio.engine import Engine
from studio.request import GenerationRequest

PRO = DEFAULT_CATALOGUE.by_key("pro").model_id


def _request(count: int = 1, size: str = "1K", ratio: str = "1:1", prompt: str = "a lighthouse at dawn") -> GenerationRequest:
    return GenerationRequest(prompt=prompt, model_id=PRO, aspect_ratio=ratio, image_size=size, count=count)


def overhead(report: Report, repeats: int, latency_s: float = 0.5) -> None:
    """Engine time per image (validation, parsing, re-encoding with recipe) over the raw SDK call."""
    emulator = start_emulator(latency_s=latency_s)
    try:
        client = raw_client(emulator)
        engine = Engine(make_client(connection_for(emulator)))
        for size, ratio in (("1K", "1:1"), ("4K", "16:9")):
            config = raw_config(ratio, size)
            prompt = f"overhead {size}"
            engine.run(_request(size=size, ratio=ratio, prompt=prompt))  # warm caches and connections
            raw = median_time(lambda: client.models.generate_content(model=PRO, contents=prompt, config=config),
                              repeats)
            studio = median_time(lambda: engine.run(_request(size=size, ratio=ratio, prompt=prompt)), repeats)
            report.add("overhead", f"engine / raw SDK, one {size} image ({latency_s:g} s latency)", studio / raw, "x",
                       "<= 1.15", studio / raw <= 1.15, f"raw {raw:.3f}s, engine {studio:.3f}s")
    finally:
        emulator.stop()


def batch(report: Report, latency_s: float) -> None:
    """Wall time of 1, 2, 4, 8 images in one batch over one image; a serial loop for comparison."""
    emulator = start_emulator(latency_s=latency_s)
    try:
        engine = Engine(make_client(connection_for(emulator)))
        engine.run(_request(prompt="warm"))
        one = median_time(lambda: engine.run(_request(1, prompt="batch")), 1)
        for n in (2, 4, 8):
            wall = median_time(lambda: engine.run(_request(n, prompt="batch")), 1)
            report.add("batch", f"{n} images in one batch / one image ({latency_s:g} s latency)", wall / one, "x",
                       "<= 1.3" if n == 8 else "", (wall / one <= 1.3) if n == 8 else None, f"{wall:.2f}s wall")
        started = time.perf_counter()
        for _ in range(8):
            engine.run(_request(1, prompt="batch"))
        serial = time.perf_counter() - started
        report.add("batch", "8 images in a serial loop / one image (as most studios do)", serial / one, "x",
                   "", None, f"{serial:.2f}s wall")
    finally:
        emulator.stop()


def streaming(report: Report, base_latency_s: float) -> None:
    """Time to the first visible result of a batch of 4 with different latencies, over the fastest single."""
    emulator = start_emulator(latency_s=base_latency_s)
    try:
        engine = Engine(make_client(connection_for(emulator)))
        engine.run(_request(prompt="stream warm"))
        fastest = median_time(lambda: engine.run(_request(1, prompt="stream")), 3)
        firsts = []
        for _ in range(3):
            for extra in (2 * base_latency_s, 4 * base_latency_s, 6 * base_latency_s):  # three of four are slower
                httpx.post(f"{emulator.base_url}/_emulator/faults", json={"fault": "slow", "value": extra})
            started = time.perf_counter()
            first: list[float] = []
            engine.run(_request(4, prompt="stream"),
                       on_result=lambda r: first.append(time.perf_counter() - started) if not first else None)
            firsts.append(first[0])
        ratio = sorted(firsts)[1] / fastest
        report.add("streaming", "first of 4 (latencies differ) / fastest single image", ratio, "x", "<= 1.1",
                   ratio <= 1.1, f"first {sorted(firsts)[1]:.3f}s, single {fastest:.3f}s")
    finally:
        emulator.stop()


def concurrency(report: Report, sessions_list: tuple[int, ...], latency_s: float, images: int) -> None:
    """N sessions (each its own engine and client) generating at once: throughput and p95 time to image."""
    emulator = start_emulator(latency_s=latency_s)
    try:
        for sessions in sessions_list:
            engines = [Engine(make_client(connection_for(emulator))) for _ in range(sessions)]
            times: list[float] = []
            lock = threading.Lock()

            def one_session(engine: Engine, index: int) -> None:
                started = time.perf_counter()
                engine.run(_request(images, prompt=f"session {index}"),
                           on_result=lambda r: _note(lock, times, time.perf_counter() - started))

            started = time.perf_counter()
            threads = [threading.Thread(target=one_session, args=(e, i)) for i, e in enumerate(engines)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
            total = sessions * images
            report.add("concurrency", f"{sessions} sessions x {images} images: throughput", total / wall, "img/s",
                       "", None, f"{wall:.2f}s wall, {latency_s:g}s latency")
            report.add("concurrency", f"{sessions} sessions x {images} images: p95 time to image",
                       percentile(times, 95), "s", "", None, f"p50 {percentile(times, 50):.2f}s")
            for engine in engines:
                engine.close()
    finally:
        emulator.stop()


def _note(lock: threading.Lock, times: list[float], value: float) -> None:
    with lock:
        times.append(value)
