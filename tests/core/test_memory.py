"""Freed heap pages go back to the operating system: glibc keeps them in per-thread arenas otherwise.

Run in a fresh interpreter, so its resident size is this test's alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RSS = """
import os

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
"""
SCRIPT = RSS + """
import json, sys, threading
from studio.memory import release_free_memory

def burst():  # like a batch: answers decoded on a worker thread, a few results kept
    global kept
    chunks = [bytes(3000) for _ in range(60_000)]  # ~180 MB from malloc, not Python's small-object arenas
    kept = chunks[::1000]
    del chunks

worker = threading.Thread(target=burst)
worker.start()
worker.join()
freed = rss_mb()
released = release_free_memory()
print(json.dumps({"freed": freed, "released": released, "after": rss_mb()}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim; a no-op elsewhere")
def test_a_burst_freed_on_a_worker_thread_leaves_the_resident_size() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout)
    assert figures["freed"] > 150, "the freed burst is still resident before the release"
    assert figures["released"] is True
    assert figures["after"] < figures["freed"] - 120, figures


LARGE_BUFFERS_SCRIPT = RSS + """
import ctypes, json, sys, threading
from studio.memory import map_large_buffers_separately

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Mallinfo2

figures = {"set": map_large_buffers_separately() if sys.argv[1] == "on" else None, "start": rss_mb()}

def images():  # one big answer freed (glibc then raises its bar), then 40 image-sized buffers among small objects
    global kept
    first = b"\x01" * 8_000_000  # written, so resident (bytes(n) would be calloc's untouched zero pages)
    del first
    buffers, kept = [], []
    for _ in range(40):
        buffers.append(b"\x01" * 1_000_000)
        kept.append(b"\x01" * 2_000)  # small and long-lived, like History rows and widget state
    figures["mapped_while_alive"] = libc.mallinfo2().hblkhd / 1e6
    del buffers

worker = threading.Thread(target=images)
worker.start()
worker.join()
figures["after"] = rss_mb()
print(json.dumps(figures))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt; a no-op elsewhere")
def test_image_sized_buffers_get_their_own_mappings_and_leave_nothing_behind() -> None:
    def run(mode: str) -> dict[str, float]:
        done = subprocess.run([sys.executable, "-c", LARGE_BUFFERS_SCRIPT, mode], cwd=ROOT, capture_output=True,
                              text=True, check=True)
        return json.loads(done.stdout)

    default, separate = run("off"), run("on")
    # glibc's own behaviour, which is the reason for the setting: after one big free, 1 MB buffers share the arena
    assert default["mapped_while_alive"] < 10, default
    assert separate["set"] is True
    assert separate["mapped_while_alive"] >= 40, separate
    assert separate["after"] - separate["start"] < 10, separate
