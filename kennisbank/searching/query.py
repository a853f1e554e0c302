"""Searching initiatives: request parameters in, ranked initiatives with highlights and facets out."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import anyio.to_thread
from markupsafe import Markup

from search import FACET_FIELDS, SearchHit, SearchIndex, SearchQuery, SearchResults, SearchUnavailable
from search.embeddings import Embedder

from ..initiatives.filters import range_message, read_filters, whole_number
from ..initiatives.service import as_reference
from ..initiatives.validation import InputError
from ..models import Initiative
from ..taxonomy import (
    KIND_LABELS,
    PHASE_LABELS,
    PROGRAMME_LINE_LABELS,
    PROVINCE_BY_CODE,
    STATUS_LABELS,
    THEME_BY_SLUG,
    Status,
)
from .embedding_cache import cached_vectors, initiative_text, query_vector

logger = logging.getLogger("kennisbank.search")

MAX_QUERY_LENGTH = 200
MIN_DRAFT_LENGTH = 20
#: The most of a draft (its title and summary) the duplicate hint embeds: it asks on every keystroke.
MAX_DRAFT_LENGTH = 2000
MAX_PER_PAGE = 100
#: The filters a visitor sets on the search page, in the page's order: the query keys a saved search keeps
#: (with the words, ``q``) and names. The index also filters on ``status``, which search sets itself.
SEARCH_FILTERS: tuple[str, ...] = ("province", "kind", "theme", "phase", "programme_line", "year")


def option_label(name: str) -> str:
    """What the search page calls one of its options, for its messages about unusable ones."""
    return _OPTION_LABELS.get(name) or FACET_TITLES.get(name, name)


_OPTION_LABELS = {
    "q": "Zoekwoorden",
    "sort": "Sorteren op",
    "page": "Pagina",
    "pagina": "Pagina",
    "per_page": "Aantal per pagina",
}

FACET_TITLES = {
    "province": "Provincie",
    "kind": "Soort",
    "theme": "Thema",
    "phase": "Fase",
    "programme_line": "IDA-programmalijn",
    "year": "Startjaar",
    "status": "Status",
}


def facet_label(name: str, value: str) -> str:
    labels = {
        "province": {c: p.name for c, p in PROVINCE_BY_CODE.items()},
        "kind": KIND_LABELS,
        "phase": PHASE_LABELS,
        "programme_line": PROGRAMME_LINE_LABELS,
        "status": STATUS_LABELS,
    }
    return labels.get(name, {}).get(value, value)


@dataclass(frozen=True)
class Found:
    initiative: Initiative
    hit: SearchHit

    def highlighted(self, name: str) -> Markup:
        """The index escapes all text and adds only <mark> tags, so its highlights are safe HTML."""
        return Markup(self.hit.highlights.get(name, ""))

    def snippet(self) -> Markup:
        """The summary, unless only the longer text matched: then the matching passage from it."""
        summary = self.hit.highlights.get("summary", "")
        body = self.hit.highlights.get("body", "")
        return Markup(body if body and "<mark>" not in summary else summary)


@dataclass(frozen=True)
class SearchPage:
    query: SearchQuery
    total: int
    items: list[Found]
    facets: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)  # name → (value, label, count)
    took_ms: float = 0.0
    #: "Misschien verwant": when nothing was found, the nearest initiatives of a query that came close
    #: (`search.SearchResults.related`); not results, and counted nowhere.
    related: list[Initiative] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))

    def is_active(self, name: str, value: str) -> bool:
        return value in self.query.filters.get(name, ())


def parse_query(params: Mapping[str, Sequence[str]], per_page: int = 20) -> SearchQuery:
    """Read a search from query parameters; raise InputError with Dutch messages for what is unusable."""
    query, errors = read_query(params, per_page)
    if errors:
        raise InputError(errors)
    return query


def read_query(params: Mapping[str, Sequence[str]], per_page: int = 20) -> tuple[SearchQuery, dict[str, list[str]]]:
    """The search in query parameters with each unusable option left at its default (words too long
    shortened at a word), and Dutch messages per option for those: the search page searches what it
    can and says what it left out, where the API refuses (`parse_query`)."""
    errors: dict[str, list[str]] = {}
    text = (params.get("q") or [""])[0].strip()
    if len(text) > MAX_QUERY_LENGTH:
        errors["q"] = [f"Gebruik maximaal {MAX_QUERY_LENGTH} tekens."]
        text = _shortened(text, MAX_QUERY_LENGTH)
    filters, filter_errors = read_filters(params, FACET_FIELDS)
    errors.update(filter_errors)
    if "theme" in filters:  # the index knows themes by name
        filters["theme"] = tuple(THEME_BY_SLUG[slug].name for slug in filters["theme"])
    filters.setdefault("status", (Status.GEPUBLICEERD,))
    sort = (params.get("sort") or ["relevance"])[0]
    if sort not in ("relevance", "date"):
        errors["sort"] = ["Kies ‘relevance’ (relevantie) of ‘date’ (laatst gewijzigd)."]
        sort = "relevance"
    page = _whole(params, "page", 1, 10_000, errors) or _whole(params, "pagina", 1, 10_000, errors) or 1
    size = _whole(params, "per_page", 1, MAX_PER_PAGE, errors) or per_page
    query = SearchQuery(text=text, filters=filters, sort=sort, page=page, per_page=size, facets=FACET_FIELDS)  # type: ignore[arg-type]
    return query, errors


def _shortened(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at the last space when there is one."""
    cut = text[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut.strip() else cut).strip()


