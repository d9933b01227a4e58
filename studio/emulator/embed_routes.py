"""The embedding routes on the emulator's handler: ``POST /v1beta/models/{id}:embedContent`` and
``:batchEmbedContents`` for the registry's embedding models, with credentials and fault markers as elsewhere."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from studio.embedding_spec import EmbeddingSpec, all_specs
from studio.emulator import embeddings, errors
from studio.emulator.wire import WireHandler

EMBED_FAULTS = frozenset({"quota", "quota_zero", "server_error", "overloaded"})  # the ways an embedding call fails
_EMBED = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):(embedContent|batchEmbedContents)$")


def embedding_models() -> dict[str, EmbeddingSpec]:
    """The embedding models the emulator serves, by ID."""
    return {spec.model_id: spec for spec in all_specs()}


class EmbedRoutes(WireHandler):
    """Mixed into the handler: ``embed_post`` answers and returns True when the path is an embedding method."""

    def embed_post(self, raw: bytes) -> bool:
        match = _EMBED.match(urlsplit(self.path).path)
        if not match:
            return False
        version, model_id, method = match.groups()
        self.state.count(method)
        try:
            self.auth()
            spec = embedding_models().get(model_id)
            if spec is None:  # an unknown model, or one that makes no embeddings: Google's 404 names the method
                raise errors.ApiError(404, "NOT_FOUND", f"models/{model_id} is not found for API version {version}, "
                                      f"or is not supported for {method}. Call ListModels to see the list of "
                                      "available models and their supported methods.")
            body = self.parse_json(raw)
            names = {f.name for f in self.state.faults.draw(embeddings.all_text(body), EMBED_FAULTS)}
            if "quota" in names or "quota_zero" in names:
                raise errors.quota(model_id, retry_s=1.0, zero="quota_zero" in names)
            if "server_error" in names:
                raise errors.internal()
            if "overloaded" in names:
                raise errors.overloaded()
            answer = embeddings.batch_embed(body, spec) if method == "batchEmbedContents" \
                else embeddings.single_embed(body, spec)
            self.send_json(200, answer)
        except errors.ApiError as err:
            self.send_json(err.code, err.body())
        return True
