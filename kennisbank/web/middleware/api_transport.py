"""ADR transport rules that hold for every /api/ response, whatever route answers (or none does).

- /core/no-trailing-slash: ``/api/v1/initiatives/`` is 404, not a redirect to the path without it.
- Content negotiation: an ``Accept`` that admits no JSON gets 406 (the API speaks JSON only).
- ``Cache-Control: no-store``: API answers carry personal and concept data; no cache keeps them.
- A query key the operation does not declare in the OpenAPI document is 400, each under its key: a
  misspelt filter is not silently dropped (`kennisbank/web/api/query_keys.py`).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api.query_keys import unknown_query_keys
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


class ApiTransportMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
        elif unknown := unknown_query_keys(scope["method"], path, scope.get("query_string", b"").decode("latin-1")):
            response = invalid_parameters(unknown)
        else:
            await self.app(scope, receive, send_no_store)
            return
        await response(scope, receive, send_no_store)
