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
SCRIPT = """
import json, os, sys, threading
from studio.memory import release_free_memory

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

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