def _whole(
    params: Mapping[str, Sequence[str]], name: str, low: int, high: int, errors: dict[str, list[str]]
) -> int | None:
    values = params.get(name)
    if not values or not values[0]:
        return None
    value = whole_number(values[0], low, high)
    if value is None:
        errors[name] = [range_message(low, high)]
    return value


async def run_search(
    index: SearchIndex, query: SearchQuery, embedder: Embedder | None = None, semantic_ratio: float = 0.5
) -> SearchPage:
    """Keyword search, made hybrid when an embedder is given: the query embedding finds initiatives
    that share meaning but no words with it (English or paraphrased queries)."""
    if embedder is not None and query.text and semantic_ratio > 0:
        query = replace(query, vector=await query_vector(embedder, query.text), semantic_ratio=semantic_ratio)
    results: SearchResults = await anyio.to_thread.run_sync(index.search, query)
    initiatives = {i.id: i for i in await _in_order([hit.id for hit in [*results.hits, *results.related]])}
    items = [Found(initiatives[hit.id], hit) for hit in results.hits if hit.id in initiatives]
    related = [initiatives[hit.id] for hit in results.related if hit.id in initiatives]
    facets = {
        name: sorted(
            ((value, facet_label(name, value), count) for value, count in counts.items()),
            key=lambda row: (-row[2], row[1]) if name != "year" else (row[0],),
        )
        for name, counts in results.facets.items()
    }
    return SearchPage(
        query=query, total=results.total, items=items, facets=facets, took_ms=results.took_ms, related=related
    )


def as_json(result: SearchPage) -> dict[str, Any]:
    """The search result as the API and ``kennisbank search --json`` return it."""
    return {
        "total": result.total,
        "page": result.query.page,
        "per_page": result.query.per_page,
        "hits": [
            {**_reference(found.initiative), "score": round(found.hit.score, 6), "highlight": found.hit.highlights}
            for found in result.items
        ],
        "facets": {name: {value: count for value, _label, count in rows} for name, rows in result.facets.items()},
        "took_ms": round(result.took_ms, 2),
        "related": [_reference(initiative) for initiative in result.related],
    }


def _reference(initiative: Initiative) -> dict[str, Any]:
    """What a search answer says of one initiative it names: its reference, kind and phase."""
    return {**as_reference(initiative), "kind": str(initiative.kind), "phase": str(initiative.phase)}


@dataclass(frozen=True)
class SimilarInitiative:
    """A neighbour in meaning, with the reason a reader sees next to it."""

    initiative: Initiative
    reason: str


