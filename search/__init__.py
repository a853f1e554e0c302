"""Kennisbank search: one interface, two backends.

    from search import SearchQuery, open_index

    index = open_index(Path("var/search"), meili_url=None, meili_key=None, index_name="kennisbank")
    index.upsert(documents)
    results = index.search(SearchQuery(text="stikstof", filters={"province": ["NL-GE"]}, facets=("theme",)))

The package knows nothing about HTTP or the database: callers build
`SearchDocument`s and render `SearchResults`.
"""

from .documents import (
    FACET_FIELDS,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
    Vector,
)
from .dutch import Synonyms, default_synonyms
from .errors import SearchUnavailable
from .index import SearchIndex, open_index

__all__ = [
    "FACET_FIELDS",
    "SearchDocument",
    "SearchHit",
    "SearchIndex",
    "SearchQuery",
    "SearchResults",
    "SearchUnavailable",
    "Synonyms",
    "Vector",
    "default_synonyms",
    "open_index",
]
