"""The production backend: a Meilisearch index, through the `meilisearch` client.

Meilisearch does typo tolerance, prefix search, synonyms, facets and hybrid
search itself. It has no Dutch stemming, so documents carry extra
`title_stems`/`text_stems` fields built with `dutch.stem`, and the query
sent as `q` is the stemmed form of what the user typed (stop words
removed, as in the embedded backend). Synonyms are registered both as
written and in stemmed form for the same reason.

Every write waits for its task, so the next search sees it.

When the server is down or does not answer within `REQUEST_TIMEOUT_SECONDS`, every method raises
`SearchUnavailable`; the index settings are applied on the first call that reaches the server, so
the app can start while Meilisearch is still down.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import meilisearch
import numpy as np
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError

from .documents import FACET_FIELDS, SearchDocument, SearchHit, SearchQuery, SearchResults, Vector
from .dutch import STOP_WORDS, Concept, Synonyms, default_synonyms, stem, terms
from .errors import SearchUnavailable
from .highlight import from_sentinels
from .text import plain_text

EMBEDDER = "default"
MARK_START, MARK_END = "\ue000", "\ue001"  # private-use sentinels, escaped later
TASK_TIMEOUT_MS = 120_000
MAX_HITS = 100_000
#: Per HTTP request (connect, then read): a search page must not hang on a server that is gone.
REQUEST_TIMEOUT_SECONDS = 5

logger = logging.getLogger("kennisbank.search")

SEARCHABLE = [
    "title",
    "title_stems",
    "summary",
    "themes",
    "technologies",
    "body",
    "text_stems",
    "province_name",
    "programme_line",
    "suppliers",
    "external_id",
]


def _reachable(method: Callable[..., Any]) -> Callable[..., Any]:
    """Apply the index settings first if that has not happened yet, and turn "no server" into
    `SearchUnavailable`."""

    @functools.wraps(method)
    def wrapper(self: MeiliIndex, *args: Any, **kwargs: Any) -> Any:
        try:
            self._set_up()
            return method(self, *args, **kwargs)
        except (MeilisearchCommunicationError, MeilisearchTimeoutError) as error:
            raise SearchUnavailable(f"Meilisearch at {self._url} is unavailable: {error}") from error

    return wrapper


class MeiliIndex:
    """`SearchIndex` backed by the Meilisearch index `index_name`.

    Pass `embedding_dimensions` when documents will carry vectors; otherwise
    the embedder is configured on the first upsert that has vectors.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None,
        index_name: str,
        *,
        synonyms: Synonyms | None = None,
        embedding_dimensions: int | None = None,
        client: meilisearch.Client | None = None,
    ) -> None:
        self.synonyms = synonyms or default_synonyms()
        self._client = client or meilisearch.Client(url, api_key, timeout=REQUEST_TIMEOUT_SECONDS)
        self._url = url
        self._name = index_name
        self._index = self._client.index(index_name)
        self._wanted_dimensions = embedding_dimensions
        self._dimensions: int | None = None
        self._ready = False
        try:
            self._connect()
        except SearchUnavailable:
            logger.warning("Meilisearch at %s is unavailable; the index is set up once it answers", url)

    # -- writing -------------------------------------------------------

    @_reachable
    def upsert(self, docs: Iterable[SearchDocument]) -> None:
        latest = list({doc.id: doc for doc in docs}.values())
        if not latest:
            return
        dimensions = {len(doc.vector) for doc in latest if doc.vector is not None}
        if len(dimensions) > 1 or (self._dimensions and dimensions - {self._dimensions}):
            raise ValueError(f"vector dimensions {sorted(dimensions)} do not match the index ({self._dimensions})")
        if dimensions and not self._dimensions:
            self._dimensions = dimensions.pop()
            self._wait(self._index.update_embedders(embedder_settings(self._dimensions)))
        payload = [meili_document(doc, with_vectors=bool(self._dimensions)) for doc in latest]
        self._wait(self._index.add_documents(payload, primary_key="id"))

    @_reachable
    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        if ids:
            self._wait(self._index.delete_documents(filter=f"id IN [{', '.join(map(str, ids))}]"))

    @_reachable
    def clear(self) -> None:
        self._wait(self._index.delete_all_documents())

    def close(self) -> None:
        """The client holds no resources that need closing."""

    # -- reading -------------------------------------------------------

    @_reachable
    def count(self) -> int:
        return self._index.get_stats().number_of_documents

    @_reachable
    def hashes(self) -> dict[int, str]:
        found: dict[int, str] = {}
        offset, page = 0, 1000
        while True:
            batch = self._index.get_documents({"fields": ["id", "content_hash"], "limit": page, "offset": offset})
            found.update((int(d.id), d.content_hash) for d in batch.results)
            offset += page
            if offset >= batch.total:
                return found

    def set_background(self, vectors: np.ndarray | None) -> None:
        """Kept for the protocol; Meilisearch ranks its hybrid search on the server, so the semantic
        floor of the embedded index is not applied there (see README, Search)."""
        self._background = vectors

    @_reachable
    def similar(
        self,
        vector: Vector,
        *,
        limit: int = 10,
        filters: Mapping[str, Sequence[str]] | None = None,
        exclude_ids: Iterable[int] = (),
    ) -> list[tuple[int, float]]:
        if not self._dimensions:
            return []
        params: dict[str, Any] = {
            "vector": list(vector),
            "hybrid": {"semanticRatio": 1.0, "embedder": EMBEDDER},
            "limit": limit,
            "retrieveVectors": True,
            "attributesToRetrieve": ["id"],
        }
        expression = filter_expression(filters or {}, exclude_ids)
        if expression:
            params["filter"] = expression
        response = self._index.search("", params)
        scored = [(int(hit["id"]), cosine(vector, v)) for hit in response["hits"] if (v := hit_vector(hit)) is not None]
        return sorted(scored, key=lambda item: (-item[1], item[0]))[:limit]

    @_reachable
    def search(self, query: SearchQuery) -> SearchResults:
        started = time.perf_counter()
        concepts = self.synonyms.concepts(query.text)
        semantic = query.uses_vector and bool(self._dimensions)
        if query.text.strip() and not concepts and not semantic:
            return SearchResults(0, [], {name: {} for name in query.facets}, _ms_since(started))
        response = self._index.search(meili_text(concepts), search_params(query, concepts, semantic))
        hits = [
            SearchHit(int(hit["id"]), float(hit.get("_rankingScore", 0.0)), hit_highlights(hit))
            for hit in response["hits"]
        ]
        total = int(response.get("totalHits", response.get("estimatedTotalHits", len(hits))))
        distribution = response.get("facetDistribution") or {}
        facets = {name: {str(k): int(v) for k, v in distribution.get(name, {}).items()} for name in query.facets}
        return SearchResults(total, hits, facets, _ms_since(started))

    # -- setup ---------------------------------------------------------

    @_reachable
    def _connect(self) -> None:
        """Set the index up now if the server answers (`_reachable` does the work)."""

    def _set_up(self) -> None:
        if not self._ready:
            self._dimensions = self._ensure_index(self._wanted_dimensions)
            self._ready = True

    def _ensure_index(self, dimensions: int | None) -> int | None:
        """Create the index if needed, apply settings, return the embedder's dimensions."""
        try:
            current = self._index.get_settings()
        except MeilisearchApiError as error:
            if error.code != "index_not_found":
                raise
            self._wait(self._client.create_index(self._name, {"primaryKey": "id"}))
            current = {}
        configured: int | None = (current.get("embedders") or {}).get(EMBEDDER, {}).get("dimensions")
        settings = meili_settings(self.synonyms)
        if dimensions and dimensions != configured:
            settings["embedders"] = embedder_settings(dimensions)
            configured = dimensions
        self._wait(self._index.update_settings(settings))
        return configured

    def _wait(self, task: Any) -> None:
        done = self._client.wait_for_task(task.task_uid, timeout_in_ms=TASK_TIMEOUT_MS)
        if done.status != "succeeded":
            raise RuntimeError(f"Meilisearch task {done.uid} ({done.type}) {done.status}: {done.error}")


