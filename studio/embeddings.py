"""Search by meaning: embeddings through google-genai, the in-process index per identity, hybrid ranking.

An entry's vector comes from its prompt and its picture in one multimodal request (the thumbnail: a JPEG of a
few KB is plenty for meaning and colour); a query's from its text. Vectors are unit length, so cosine
similarity is one matrix-vector product over the identity's matrix (numpy, float32). The matrix is read from
History once and cached per identity; the cache is refreshed when the identity's vectors change (a cheap
count-and-latest query), so new, purged or imported entries show without a restart.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from google import genai
from google.genai import types

from studio.embedding_spec import EmbeddingSpec
from studio.history.vectors import DTYPE, StoredVectors, VectorBook

MIN_SCORE = 0.12  # below this a "match" by meaning is noise: left out of the results
TRIMMED_NOTE = ("Your search was longer than {label} reads ({limit:,} characters); only its first {limit:,} "
                "characters were used.")


@dataclass(frozen=True)
class Embedded:
    """Vectors (unit length, float32 rows) and the usage Google reported for them."""

    vectors: np.ndarray
    text_tokens: int
    image_tokens: int


def trim_query(text: str, spec: EmbeddingSpec) -> tuple[str, str | None]:
    """The query cut to the model's input limit, and a note saying so (None when it fits)."""
    text = text.strip()
    if len(text) <= spec.max_chars:
        return text, None
    return text[: spec.max_chars], TRIMMED_NOTE.format(label=spec.label, limit=spec.max_chars)


def entry_content(prompt: str, picture: bytes | None, mime_type: str = "image/jpeg") -> types.Content:
    """One entry as one Content: its prompt and its picture, embedded together into one vector."""
    parts = [types.Part(text=prompt)] if prompt.strip() else []
    if picture:
        parts.append(types.Part(inline_data=types.Blob(data=picture, mime_type=mime_type)))
    return types.Content(role="user", parts=parts)


def unit(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero)."""
    matrix = np.asarray(matrix, dtype=DTYPE)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def _read(response: types.EmbedContentResponse, expected: int, dims: int) -> Embedded:
    values = [e.values or [] for e in (response.embeddings or [])]
    if len(values) != expected or any(len(v) != dims for v in values):
        raise ValueError(f"the embedding answer had {len(values)} vectors of the wrong size (expected {expected} of "
                         f"{dims} values)")
    text_n = image_n = 0
    usage = response.usage_metadata
    for detail in (usage.prompt_tokens_details or []) if usage else []:
        if str(detail.modality).upper().endswith("IMAGE"):
            image_n += int(detail.token_count or 0)
        else:
            text_n += int(detail.token_count or 0)
    return Embedded(unit(np.array(values, dtype=DTYPE)), text_n, image_n)


EMBED_TIMEOUT_MS = 60_000  # a stalled call must not keep the indexer "busy" (and the runner's quiet spells away) for ever


async def embed_contents(client: genai.Client, spec: EmbeddingSpec, contents: Sequence[types.Content]) -> Embedded:
    """Vectors for up to ``spec.max_batch`` contents in one call (the SDK posts ``:batchEmbedContents``)."""
    config = types.EmbedContentConfig(output_dimensionality=spec.dimensions, task_type="RETRIEVAL_DOCUMENT",
                                      http_options=types.HttpOptions(timeout=EMBED_TIMEOUT_MS))
    response = await client.aio.models.embed_content(model=spec.model_id, contents=list(contents), config=config)
    return _read(response, len(contents), spec.dimensions)


async def embed_query(client: genai.Client, spec: EmbeddingSpec, text: str) -> Embedded:
    """A search query's vector (already trimmed by ``trim_query``)."""
    config = types.EmbedContentConfig(output_dimensionality=spec.dimensions, task_type="RETRIEVAL_QUERY",
                                      http_options=types.HttpOptions(timeout=EMBED_TIMEOUT_MS))
    content = types.Content(role="user", parts=[types.Part(text=text)])
    response = await client.aio.models.embed_content(model=spec.model_id, contents=[content], config=config)
    return _read(response, 1, spec.dimensions)


