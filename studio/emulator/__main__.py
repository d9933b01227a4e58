"""``python -m studio.emulator --port 8765``: run the Gemini API emulator on loopback."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading

from studio.emulator.server import OFFLINE_API_KEY, EmulatorConfig, EmulatorServer


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m studio.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", action="append", default=[], help=f"accepted API key (default {OFFLINE_API_KEY})")
    parser.add_argument("--bearer-token", action="append", default=[], help="accepted OAuth bearer token")
    parser.add_argument("--userinfo-url", help="accept bearer tokens this OIDC userinfo endpoint vouches for")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--latency-size", action="append", default=[], metavar="SIZE=SECONDS",
                        help="latency per image size, e.g. --latency-size 4K=8")
    parser.add_argument("--model", action="append", default=[], help="an extra model ID to accept")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    by_size = {k: float(v) for k, v in (item.split("=", 1) for item in args.latency_size)}
    config = EmulatorConfig(
        api_keys=frozenset(args.api_key or [OFFLINE_API_KEY]), bearer_tokens=frozenset(args.bearer_token),
        userinfo_url=args.userinfo_url, latency_s=args.latency, latency_by_size=by_size,
        extra_models=tuple(args.model), host=args.host, port=args.port)
    server = EmulatorServer(config).start()
    logging.info("Gemini API emulator on %s (GOOGLE_GEMINI_BASE_URL=%s); Ctrl+C stops it.",
                 server.base_url, server.base_url)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    server.stop()


if __name__ == "__main__":
    main()
