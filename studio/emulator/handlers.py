"""The Gemini REST routes: generateContent, streamGenerateContent, countTokens, models, files, batches; faults.

Vertex AI's generateContent and streamGenerateContent (``/v1beta1/projects/…/publishers/google/models/…``)
run the same answers behind Vertex's own rules (``vertex.py``).

Anything else answers 404 in Google's error shape (JSON, never an HTML page); the admin API
lives under ``/_emulator/``.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from urllib.parse import urlsplit

from studio.emulator import (
    admin,
    errors,
    listing,
    pacing,
    responses,
    schema,
    text_models,
    usage,
    validation,
    vertex,
)
from studio.emulator.batch_routes import BatchRoutes
from studio.emulator.embed_routes import EmbedRoutes
from studio.emulator.faults import HTTP_FAULTS, Fault
from studio.emulator.file_routes import FileRoutes
from studio.emulator.wire import log

HANG_SECONDS = 600.0
_METHOD = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):([A-Za-z]+)$")
_MODELS = re.compile(r"^/(v1|v1beta|v1alpha)/models(?:/([^/:]+))?$")
_MALFORMED = b'{"candidates": [{"content": {"parts": [{"text": "Here is'


class GeminiHandler(FileRoutes, BatchRoutes, EmbedRoutes):
    """Routes one request; ``state`` is set on the subclass each server makes."""

    def _not_found(self) -> None:
        err = errors.not_found_path(urlsplit(self.path).path)
        self.send_json(err.code, err.body())

    def _refuse(self) -> None:
        """A method the emulator serves nowhere: read the body (the connection stays usable), then 404."""
        with contextlib.suppress(errors.ApiError):  # too large: read_body already marked the connection to close
            self.read_body()
        self._not_found()

    do_PUT = do_PATCH = _refuse

    def do_DELETE(self) -> None:
        if not self.files_delete() and not self.batches_delete():
            self._refuse()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_emulator/stats":
            return self.send_json(200, self.state.stats())
        if path in ("/", "/healthz"):
            return self.send_json(200, {"ok": True, "emulator": "gemini"})
        if self.batches_get() or self.files_get():
            return None
        if vertex.LIST_PATH.match(path):
            return self._vertex_models()
        try:
            match = _MODELS.match(path)
            if not match:
                raise errors.not_found_path(path)
            self.auth()
            version, model_id = match.groups()
            if model_id is None:
                query = self.query()
                return self.send_json(200, listing.list_models(
                    self.state.catalogue, self.state.config.extra_models, query.get("pageSize"),
                    query.get("pageToken"), self.state.lineup, self.state.config.extra_text_models))
            if not self.state.known_model(model_id):
                raise self.state.not_found(model_id, version)
            if model_id in self.state.config.extra_text_models:
                return self.send_json(200, listing.text_resource(model_id))
            return self.send_json(200, listing.resource_for(self.state.catalogue, model_id))
        except errors.ApiError as err:
            return self.send_json(err.code, err.body())

    def _vertex_models(self) -> None:
        """Vertex's publisher model list, behind Vertex's credential rules."""
        self.state.count("vertex_listPublisherModels")
        try:
            headers = {k.lower(): v for k, v in self.headers.items()}
            vertex.check_credentials(self.state.credentials, vertex.LIST_RPC, headers, self.query().get("key"))
        except errors.ApiError as err:
            err = vertex.as_vertex(err, vertex.LIST_RPC)
            return self.send_json(err.code, err.body())
        return self.send_json(200, vertex.publisher_models(self.state.lineup, self.state.config.extra_models))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            raw = self.read_body()
        except errors.ApiError as err:
            return self.send_json(err.code, err.body())
        if path.startswith("/_emulator/"):
            try:
                body = self.parse_json(raw)
            except errors.ApiError as err:
                return self.send_json(400, err.body())
            return self.send_json(*admin.handle(self.state, path, body))
        if self.files_post(raw) or self.batches_post(raw) or self.embed_post(raw):
            return None
        route = vertex.match(path)
        if route is not None:
            return self._serve_generate(raw, route.version, route.model_id, route.method, route)
        match = _METHOD.match(path)
        if not match or match.group(3) not in ("generateContent", "streamGenerateContent", "countTokens"):
            return self._not_found()
        version, model_id, method = match.groups()
        if method == "countTokens":
            return self._count_tokens(raw, version, model_id)
        self._serve_generate(raw, version, model_id, method)

    def _serve_generate(self, raw: bytes, version: str, model_id: str, method: str,
                        route: vertex.Route | None = None) -> None:
        """One generate call on a Gemini API path, or on a Vertex AI path (``route``), counted in the stats."""
        nonce = self.state.begin(method)
        if route is not None:  # the stats show which path served: "vertex_generateContent", "vertex p/global"
            self.state.count(f"vertex_{method}")
            self.state.count(f"vertex {route.project}/{route.location}")
        outcome = "ok"
        try:
            self._generate(raw, version, model_id, method == "streamGenerateContent", nonce, route)
        except errors.ApiError as err:
            if route is not None:
                err = vertex.as_vertex(err, route.rpc)
            outcome = f"error_{err.code}"
            self.send_json(err.code, err.body())
        except (BrokenPipeError, ConnectionResetError):
            outcome = "client_gone"  # the client went away (timeout or cancel): nothing left to answer
        finally:
            self.state.end(outcome)

    def _count_tokens(self, raw: bytes, version: str, model_id: str) -> None:
        """``countTokens`` takes ``contents`` or a whole ``generateContentRequest``."""
        self.state.count("countTokens")
        try:
            self.auth()
            if not self.state.known_model(model_id):
                raise self.state.not_found(model_id, version)
            body = self.parse_json(raw)
            schema.check(body, "CountTokensRequest")
            inner = validation.pick(body, "generateContentRequest")
            request = validation.parse(inner if isinstance(inner, dict) else {"contents": validation.pick(body, "contents")},
                                       read_file=self.state.files.read)
            self.send_json(200, usage.count_tokens(request))
        except errors.ApiError as err:
            self.send_json(err.code, err.body())

    # ---- generateContent ------------------------------------------------------------------
    def _generate(self, raw: bytes, version: str, model_id: str, streaming: bool, nonce: int,
                  route: vertex.Route | None = None) -> None:
        if route is None:
            self.auth()
        else:
            headers = {k.lower(): v for k, v in self.headers.items()}
            vertex.check_credentials(self.state.credentials, route.rpc, headers, self.query().get("key"))
        if not self.state.known_model(model_id):
            raise self.state.not_found(model_id, version) if route is None else vertex.model_not_found(route)
        body = self.parse_json(raw)
        request = validation.parse(body, vertex=route is not None, read_file=self.state.files.read)
        if self.state.makes_text_only(model_id):
            return self._text_answer(body, request, model_id, streaming, nonce, route, version)
        spec = self.state.catalogue.resolve(model_id)
        if route is not None:
            request = vertex.output_options(request)
        validation.validate(request, spec)
        faults = self.state.faults.draw(request.prompt)
        names = {f.name for f in faults}
        for name in names:
            self.state.count(f"fault_{name}")
        self.state.count(f"tier_{request.service_tier}")
        delay = self.state.latency_for(request.image_size) + sum(f.value for f in faults if f.name == "slow")
        if request.service_tier == "flex":  # flex answers in minutes at Google: slower here too
            delay += self.state.config.flex_delay_s
        if "hang" in names:
            delay = HANG_SECONDS
        deadline = time.monotonic() + delay
        wrong_mime = self.state.wrong_mime_by_rate(request.prompt, request.seed)
        if streaming and not names & (HTTP_FAULTS | {"hang", "malformed"}):
            chunks = responses.answer_chunks(request, spec, faults, nonce, wrong_mime=wrong_mime)
            chunks = vertex.decorate(chunks) if route is not None else chunks
            return self._stream(pacing.schedule(chunks, self.state.config.draft_timing), deadline - delay, delay,
                                drop_after_first="drop_stream" in names)
        if not self.wait_until(deadline):
            return self.drop()  # stopped while waiting: the connection dies, as at a real outage
        self._raise_http_faults(names, model_id, faults)
        started = time.perf_counter()
        chunks = responses.answer_chunks(request, spec, faults, nonce, wrong_mime=wrong_mime)
        chunks = vertex.decorate(chunks) if route is not None else chunks
        log.debug("answer for %s built in %.3fs", model_id, time.perf_counter() - started)
        if streaming:
            return self._stream([(1.0, chunks)], deadline, 0.0, malformed="malformed" in names,
                                drop_after_first="drop_stream" in names)
        if "malformed" in names:
            return self.send_bytes(200, _MALFORMED)
        data = json.dumps(responses.merge(chunks)).encode()
        if "drop_stream" in names:
            return self.send_bytes(200, data[: len(data) // 2], declared_extra=len(data) - len(data) // 2)
        self.send_bytes(200, data)

    def _text_answer(self, body: dict, request: validation.ParsedRequest, model_id: str, streaming: bool,
                     nonce: int, route: vertex.Route | None, version: str) -> None:
        """A text model's answer (text_models.py): rewrites, variations, descriptions; one chunk when streamed."""
        facts = self.state.text_models.get(model_id, {})
        makes_embeddings_only = model_id in self.state.embedding_models
        if makes_embeddings_only or "generateContent" not in facts.get("methods", ["generateContent"]):
            raise errors.model_not_found(model_id, version)  # Google: "… is not supported for generateContent"
        text_models.check(body)
        faults = self.state.faults.draw(request.prompt)
        names = {f.name for f in faults}
        delay = HANG_SECONDS if "hang" in names else sum(f.value for f in faults if f.name == "slow")
        if not self.wait_until(time.monotonic() + delay):
            return self.drop()
        self._raise_http_faults(names, model_id, faults)
        chunks = [text_models.answer(body, request, model_id, names, nonce, bool(facts.get("thinking", True)))]
        chunks = vertex.decorate(chunks) if route is not None else chunks
        if streaming:
            return self._stream([(1.0, chunks)], time.monotonic(), 0.0)
        self.send_bytes(200, json.dumps(chunks[0]).encode())

    @staticmethod
    def _raise_http_faults(names: set[str], model_id: str, faults: list[Fault]) -> None:
        if "quota" in names or "quota_zero" in names:
            retry = next((f.value for f in faults if f.name.startswith("quota") and f.value), 1.0)
            raise errors.quota(model_id, retry_s=retry, zero="quota_zero" in names)
        if "overloaded" in names:
            raise errors.overloaded()
        if "capacity" in names:
            raise errors.capacity_exhausted(model_id)
        if "server_error" in names:
            raise errors.internal()
        if "deadline" in names:
            raise errors.deadline_exceeded()

    def _stream(self, groups: list[tuple[float, list[dict]]], started: float, delay: float,
                malformed: bool = False, drop_after_first: bool = False) -> None:
        """Server-sent events as Google sends them (``data: {json}``, a blank line, CRLF), each group
        of chunks at its fraction of the latency; the headers go out with the first group."""
        for i, (fraction, chunks) in enumerate(groups):
            if not self.wait_until(started + fraction * delay):
                return self.drop()  # stopped mid-stream: the connection dies
            if i == 0:
                self.start_events()
            if malformed:
                self.write_chunk(b"data: " + _MALFORMED + b"\r\n\r\n")
                return self.write_chunk(b"")
            for chunk in chunks:
                self.write_chunk(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
                if drop_after_first:
                    return self.drop()
        self.write_chunk(b"")
