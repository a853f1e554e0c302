"""The query keys each API operation takes, read from its OpenAPI document: the one declaration of
them. A key an operation does not declare is refused (400) instead of ignored, so a misspelt filter
(``?provincie=Limburg``, ``?per_page=5``) never answers with everything as if it were applied."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl

from .openapi import openapi_document

#: (method, compiled path pattern, the query keys declared) per documented operation.
_Operation = tuple[str, re.Pattern[str], frozenset[str]]


@lru_cache(maxsize=1)
def _operations() -> tuple[_Operation, ...]:
    document = openapi_document()
    prefix = document["servers"][0]["url"]
    found: list[_Operation] = []
    for path, operations in document["paths"].items():
        pattern = re.compile("^" + re.escape(prefix) + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in operations.items():
            keys = frozenset(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
            found.append((method.upper(), pattern, keys))
    return tuple(found)


def unknown_query_keys(method: str, path: str, query_string: str) -> dict[str, list[str]]:
    """Per key that the operation at `path` does not declare, a Dutch message naming those it does;
    empty for an undocumented path (routing answers that one)."""
    method = "GET" if method == "HEAD" else method
    for operation_method, pattern, declared in _operations():
        if operation_method == method and pattern.match(path):
            sent = {key for key, _ in parse_qsl(query_string, keep_blank_values=True)}
            known = ", ".join(sorted(declared)) if declared else "geen"
            return {key: [f"Onbekende parameter. Deze bewerking kent: {known}."] for key in sorted(sent - declared)}
    return {}
