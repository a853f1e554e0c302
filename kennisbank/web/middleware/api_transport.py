"""ADR transport rules that hold for every /api/ response, whatever route answers (or none does).

- /core/no-trailing-slash: ``/api/v1/initiatives/`` is 404, not a redirect to the path without it.
- Content negotiation: an ``Accept`` that admits no JSON gets 406 (the API speaks JSON only).
- ``Cache-Control: no-store``: API answers carry personal and concept data; no cache keeps them.
- A query key the operation does not declare in the OpenAPI document is 400, each under its key: a
  misspelt filter (``?provincie=Limburg``, ``?per_page=5``) answered with everything, as if it had
  been applied. The app factory hands the document over (`DeclaredQueryKeys.from_openapi`), so the
  document stays the one declaration of the keys and this layer imports no API module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import invalid_parameters, problem

_JSON_TYPES = {"*/*", "application/*", "application/json", "application/problem+json"}


def accepts_json(accept: str) -> bool:
    """Whether an Accept header admits JSON (q=0 refuses a type); no header admits everything."""
    if not accept.strip():
        return True
    for entry in accept.split(","):
        media_type, *parameters = (part.strip() for part in entry.split(";"))
        refused = any(p.replace(" ", "").lower() in {"q=0", "q=0.0", "q=0.00", "q=0.000"} for p in parameters)
        if not refused and media_type.lower() in _JSON_TYPES:
            return True
    return False


@dataclass(frozen=True)
class DeclaredQueryKeys:
    """Per documented operation: its method, its path as a pattern, and the query keys it declares."""

    operations: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = ()

    @classmethod
    def from_openapi(cls, document: Mapping[str, Any]) -> DeclaredQueryKeys:
        prefix = document["servers"][0]["url"]
        operations = []
        for path, methods in document["paths"].items():
            pattern = re.compile("^" + re.escape(prefix) + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
            for method, operation in methods.items():
                keys = frozenset(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
                operations.append((method.upper(), pattern, keys))
        return cls(tuple(operations))

    def unknown(self, method: str, path: str, query_string: str) -> dict[str, list[str]]:
        """Per key that the operation at `path` does not declare, a Dutch message naming those it does;
        empty for an undocumented path (routing answers that one)."""
        method = "GET" if method == "HEAD" else method
        for operation_method, pattern, declared in self.operations:
            if operation_method == method and pattern.match(path):
                sent = {key for key, _ in parse_qsl(query_string, keep_blank_values=True)}
                known = ", ".join(sorted(declared)) if declared else "geen"
                return {key: [f"Onbekende parameter. Deze bewerking kent: {known}."] for key in sorted(sent - declared)}
        return {}


class ApiTransportMiddleware:
    def __init__(self, app: ASGIApp, query_keys: DeclaredQueryKeys | None = None) -> None:
        self.app = app
        self.query_keys = query_keys or DeclaredQueryKeys()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message["headers"] = [*headers, (b"cache-control", b"no-store")]
            await send(message)

        accept = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"accept"), "")
        if path.endswith("/"):
            response = problem(404, "Niet gevonden", "Dit adres bestaat niet; laat de slash aan het eind weg.")
        elif not accepts_json(accept):
            response = problem(406, "Niet aanvaardbaar", "Deze API antwoordt alleen in JSON (application/json).")
        elif unknown := self.query_keys.unknown(
            scope["method"], path, scope.get("query_string", b"").decode("latin-1")
        ):
            response = invalid_parameters(unknown)
        else:
            await self.app(scope, receive, send_no_store)
            return
        await response(scope, receive, send_no_store)