# -- payloads (pure functions, unit-tested without a server) -------------------


def meili_settings(synonyms: Synonyms) -> dict[str, Any]:
    return {
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": [*FACET_FIELDS, "id"],
        "sortableAttributes": ["updated_at_ts"],
        "displayedAttributes": ["id", "title", "summary", "body", "content_hash"],
        "stopWords": sorted(STOP_WORDS),
        "synonyms": stemmed_synonyms(synonyms),
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        "faceting": {"maxValuesPerFacet": 1000},
        "pagination": {"maxTotalHits": MAX_HITS},
    }


def embedder_settings(dimensions: int) -> dict[str, Any]:
    return {EMBEDDER: {"source": "userProvided", "dimensions": dimensions}}


def stemmed_synonyms(synonyms: Synonyms) -> dict[str, list[str]]:
    """Each phrase, as written and as stemmed terms, maps to all other forms
    of its group: queries reach Meilisearch stemmed."""
    mapping: dict[str, list[str]] = {}
    for group in synonyms.groups:
        forms: list[str] = []
        for phrase in group:
            for form in (phrase.lower(), " ".join(stem(t) for t in terms(phrase))):
                if form not in forms:
                    forms.append(form)
        for form in forms:
            mapping.setdefault(form, [])
            mapping[form].extend(f for f in forms if f != form and f not in mapping[form])
    return mapping


