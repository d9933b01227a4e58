"""The emulator's admin API (loopback only, no auth): script faults, latency and tokens at run time."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from studio.emulator.pacing import parse_timing
from studio.emulator.state import EmulatorState


def queue_faults(state: EmulatorState, body: Mapping) -> None:
    """``{"fault": NAME, "count": N, "value": SECONDS}``: the next N requests meet the fault."""
    state.faults.queue(str(body["fault"]), int(body.get("count", 1)), float(body.get("value", 0)))


def set_config(state: EmulatorState, body: Mapping) -> None:
    """``{"latency_s": 1.0, "latency_by_size": {"4K": 8}, "wrong_mime_rate": 0.1, "draft_timing": [0.3, 0.6]}``."""
    timing = parse_timing(body["draft_timing"]) if "draft_timing" in body else None
    with state.lock:
        if timing is not None:
            state.config.draft_timing = timing
        if "latency_s" in body:
            state.config.latency_s = float(body["latency_s"])
        if "latency_by_size" in body:
            state.config.latency_by_size = {str(k): float(v) for k, v in (body["latency_by_size"] or {}).items()}
        if "wrong_mime_rate" in body:
            state.config.wrong_mime_rate = float(body["wrong_mime_rate"])


def change_tokens(state: EmulatorState, body: Mapping) -> None:
    """``{"add": [...], "scopes": {token: [scope, ...]}, "revoke": [...], "userinfo_url": URL}``."""
    scopes = body.get("scopes") or {}
    state.credentials.add_tokens([*body.get("add", []), *scopes], scopes)
    state.credentials.revoke(body.get("revoke", []))
    if "userinfo_url" in body:
        state.credentials.userinfo_url = body["userinfo_url"]


def reset(state: EmulatorState, body: Mapping) -> None:
    state.reset()


ROUTES: dict[str, Callable[[EmulatorState, Mapping], None]] = {
    "/_emulator/faults": queue_faults,
    "/_emulator/config": set_config,
    "/_emulator/tokens": change_tokens,
    "/_emulator/reset": reset,
}


def handle(state: EmulatorState, path: str, body: Mapping) -> tuple[int, dict]:
    """Run an admin POST; returns (HTTP status, JSON body)."""
    action = ROUTES.get(path)
    if action is None:
        return 404, {"error": f"no admin route {path}; try {sorted(ROUTES)} or GET /_emulator/stats"}
    try:
        action(state, body)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}
    return 200, {"ok": True, **state.stats()}
