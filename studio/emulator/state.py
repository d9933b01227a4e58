"""What every request handler of one emulator shares: config, credentials, faults, counters."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from studio.catalogue import Catalogue, ModelSpec
from studio.emulator import errors, listing
from studio.emulator.batches import BatchStore
from studio.emulator.credentials import CredentialBook
from studio.emulator.faults import FaultBook
from studio.emulator.files import FileStore

if TYPE_CHECKING:
    from studio.emulator.server import EmulatorConfig


class EmulatorState:
    """One per server; thread-safe. ``reset()`` returns it to how it started."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.initial = config
        self.catalogue = Catalogue()
        self.lineup: tuple[ModelSpec, ...] = self.catalogue.lineup(config.lineup)  # the models it answers
        self.text_models = listing.text_models()  # listed like Google's text models; they make no images
        self.embedding_models = listing.embedding_ids()  # embedContent only: they make no images either
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.reset()

    def reset(self) -> None:
        """Forget faults, counters, admin token changes and config changes."""
        config = replace(self.initial, latency_by_size=dict(self.initial.latency_by_size or {}))
        with self.lock:
            self.config = config
            self.credentials = CredentialBook(config.api_keys, config.bearer_tokens, config.userinfo_url,
                                              config.userinfo_cache_s)
            self.faults = FaultBook()
            self.files = FileStore()
            self.batches = BatchStore(self)
            self.counts: Counter[str] = Counter()
            self.in_flight = 0
            self.max_in_flight = 0
            self.served = 0

    def known_model(self, model_id: str) -> bool:
        """Whether this emulator answers the model: its lineup, the extra IDs, and the text models."""
        return (any(spec.model_id == model_id for spec in self.lineup) or model_id in self.config.extra_models
                or model_id in self.config.extra_text_models or model_id in self.text_models
                or model_id in self.embedding_models)

    def makes_text_only(self, model_id: str) -> bool:
        return (model_id in self.text_models or model_id in self.config.extra_text_models
                or model_id in self.embedding_models)

    def not_found(self, model_id: str, version: str) -> errors.ApiError:
        """Google's 404 for a model it does not serve; a model closed to new projects says so."""
        if self.catalogue.is_known(model_id) and self.catalogue.resolve(model_id).gone == "closed_to_new_users":
            return errors.no_longer_available(model_id)
        return errors.model_not_found(model_id, version)

    def latency_for(self, size: str | None) -> float:
        """Per-size latency when configured for that size (4K is slower at Google), else the fixed one."""
        return (self.config.latency_by_size or {}).get(size or "1K", self.config.latency_s)

    def wrong_mime_by_rate(self, prompt: str, seed: int | None) -> bool:
        """The configured share of answers that declare image/png for JPEG bytes; fixed per prompt+seed."""
        rate = self.config.wrong_mime_rate
        if rate <= 0:
            return False
        bucket = int.from_bytes(hashlib.sha256(f"mime|{seed}|{prompt}".encode()).digest()[:4], "big") / 2**32
        return bucket < rate

    def begin(self, method: str) -> int:
        """Count a generate request in; returns its sequence number (makes responseIds unique)."""
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.counts[method] += 1
            return sum(self.counts[m] for m in ("generateContent", "streamGenerateContent", "batchItem"))

    def end(self, outcome: str) -> None:
        with self.lock:
            self.in_flight -= 1
            self.served += 1
            self.counts[outcome] += 1

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def stats(self) -> dict:
        with self.lock:
            return {"served": self.served, "in_flight": self.in_flight, "max_in_flight": self.max_in_flight,
                    "requests": dict(self.counts), "queued_faults": self.faults.pending(),
                    "userinfo_calls": self.credentials.userinfo_calls,
                    "latency_s": self.config.latency_s, "latency_by_size": dict(self.config.latency_by_size or {}),
                    "draft_timing": list(self.config.draft_timing)}
