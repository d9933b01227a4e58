"""Scripted faults: chosen per request by a prompt marker, or queued through the admin API.

``[[fault:quota]]`` fails every request carrying it; ``[[fault:quota*2]]`` fails only the first
two requests with that exact prompt, then lets them through (for retry tests);
``[[fault:slow=2.5]]`` adds 2.5 s of latency; ``[[fault:quota=57.238747106]]`` sets the 429's retry delay.
Every name is listed (with its effect) in studio/emulator/README.md.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, deque
from dataclasses import dataclass

from studio.emulator import blocked

HTTP_FAULTS = frozenset({"quota", "quota_zero", "overloaded", "capacity", "server_error", "deadline"})
FAULTS = frozenset({
    *HTTP_FAULTS, *blocked.ALL, "hang", "text_only", "malformed", "drop_stream", "wrong_mime", "slow",
    "interleaved", "no_caption", "empty_caption", "with_caption", "text_safety",
})
_MARKER = re.compile(r"\[\[fault:([a-z_]+)(?:\*(\d+))?(?:=([\d.]+))?\]\]")


@dataclass(frozen=True)
class Fault:
    name: str
    value: float = 0.0  # seconds for "slow", retry delay for "quota"


class FaultBook:
    """Which fault, if any, the next request meets. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: deque[Fault] = deque()
        self._seen: Counter[str] = Counter()

    def queue(self, name: str, count: int = 1, value: float = 0.0) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; choose from {sorted(FAULTS)}")
        with self._lock:
            self._queued.extend(Fault(name, value) for _ in range(count))

    def reset(self) -> None:
        with self._lock:
            self._queued.clear()
            self._seen.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._queued)

    def draw(self, prompt: str, accepts: frozenset[str] | None = None) -> list[Fault]:
        """The faults for a request with this prompt: markers first, then a queued one. An endpoint that can
        fail in only some ways names them (``accepts``): a queued fault it cannot show waits for the next request
        that can (a background embedding call must not swallow an image's queued safety block)."""
        faults: list[Fault] = []
        with self._lock:
            markers = _MARKER.findall(prompt)
            if markers:
                self._seen[prompt] += 1
            for name, times, value in markers:
                if name not in FAULTS:
                    continue
                if times and self._seen[prompt] > int(times):
                    continue
                faults.append(Fault(name, float(value or 0)))
            if self._queued and (accepts is None or self._queued[0].name in accepts):
                faults.append(self._queued.popleft())
        return faults


def strip_markers(prompt: str) -> str:
    """The prompt as drawn on the image, without fault markers."""
    return _MARKER.sub("", prompt).strip()
