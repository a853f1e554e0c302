"""Keeping the search index in line with the database, which stays the source of truth.

Every saved initiative is re-indexed by keyword right after its transaction commits; its vector
follows from the job queue (kennisbank/searching/embedding_jobs.py). If the process dies in between, the
initiative and its job are safe in the database and ``kennisbank reindex`` (which compares content
hashes, and counts a document without its vector as stale) repairs the index; the server runs the
same reconcile at start-up, without the encoder: what has no embedding yet is queued.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread

from search import SearchDocument, SearchIndex, open_index
from search.embeddings import Embedder, load_embedder
from search.matching.model import shipped_space_for
from search.semantic_floor import background_vectors
from search.tantivy_index import TantivyIndex

from ..initiatives.service import as_input_dict
from ..models import Initiative
from ..settings import Settings
from . import embedding_jobs
from .embedding_cache import cached_vectors, document_vectors, initiative_text

# Semantic neighbours a hybrid search adds to the keyword matches. 20 scores the same MRR and
# recall@10 on bench/relevance.py as 100 while result counts and facet counts stay meaningful.
SEMANTIC_CANDIDATES = 20


def open_search_index(settings: Settings, embedder: Embedder | None = None) -> SearchIndex:
    """Meilisearch when a server is configured, else the embedded tantivy index in the data dir.

    With the `embedder` of the semantic search, the index learns the background its semantic
    neighbours must stand out from (search/semantic_floor.py), so that a query about nothing the
    platform holds finds nothing, and the embedded index the semantic space its best hits' families
    are found in (search/tantivy_index.py, FAMILY_ANCHORS)."""
    index: SearchIndex
    if settings.meili_url:
        index = open_index(None, settings.meili_url, settings.meili_key or None)
    else:
        index = TantivyIndex(
            settings.data_dir / "kennisbank",
            semantic_limit=SEMANTIC_CANDIDATES,
            family_space=shipped_space_for(embedder.name) if embedder is not None else None,
        )
    if embedder is not None:
        index.set_background(background_vectors(embedder))
    return index


def open_embedder(settings: Settings) -> Embedder | None:
    """The configured text encoder, or None when semantic search is switched off."""
    return load_embedder(settings.embedding_model) if settings.semantic_search else None


def content_hash(initiative: Initiative, embedder: Embedder | None = None) -> str:
    """A hash of everything the index holds about an initiative, including which model embedded it."""
    payload = json.dumps(
        [as_input_dict(initiative), embedder.name if embedder else None], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def to_documents(
    initiatives: Sequence[Initiative], embedder: Embedder | None, hashes: Sequence[str] | None = None
) -> list[SearchDocument]:
    """The index's view of initiatives (province and themes fetched), with vectors when an embedder is set.

    `hashes`, when the caller already computed them, are their `content_hash`es in the same order.
    """
    vectors: Sequence[tuple[float, ...] | None] = [None] * len(initiatives)
    if embedder is not None:
        vectors = await document_vectors(embedder, [initiative_text(i) for i in initiatives])
    known = hashes if hashes is not None else [content_hash(i, embedder) for i in initiatives]
    return [to_document(i, embedder, v, h) for i, v, h in zip(initiatives, vectors, known, strict=True)]


def to_document(
    initiative: Initiative,
    embedder: Embedder | None = None,
    vector: tuple[float, ...] | None = None,
    known_hash: str | None = None,
) -> SearchDocument:
    """The search index's view of one initiative (province and themes must be fetched)."""
    return SearchDocument(
        id=initiative.id,
        external_id=initiative.external_id,
        province=initiative.province.code,
        province_name=initiative.province.name,
        kind=str(initiative.kind),  # type: ignore[arg-type]
        title=initiative.title,
        summary=initiative.summary,
        body=initiative.body_text,
        themes=tuple(sorted(t.name for t in initiative.themes)),
        phase=str(initiative.phase),  # type: ignore[arg-type]
        programme_line=str(initiative.programme_line) if initiative.programme_line else None,
        technologies=tuple(initiative.technologies),
        suppliers=tuple(initiative.suppliers),
        status=str(initiative.status),  # type: ignore[arg-type]
        year=initiative.start_date.year if initiative.start_date else None,
        updated_at=initiative.updated_at.astimezone(UTC) if initiative.updated_at else datetime.now(UTC),
        content_hash=known_hash if known_hash is not None else content_hash(initiative, embedder),
        vector=vector,
    )