def meili_document(doc: SearchDocument, *, with_vectors: bool) -> dict[str, Any]:
    body = plain_text(doc.body)
    extra = [
        doc.summary,
        body,
        doc.province_name,
        doc.programme_line or "",
        *doc.themes,
        *doc.technologies,
        *doc.suppliers,
    ]
    payload: dict[str, Any] = {
        "id": doc.id,
        "external_id": doc.external_id,
        "title": doc.title,
        "summary": doc.summary,
        "body": body,
        "province_name": doc.province_name,
        "themes": list(doc.themes),
        "technologies": list(doc.technologies),
        "suppliers": list(doc.suppliers),
        "title_stems": " ".join(stem(t) for t in terms(doc.title)),
        "text_stems": " ".join(stem(t) for t in terms(" \n".join(extra))),
        "updated_at_ts": int(doc.updated_at_utc.timestamp()),
        "content_hash": doc.content_hash,
    }
    for name in FACET_FIELDS:
        values = list(doc.facet_values(name))
        payload[name] = values if name == "theme" else (values[0] if values else None)
    if with_vectors:
        payload["_vectors"] = {EMBEDDER: list(doc.vector) if doc.vector is not None else None}
    return payload


def meili_text(concepts: Sequence[Concept]) -> str:
    """The `q` for Meilisearch: what the user typed, stemmed, without stop words."""
    return " ".join(stem(word) for concept in concepts for word in concept.typed)


def filter_expression(filters: Mapping[str, Sequence[str]], exclude_ids: Iterable[int] = ()) -> str:
    unknown = set(filters) - set(FACET_FIELDS)
    if unknown:
        raise ValueError(f"unknown filter field(s): {', '.join(sorted(unknown))}")
    clauses = [
        f"{name} IN [{', '.join(json.dumps(str(v), ensure_ascii=False) for v in values)}]"
        for name, values in filters.items()
        if values
    ]
    excluded = [str(int(i)) for i in exclude_ids]
    if excluded:
        clauses.append(f"id NOT IN [{', '.join(excluded)}]")
    return " AND ".join(clauses)


def search_params(query: SearchQuery, concepts: Sequence[Concept], semantic: bool) -> dict[str, Any]:
    params: dict[str, Any] = {
        "page": query.page,
        "hitsPerPage": query.per_page,
        "matchingStrategy": "all",
        "attributesToRetrieve": ["id"],
        "attributesToHighlight": ["title", "summary", "body"],
        "attributesToCrop": ["summary:60", "body:36"],
        "cropMarker": "…",
        "highlightPreTag": MARK_START,
        "highlightPostTag": MARK_END,
        "showRankingScore": True,
    }
    expression = filter_expression(query.active_filters)
    if expression:
        params["filter"] = expression
    if query.facets:
        params["facets"] = list(query.facets)
    if query.sort == "date" or not (concepts or semantic):
        params["sort"] = ["updated_at_ts:desc"]
    if semantic:
        ratio = query.semantic_ratio if concepts else 1.0
        params["vector"] = list(query.vector or ())
        params["hybrid"] = {"semanticRatio": ratio, "embedder": EMBEDDER}
    return params


def hit_highlights(hit: Mapping[str, Any]) -> dict[str, str]:
    formatted = hit.get("_formatted") or {}
    highlights = {
        "title": from_sentinels(str(formatted.get("title", "")), MARK_START, MARK_END),
        "summary": from_sentinels(str(formatted.get("summary", "")), MARK_START, MARK_END),
    }
    body = str(formatted.get("body", ""))
    if MARK_START in body:
        highlights["body"] = from_sentinels(body, MARK_START, MARK_END)
    return highlights


def hit_vector(hit: Mapping[str, Any]) -> list[float] | None:
    """The embedding of a hit retrieved with `retrieveVectors`."""
    entry = (hit.get("_vectors") or {}).get(EMBEDDER)
    if isinstance(entry, dict):
        entry = entry.get("embeddings")
    if not entry:
        return None
    return entry[0] if isinstance(entry[0], list) else entry


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    return dot / norm if norm else 0.0


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
