"""Handing memory the studio freed back to the operating system (glibc's allocator).

After a burst of images the server's heap has room to spare: answers, thumbnails and HTTP buffers were
freed, but glibc keeps freed pages in its arenas (one per thread that allocated), so the resident size
stays at the burst's peak. Two things bring it back: image-sized buffers get mappings of their own, which
are unmapped when freed (``map_large_buffers_separately``), and ``malloc_trim(0)`` returns the free pages
left between small blocks (``release_free_memory``). Elsewhere (macOS, musl) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable

LARGE_BUFFER_BYTES = 256 * 1024  # a 1K image's bytes and their decoded copies are all larger than this
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None  # both glibc only


@functools.cache  # a process-wide setting: once is enough
def map_large_buffers_separately() -> bool:
    """Give every block of ``LARGE_BUFFER_BYTES`` or more a mapping of its own; True when glibc took it.

    glibc starts out doing this for blocks over 128 KiB, but the first time such a block is freed it raises the
    bar to that block's size (up to 32 MiB). From then on every image's bytes, base64 text and decoded pixels
    are carved out of the thread arenas between small long-lived objects, and the arenas keep their high-water
    mark after the images are gone (docs/PERFORMANCE.md: +60 MB after 200 images, +29 MB with this). A fixed
    threshold keeps the bar where it is; the price is an mmap, page faults and an munmap per large block
    (a 2.4 MB 1K PNG's thumbnail: 30.2 ms instead of 27.9 ms), against an image that took seconds.
    """
    libc = _libc()
    if libc is None:
        return False
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if not libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES):
        return False
    # Fixing the threshold also freezes glibc's trim threshold at 128 KiB, below the blocks just under the
    # threshold: each such block freed at an arena's top would be handed back and faulted in again by the
    # next (a 4K PNG's bands: ~8,000 page faults a write). glibc's own dynamic rule keeps it at twice the
    # mmap threshold; so does this.
    libc.mallopt(_M_TRIM_THRESHOLD, 2 * LARGE_BUFFER_BYTES)
    return True


@functools.cache
def _trim() -> Callable[[int], int] | None:
    libc = _libc()
    if libc is None:
        return None
    trim = libc.malloc_trim
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return freed heap pages to the operating system; True when anything was returned.

    The call walks the heap without holding the GIL (ctypes releases it), a few milliseconds after a burst.
    """
    trim = _trim()
    return bool(trim(0)) if trim is not None else False
