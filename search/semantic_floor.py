"""The background a semantic neighbour must stand out from: queries about nothing the corpus holds.

    index.set_background(background_vectors(embedder))

An encoder puts every two texts of one language at some similarity (multilingual-e5 near 0.8,
MiniLM near 0.1), and a short text near everything; a fixed cosine floor is right for one encoder
and one corpus only. Instead the index measures, per document, how close the queries of
`background_queries.txt` (errands, hobbies, gibberish) come to it, and counts a semantic neighbour
only when the query comes clearly closer than those. The list is never copied from a benchmark.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

from .embeddings import Embedder


@lru_cache(maxsize=1)
def background_queries() -> tuple[str, ...]:
    text = resources.files("search").joinpath("background_queries.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


_CACHE: dict[str, np.ndarray] = {}


def background_vectors(embedder: Embedder) -> np.ndarray:
    """The background queries embedded as queries by `embedder` (once per encoder and process)."""
    vectors = _CACHE.get(embedder.name)
    if vectors is None:
        vectors = _CACHE[embedder.name] = np.asarray(
            embedder.embed_queries(list(background_queries())), dtype=np.float32
        )
    return vectors
