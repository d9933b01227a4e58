"""Handing memory the studio freed back to the operating system (glibc's ``malloc_trim``).

After a burst of images the server's heap has room to spare: answers, thumbnails and HTTP buffers were
freed, but glibc keeps freed pages in its arenas (one per thread that allocated), so the resident size
stays at the burst's peak. ``malloc_trim(0)`` returns those pages. Elsewhere (macOS, musl) it is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


@functools.cache
def _trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return freed heap pages to the operating system; True when anything was returned.

    The call walks the heap without holding the GIL (ctypes releases it), a few milliseconds after a burst.
    """
    trim = _trim()
    return bool(trim(0)) if trim is not None else False