class VectorIndex:
    """One identity's vectors in memory: ``search(vector, k)`` gives (entry id, cosine similarity), best first."""

    def __init__(self, stored: StoredVectors) -> None:
        self.ids = stored.ids
        self.matrix = np.ascontiguousarray(stored.matrix, dtype=DTYPE)

    @cached_property
    def _row(self) -> dict[str, int]:
        """Entry id -> row, built when first asked (More like this), not while the first search waits."""
        return {entry_id: i for i, entry_id in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes)

    def vector(self, entry_id: str) -> np.ndarray | None:
        row = self._row.get(entry_id)
        return None if row is None else self.matrix[row]

    def search(self, query: np.ndarray, k: int = 50, exclude: str | None = None,
               min_score: float = MIN_SCORE) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        scores = self.matrix @ np.asarray(query, dtype=DTYPE)
        if exclude is not None and exclude in self._row:
            scores[self._row[exclude]] = -np.inf
        k = min(k, len(self.ids))
        top = np.argpartition(scores, len(scores) - k)[len(scores) - k:]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] >= min_score]


@dataclass(frozen=True)
class _Held:
    stamp: tuple[int, float]
    index: VectorIndex
    checked_at: float
    generation: int


class IndexCache:
    """Process-wide: each identity's index, kept while its vectors do not change (held by st.cache_resource).

    Writes through this process (new images, a backfill, an import) are seen at once; another replica's within
    ``recheck_s``: the freshness query is not repeated on every keystroke of a search.
    """

    def __init__(self, max_identities: int = 16, recheck_s: float = 2.0, max_bytes: int = 1 << 30) -> None:
        self._max = max_identities
        self._max_bytes = max_bytes  # 1 GiB: about 350,000 vectors of 768 values across identities
        self._recheck_s = recheck_s
        self._indexes: OrderedDict[tuple[str, str, str, int], _Held] = OrderedDict()
        self._lock = threading.Lock()

    def index(self, book: VectorBook, namespace: str, spec: EmbeddingSpec) -> VectorIndex:
        """The identity's index, read again only when its vectors changed since the last read."""
        key = (book.token, namespace, spec.model_id, spec.dimensions)
        now = time.monotonic()
        with self._lock:
            held = self._indexes.get(key)
            if held is not None and held.generation == book.generation and now - held.checked_at < self._recheck_s:
                self._indexes.move_to_end(key)
                return held.index
        generation = book.generation
        stamp = book.stamp(namespace)
        if held is not None and held.stamp == stamp:
            with self._lock:
                self._indexes[key] = _Held(stamp, held.index, now, generation)
            return held.index
        index = VectorIndex(book.load(namespace, spec.model_id, spec.dimensions, expected=stamp[0]))
        with self._lock:
            self._indexes[key] = _Held(stamp, index, now, generation)
            self._indexes.move_to_end(key)
            while len(self._indexes) > 1 and (len(self._indexes) > self._max or sum(
                    h.index.nbytes for h in self._indexes.values()) > self._max_bytes):
                self._indexes.popitem(last=False)  # the identity searched longest ago
        return index

    def forget(self, namespace: str) -> None:
        with self._lock:
            for key in [k for k in self._indexes if k[1] == namespace]:
                del self._indexes[key]


def hybrid(word_ids: Sequence[str], meaning: Sequence[tuple[str, float]]) -> list[tuple[str, float | None]]:
    """Word matches first (in their order: every word of the query is in the prompt), then the rest by meaning.

    Each id appears once, with its similarity when the index knows it (None: matched by words only)."""
    scores = dict(meaning)
    ranked: list[tuple[str, float | None]] = [(i, scores.get(i)) for i in word_ids]
    seen = set(word_ids)
    ranked += [(i, s) for i, s in meaning if i not in seen]
    return ranked


class QueryCache:
    """Process-wide: recent query vectors per identity, so a rerun never pays for the same query twice."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._vectors: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, namespace: str, model_id: str, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get((namespace, model_id, text))
            if vector is not None:
                self._vectors.move_to_end((namespace, model_id, text))
            return vector

    def put(self, namespace: str, model_id: str, text: str, vector: np.ndarray) -> None:
        with self._lock:
            self._vectors[(namespace, model_id, text)] = vector
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
