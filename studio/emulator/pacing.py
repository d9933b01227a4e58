"""When each chunk of an answer goes out: a stream shows its thoughts and drafts before the image.

Google's image models stream their interim thinking and draft images while they work, and the
final image at the end. The emulator spreads a stream's chunks over its latency the same way:
the thought chunks up to and including the k-th draft go out at ``draft_timing[k]`` of the
latency, the rest (caption, final image, trailing chunks) at the full latency.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_DRAFT_TIMING: tuple[float, ...] = (0.3, 0.6)


def parse_timing(value: object) -> tuple[float, ...]:
    """``"0.3,0.6"`` or ``[0.3, 0.6]`` as an ascending tuple of fractions in [0, 1]."""
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    timing = tuple(float(v) for v in items if str(v).strip())
    if any(not 0.0 <= t <= 1.0 for t in timing) or list(timing) != sorted(timing):
        raise ValueError(f"draft timing must be ascending fractions between 0 and 1, got {value!r}")
    return timing


def _parts(chunk: dict) -> list[dict]:
    candidates = chunk.get("candidates") or [{}]
    return (candidates[0].get("content") or {}).get("parts") or []


def is_thought(chunk: dict) -> bool:
    """A chunk that carries only interim thinking (text or draft image)."""
    parts = _parts(chunk)
    return bool(parts) and all(p.get("thought") for p in parts)


def _is_draft(chunk: dict) -> bool:
    return any("inlineData" in p for p in _parts(chunk))


def schedule(chunks: Sequence[dict], timing: Sequence[float]) -> list[tuple[float, list[dict]]]:
    """Group chunks by the fraction of the latency they go out at, in order; the last group at 1.0.

    Thought chunks before the first draft ride with it; drafts beyond ``timing`` share its last
    fraction; with no timing (or no thoughts) everything goes at 1.0.
    """
    groups: list[tuple[float, list[dict]]] = []
    pending: list[dict] = []
    drafts = 0
    index = 0
    while index < len(chunks) and timing and is_thought(chunks[index]):
        chunk = chunks[index]
        pending.append(chunk)
        index += 1
        if _is_draft(chunk):
            groups.append((timing[min(drafts, len(timing) - 1)], pending))
            pending, drafts = [], drafts + 1
    if pending:  # thinking text with no draft after it: the next slot
        groups.append((timing[min(drafts, len(timing) - 1)], pending))
    rest = list(chunks[index:])
    if rest or not groups:
        groups.append((1.0, rest))
    return groups
