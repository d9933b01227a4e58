"""``python -m studio.emulator --port 8765``: run the Gemini API emulator on loopback.

It serves the Gemini API paths (``/v1beta/models/…``; API keys or bearer tokens) and Vertex AI's
(``/v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent``
and ``:streamGenerateContent``; bearer tokens only, ``imageOutputOptions`` honoured). Point the SDK
at it with GOOGLE_GEMINI_BASE_URL, or GOOGLE_VERTEX_BASE_URL with ``vertexai=True``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading

from studio.emulator.pacing import DEFAULT_DRAFT_TIMING, parse_timing
from studio.emulator.server import OFFLINE_API_KEY, EmulatorConfig, EmulatorServer

SIZES = ("512", "1K", "2K", "4K")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m studio.emulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--api-key", action="append", default=[],
                        help=f"accepted API key, repeatable (default {OFFLINE_API_KEY})")
    parser.add_argument("--bearer-token", action="append", default=[], help="accepted OAuth bearer token, repeatable (the only credential on the Vertex AI paths)")
    parser.add_argument("--userinfo-url", help="also accept bearer tokens this OIDC userinfo endpoint answers 200 for")
    parser.add_argument("--userinfo-cache", type=float, default=30.0, metavar="SECONDS",
                        help="how long a userinfo 200 is trusted (default 30)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="delay before each answer")
    for size in SIZES:
        parser.add_argument(f"--latency-{size.lower()}", type=float, metavar="SECONDS", dest=f"latency_{size}",
                            help=f"delay for {size} images (overrides --latency)")
    parser.add_argument("--latency-size", action="append", default=[], metavar="SIZE=SECONDS",
                        help="latency per image size, e.g. --latency-size 4K=8")
    parser.add_argument("--draft-timing", type=parse_timing, default=DEFAULT_DRAFT_TIMING, metavar="F,F",
                        help="streams send their drafts at these shares of the latency (default 0.3,0.6)")
    parser.add_argument("--wrong-mime-rate", type=float, default=0.0, metavar="SHARE",
                        help="share of answers that declare image/png for JPEG bytes (0..1)")
    parser.add_argument("--batch-delay", type=float, default=30.0, metavar="SECONDS",
                        help="a batch goes PENDING, RUNNING, then SUCCEEDED over this time (default 30; Google: "
                             "up to 24 h)")
    parser.add_argument("--model", action="append", default=[], help="an extra model ID to accept, repeatable")
    parser.add_argument("--text-model", action="append", default=[],
                        help="an extra text model ID to list (makes no images), repeatable")
    parser.add_argument("--lineup", default="current",
                        help="which models answer: current (the registry's offered models, default) or 2025 "
                             "(Nano Banana Pro, Nano Banana 2, Nano Banana: for tests of retired-model handling)")
    parser.add_argument("--flex-delay", type=float, default=0.2, metavar="SECONDS",
                        help='extra wait for service_tier "flex" answers (default 0.2; Google: minutes)')
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    by_size = {k.strip(): float(v) for k, v in (item.split("=", 1) for item in args.latency_size)}
    by_size.update({size: getattr(args, f"latency_{size}") for size in SIZES
                    if getattr(args, f"latency_{size}") is not None})
    return EmulatorConfig(
        api_keys=frozenset(args.api_key or [OFFLINE_API_KEY]), bearer_tokens=frozenset(args.bearer_token),
        userinfo_url=args.userinfo_url, userinfo_cache_s=args.userinfo_cache, latency_s=args.latency,
        latency_by_size=by_size or None, wrong_mime_rate=args.wrong_mime_rate, draft_timing=args.draft_timing,
        extra_models=tuple(args.model), extra_text_models=tuple(args.text_model), lineup=args.lineup,
        flex_delay_s=args.flex_delay, batch_delay_s=args.batch_delay, host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    server = EmulatorServer(config_from(args)).start()
    config = server.config
    logging.info("Gemini API emulator on %s: %d API key(s) (key=***), %d bearer token(s)%s. "
                 "Use GOOGLE_GEMINI_BASE_URL=%s, or GOOGLE_VERTEX_BASE_URL=%s with vertexai=True (bearer tokens "
                 "only); Ctrl+C stops it.", server.base_url, len(config.api_keys), len(config.bearer_tokens),
                 ", userinfo check on" if config.userinfo_url else "", server.base_url, server.base_url)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    server.stop()


if __name__ == "__main__":
    main()
