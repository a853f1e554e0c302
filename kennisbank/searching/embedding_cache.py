"""Embeddings of initiatives, cached in the database by model and text hash.

Embedding is the slow part of indexing (several texts a second on a small CPU), so a restart or a
reindex must never recompute a text it has seen. The cache is derived data like the index: deleting
it only costs time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import anyio.to_thread
import numpy as np

from search.embeddings import Embedder, text_for_embedding

from ..models import Embedding, Initiative

BATCH = 32


def initiative_text(initiative: Initiative) -> str:
    return text_for_embedding(initiative.title, initiative.summary, initiative.body_text)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def document_vectors(embedder: Embedder, texts: Sequence[str]) -> list[tuple[float, ...]]:
    """One vector per text: from the cache where possible, the rest embedded in batches and stored."""
    return [tuple(np.frombuffer(blob, dtype="<f4").tolist()) for blob in await _document_blobs(embedder, texts)]


async def document_arrays(embedder: Embedder, texts: Sequence[str]) -> list[np.ndarray]:
    """`document_vectors` as read-only float32 arrays: for the matcher, which stacks 20,000 of them
    (as tuples of Python floats they took half a second to make and as long to stack)."""
    return [np.frombuffer(blob, dtype="<f4") for blob in await _document_blobs(embedder, texts)]


async def _document_blobs(embedder: Embedder, texts: Sequence[str]) -> list[bytes]:
    hashes = [_hash(t) for t in texts]
    cached = await _cached_blobs(embedder, hashes)
    missing = [(h, t) for h, t in dict(zip(hashes, texts, strict=True)).items() if h not in cached]
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        matrix = await anyio.to_thread.run_sync(embedder.embed_documents, [t for _, t in batch])
        for (text_hash, _), row in zip(batch, matrix, strict=True):
            blob = np.asarray(row, dtype="<f4").tobytes()
            await Embedding.get_or_create(
                model=embedder.name, text_hash=text_hash, defaults={"dimensions": len(row), "vector": blob}
            )
            cached[text_hash] = blob
    return [cached[h] for h in hashes]


async def _cached_blobs(embedder: Embedder, hashes: Sequence[str]) -> dict[str, bytes]:
    """The stored vectors of `hashes`, by hash, as values (a model instance per row cost more)."""
    rows = await Embedding.filter(model=embedder.name, text_hash__in=list(set(hashes))).values_list(
        "text_hash", "vector"
    )
    return {text_hash: bytes(vector) for text_hash, vector in rows}


async def cached_vectors(embedder: Embedder, texts: Sequence[str]) -> list[tuple[float, ...] | None]:
    """One vector per text from the cache, None where it was never embedded: never runs the encoder,
    so a request can ask."""
    hashes = [_hash(t) for t in texts]
    cached = await _cached_blobs(embedder, hashes)
    return [tuple(np.frombuffer(cached[h], dtype="<f4").tolist()) if h in cached else None for h in hashes]


async def query_vector(embedder: Embedder, text: str) -> tuple[float, ...]:
    matrix = await anyio.to_thread.run_sync(embedder.embed_queries, [text])
    return tuple(np.asarray(matrix[0], dtype=np.float32).tolist())