def similarity_reason(initiative: Initiative, other: Initiative) -> str:
    """What two similar initiatives visibly share, in Dutch: suppliers, technologies, themes; else their
    descriptions, which is what the neighbour search compared."""

    def shared(ours: Sequence[str], theirs: Sequence[str]) -> list[str]:
        return sorted(set(ours) & set(theirs), key=str.lower)

    parts = []
    if suppliers := shared(initiative.suppliers, other.suppliers):
        parts.append(("leverancier " if len(suppliers) == 1 else "leveranciers ") + ", ".join(suppliers))
    if technologies := shared(initiative.technologies, other.technologies):
        parts.append(", ".join(technologies[:3]))
    if themes := shared([t.name for t in initiative.themes], [t.name for t in other.themes]):
        parts.append(("thema " if len(themes) == 1 else "thema's ") + ", ".join(themes[:2]))
    return "Gedeeld: " + "; ".join(parts) if parts else "De beschrijvingen lijken op elkaar"


async def similar_initiatives(
    index: SearchIndex, embedder: Embedder | None, initiative: Initiative, limit: int = 5
) -> list[SimilarInitiative] | None:
    """Published initiatives closest in meaning, other provinces first: they are what a province
    can learn from or team up with; its own related work comes after.

    None while the initiative's text has no embedding yet (its job is queued): a page never waits
    for the encoder."""
    if embedder is None:
        return []
    [vector] = await cached_vectors(embedder, [initiative_text(initiative)])
    if vector is None:
        return None
    pairs = await _similar_or_none(
        index, vector, limit=limit * 3, filters={"status": (Status.GEPUBLICEERD,)}, exclude_ids=(initiative.id,)
    )
    ranked = await _in_order([doc_id for doc_id, _score in pairs])
    own = initiative.province.code
    nearest = sorted(ranked, key=lambda other: other.province.code == own)[:limit]
    return [SimilarInitiative(other, similarity_reason(initiative, other)) for other in nearest]


async def similar_to_draft(
    index: SearchIndex, embedder: Embedder | None, text: str, limit: int = 3
) -> list[Initiative]:
    """Published initiatives that resemble a draft, so a duplicate is caught before it is posted.

    The draft is embedded directly, not through the cache: drafts change with every keystroke."""
    if embedder is None or len(text.strip()) < MIN_DRAFT_LENGTH:
        return []
    matrix = await anyio.to_thread.run_sync(embedder.embed_documents, [text[:MAX_DRAFT_LENGTH]])
    vector = tuple(float(x) for x in matrix[0])
    pairs = await _similar_or_none(index, vector, limit=limit, filters={"status": (Status.GEPUBLICEERD,)})
    return await _in_order([doc_id for doc_id, _score in pairs])


async def _similar_or_none(index: SearchIndex, vector: tuple[float, ...], **options: Any) -> list[tuple[int, float]]:
    """Nearest neighbours, or none while the search server is down: they only add to a page."""
    try:
        return await anyio.to_thread.run_sync(lambda: index.similar(vector, **options))
    except SearchUnavailable:
        logger.warning("similar initiatives left out: the search server is unavailable", exc_info=True)
        return []


async def _in_order(ids: Sequence[int]) -> list[Initiative]:
    """The initiatives behind index hits, in the index's order; ids the database no longer has
    (a crash before the next reindex) are skipped."""
    by_id = {i.id: i for i in await Initiative.filter(id__in=list(ids)).prefetch_related("province", "themes")}
    return [by_id[i] for i in ids if i in by_id]


NO_PROVINCE = "-"  # a province filter value that matches nothing


def restrict_to_viewer(query: SearchQuery, concept_provinces: tuple[str, ...] | None) -> SearchQuery:
    """Limit concepts to the provinces whose concepts the viewer may see (None: all, for coordinators).

    Asking for concepts together with other statuses drops the concepts; asking for concepts alone
    narrows the province filter to the viewer's own province."""
    statuses = tuple(query.filters.get("status", ()))
    if concept_provinces is None or Status.CONCEPT not in statuses:
        return query
    others = tuple(s for s in statuses if s != Status.CONCEPT)
    if others or not concept_provinces:
        return replace(query, filters={**query.filters, "status": others or (Status.GEPUBLICEERD,)})
    wanted = query.filters.get("province") or concept_provinces
    allowed = tuple(p for p in wanted if p in concept_provinces) or (NO_PROVINCE,)
    return replace(query, filters={**query.filters, "province": allowed})
