"""The contract every search backend fulfils, and the factory that picks one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .documents import SearchDocument, SearchQuery, SearchResults, Vector


@runtime_checkable
class SearchIndex(Protocol):
    """A search index over `SearchDocument`s.

    Writes are visible to the next `search` call (also from another process
    for the embedded backend). Ids are the database primary keys.
    """

    def upsert(self, docs: Iterable[SearchDocument]) -> None:
        """Add documents, replacing any with the same id (terms and vector)."""

    def delete(self, ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored."""

    def search(self, query: SearchQuery) -> SearchResults: ...

    def similar(
        self,
        vector: Vector,
        *,
        limit: int = 10,
        filters: Mapping[str, Sequence[str]] | None = None,
        exclude_ids: Iterable[int] = (),
    ) -> list[tuple[int, float]]:
        """Nearest neighbours of `vector` by cosine similarity, best first,
        among documents that pass `filters` (same semantics as SearchQuery)."""

    def set_background(self, vectors: np.ndarray | None) -> None:
        """Embeddings of queries about nothing the corpus holds (`search.semantic_floor`): semantic
        neighbours then count only when they come clearly closer than those."""

    def hashes(self) -> dict[int, str]:
        """id → content_hash of every indexed document (to reconcile with the DB)."""

    def count(self) -> int: ...

    def clear(self) -> None:
        """Remove every document (settings and location are kept)."""

    def close(self) -> None: ...


def open_index(
    path: Path | None,
    meili_url: str | None = None,
    meili_key: str | None = None,
    index_name: str = "kennisbank",
) -> SearchIndex:
    """Meilisearch when `meili_url` is given, else the embedded index in
    `path / index_name` (created when missing)."""
    if meili_url:
        from .meili_index import MeiliIndex

        return MeiliIndex(meili_url, meili_key, index_name)
    if path is None:
        raise ValueError("open_index needs a directory for the embedded index or a Meilisearch URL")
    from .tantivy_index import TantivyIndex

    return TantivyIndex(Path(path) / index_name)
