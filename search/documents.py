"""The values that cross the boundary of the search package.

Everything here is a plain frozen dataclass: the web app builds a
`SearchDocument` from its database rows and a `SearchQuery` from request
parameters, and gets `SearchResults` back. No backend type leaks out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from .dutch import terms

Kind = Literal["best_practice", "living_lab", "portfolio_project"]
Phase = Literal["idee", "verkenning", "pilot", "implementatie", "opgeschaald"]
Status = Literal["concept", "gepubliceerd", "gearchiveerd"]
Sort = Literal["relevance", "date"]
Vector = tuple[float, ...]

#: Fields that can be filtered on and counted. Filter values are always
#: strings, also for `year` ("2023").
FACET_FIELDS: tuple[str, ...] = (
    "province",
    "kind",
    "theme",
    "phase",
    "programme_line",
    "year",
    "status",
)


@dataclass(frozen=True)
class SearchDocument:
    """One initiative as the search index sees it.

    `body` is Markdown (description, lessons and results joined by the
    caller). `content_hash` is opaque to the index: it is stored so that
    `SearchIndex.hashes()` can tell the database which rows are stale.
    """

    id: int
    external_id: str
    province: str
    province_name: str
    kind: Kind
    title: str
    summary: str
    body: str
    themes: tuple[str, ...]
    phase: Phase
    programme_line: str | None
    technologies: tuple[str, ...]
    suppliers: tuple[str, ...]
    status: Status
    year: int | None
    updated_at: datetime
    content_hash: str
    vector: Vector | None = None

    def __post_init__(self) -> None:
        if self.updated_at.tzinfo is None:
            raise ValueError("updated_at must be timezone-aware (UTC)")
        if self.vector is not None and not all(math.isfinite(x) for x in self.vector):
            raise ValueError(f"document {self.id}: vector contains NaN or infinity")

    def facet_values(self, name: str) -> tuple[str, ...]:
        """The values of facet field `name` for this document, as strings."""
        if name == "theme":
            return self.themes
        if name == "year":
            return (str(self.year),) if self.year is not None else ()
        if name == "programme_line":
            return (self.programme_line,) if self.programme_line else ()
        if name in ("province", "kind", "phase", "status"):
            return (getattr(self, name),)
        raise KeyError(f"unknown facet field {name!r}")

    @property
    def updated_at_utc(self) -> datetime:
        return self.updated_at.astimezone(UTC)


@dataclass(frozen=True)
class SearchQuery:
    """What the user asked for.

    `filters` maps facet fields to accepted values: values within one field
    are OR-ed, fields are AND-ed. An empty `text` lists every document that
    passes the filters, newest first. `semantic_ratio` blends keyword (0.0)
    and vector (1.0) ranking and only has an effect when `vector` is given.
    """

    text: str = ""
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 10
    vector: Vector | None = None
    semantic_ratio: float = 0.0
    facets: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError("page is 1-based")
        if not 1 <= self.per_page <= 1000:
            raise ValueError("per_page must be between 1 and 1000")
        if not 0.0 <= self.semantic_ratio <= 1.0:
            raise ValueError("semantic_ratio must be within [0, 1]")
        if self.sort not in ("relevance", "date"):
            raise ValueError(f"unknown sort {self.sort!r}")
        unknown = (set(self.filters) | set(self.facets)) - set(FACET_FIELDS)
        if unknown:
            raise ValueError(f"unknown facet field(s): {', '.join(sorted(unknown))}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def active_filters(self) -> dict[str, tuple[str, ...]]:
        """The filters that actually restrict something (non-empty value lists)."""
        return {name: tuple(values) for name, values in self.filters.items() if values}

    @property
    def uses_vector(self) -> bool:
        """Whether meaning counts: with a vector and a semantic share, unless the text holds no word (the
        vector of "%" or an emoji lies somewhere, near nothing in particular; a vector without text
        is a search by meaning alone)."""
        meaningless = bool(self.text.strip()) and not terms(self.text)
        return self.vector is not None and self.semantic_ratio > 0.0 and not meaningless


@dataclass(frozen=True)
class SearchHit:
    """One result. `highlights` values are safe to put in HTML as-is:
    all text is escaped and matches are wrapped in ``<mark>…</mark>``.
    Keys: "title" and "summary" always, "body" (a snippet) when the body
    matched. `score` only orders hits within one result list: its scale
    differs per backend and fusion, and it is 0.0 when sorted by date."""

    id: int
    score: float
    highlights: dict[str, str]


@dataclass(frozen=True)
class SearchResults:
    """`related` ("Misschien verwant") is given only when nothing was found: the nearest documents in
    meaning of a query that came close to the corpus without showing enough to count as hits. They
    are not results, have no highlights, and count in no total or facet."""

    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    took_ms: float
    related: list[SearchHit] = field(default_factory=list)