@dataclass(frozen=True)
class ReindexReport:
    indexed: int
    removed: int
    unchanged: int
    queued: int = 0  # initiatives without an embedding, handed to the job queue


BATCH = 500  # initiatives read from the database at a time
#: Documents per index write. Each write commits (and rewrites the vector file), so 20k initiatives
#: written 500 at a time spent more time committing than indexing (bench/search_latency.py --batch).
UPSERT_BATCH = 5000


async def reindex(
    index: SearchIndex,
    embedder: Embedder | None = None,
    *,
    full: bool = False,
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
    embed: bool = True,
) -> ReindexReport:
    """Bring the index in line with the database: add missing or changed initiatives, drop extra ones.

    With ``embed=False`` the encoder does not run: a stale initiative gets its cached vector, or, when
    its text was never embedded, a keyword-only document and a job in the queue (unless one waits)."""
    if full:
        index.clear()
    all_hashes = await anyio.to_thread.run_sync(index.hashes)  # ~0.25 s at 20,000: not on the event loop
    indexed_hashes = all_hashes
    # The embedded backend keeps vectors in a file of their own: a document whose vector is missing
    # (a crash between the two writes) is stale whatever its hash says. Meilisearch stores them together.
    vector_ids = getattr(index, "vector_ids", None)
    with_vector: set[int] | None = vector_ids() if vector_ids is not None and embedder is not None else None
    if with_vector is not None:
        indexed_hashes = {i: h for i, h in all_hashes.items() if i in with_vector}
    ids = [row[0] for row in await Initiative.all().order_by("id").values_list("id")]
    indexed = unchanged = 0
    pending: list[SearchDocument] = []
    unembedded: list[int] = []
    for batch in _batches(list(progress(ids) if progress else ids), BATCH):
        initiatives = await Initiative.filter(id__in=batch).prefetch_related("province", "themes")
        hashes = [content_hash(i, embedder) for i in initiatives]
        stale = [(i, h) for i, h in zip(initiatives, hashes, strict=True) if indexed_hashes.get(i.id) != h]
        unchanged += len(initiatives) - len(stale)
        if stale and (embed or embedder is None):
            pending.extend(await to_documents([i for i, _ in stale], embedder, [h for _, h in stale]))
        elif stale and embedder is not None:  # always, when the branch above did not run
            documents, missing = await _documents_from_cache(stale, embedder)
            pending.extend(documents)
            unembedded.extend(missing)
        if len(pending) >= UPSERT_BATCH:
            await anyio.to_thread.run_sync(index.upsert, pending)
            indexed += len(pending)
            pending = []
    if pending:
        await anyio.to_thread.run_sync(index.upsert, pending)
        indexed += len(pending)
    known = set(ids)
    extra = set(all_hashes) - known
    if vector_ids is not None:
        extra |= vector_ids() - known  # vectors whose document is gone (a crash inside a delete)
    if extra:
        index.delete(extra)
    queued = sorted(set(unembedded) - await embedding_jobs.pending_ids(unembedded))
    await embedding_jobs.enqueue(queued)
    return ReindexReport(indexed=indexed, removed=len(extra), unchanged=unchanged, queued=len(queued))


async def document_without_encoder(initiative: Initiative, embedder: Embedder | None) -> SearchDocument:
    """An initiative's document right after a save: with its vector when the cache has its text (an
    edit that kept the text), else keyword-only until its job embeds it."""
    if embedder is None:
        return to_document(initiative)
    documents, _missing = await _documents_from_cache([(initiative, content_hash(initiative, embedder))], embedder)
    return documents[0]


async def _documents_from_cache(
    stale: Sequence[tuple[Initiative, str]], embedder: Embedder
) -> tuple[list[SearchDocument], list[int]]:
    """Documents of stale initiatives with the vectors the cache has; the ids of those it lacks."""
    vectors = await cached_vectors(embedder, [initiative_text(i) for i, _ in stale])
    documents: list[SearchDocument] = []
    missing: list[int] = []
    for (initiative, known_hash), vector in zip(stale, vectors, strict=True):
        if vector is None:
            documents.append(to_document(initiative))  # hashed without a model: stale until embedded
            missing.append(initiative.id)
        else:
            documents.append(to_document(initiative, embedder, vector, known_hash))
    return documents, missing


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
