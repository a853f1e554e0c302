"""Collaborations in the JSON API: list, get, create, change stage, owner and next action, add notes
and links.

Who may do what is the service's question (kennisbank/matching/collaborations.py); a refusal is a 403
problem; a change of the collaboration's own fields (stage, owner, next action) needs ``If-Match``
with the version, like changing an initiative. Notes and links are appended and need none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...matching import collaborations as service
from ..list_filters import collaboration_filters
from ..middleware.auth import actor
from ..params import MAX_ID, VersionMalformed, VersionMissing, api_errors, api_params, if_match_version, json_object
from ..problems import invalid_input, invalid_parameters

CREATE_FIELDS = {"initiatives", "type", "title", "owner"}
STAGE_FIELDS = {"stage", "reason"}
NOTE_FIELDS = {"note"}
LINK_FIELDS = {"url", "label"}
NEXT_ACTION_FIELDS = {"next_action", "due"}
OWNER_FIELDS = {"owner"}


def _with_etag(collaboration: Any, status_code: int = 200) -> Response:
    return JSONResponse(
        service.as_json(collaboration), status_code=status_code, headers={"ETag": f'"{collaboration.version}"'}
    )


def _unknown(body: dict[str, Any], allowed: set[str]) -> dict[str, list[str]]:
    return {name: ["Onbekend veld."] for name in sorted(set(body) - allowed)}


def _string(body: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        errors[name] = ["Verwacht tekst."]
        return ""
    if required and not value.strip():
        errors[name] = ["Verplicht veld."]
    return value


async def list_collaborations(request: Request) -> Response:
    params = api_params(request)
    filters, errors = collaboration_filters(params)
    if errors:
        return invalid_parameters(api_errors(errors))
    rows = await service.list_for(actor(request), filters)
    return JSONResponse({"total": len(rows), "items": [service.summary_json(row) for row in rows]})


async def get_collaboration(request: Request) -> Response:
    collaboration = await service.get_for(actor(request), request.path_params["collaboration_id"])
    return _with_etag(collaboration)


async def create_collaboration(request: Request) -> Response:
    body = await json_object(request)
    if isinstance(body, Response):
        return body
    errors = _unknown(body, CREATE_FIELDS)
    ids = body.get("initiatives")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_ID for i in ids
    ):
        errors["initiatives"] = ["Verplicht: een lijst van nummers van initiatieven."]
        ids = []
    kind = _string(body, "type", errors, required=True)
    title = _string(body, "title", errors)
    owner = body.get("owner")
    if owner is not None and not (isinstance(owner, int) and not isinstance(owner, bool) and 1 <= owner <= MAX_ID):
        errors["owner"] = ["Het nummer van een IDA-coördinator."]
    if errors:
        return invalid_input(errors)
    collaboration = await service.create(actor(request), ids, kind, title=title, owner_id=owner)
    return _with_etag(collaboration, 201)


async def _versioned_change(
    request: Request,
    allowed: set[str],
    read: Callable[[dict[str, Any], dict[str, list[str]]], Any],
    change: Callable[[Any, int], Awaitable[Any]],
) -> Response:
    """A change of the collaboration's own fields: If-Match, a checked body, then the service."""
    version = if_match_version(
        request,
        missing=VersionMissing(title="Versie ontbreekt", detail="Stuur If-Match mee met de versie (de ETag van GET)."),
        malformed=VersionMalformed(
            title="Versieconflict", detail="If-Match noemt geen geldige versie van deze samenwerking."
        ),
    )
    body = await json_object(request)
    if isinstance(body, Response):
        return body
    errors = _unknown(body, allowed)
    values = read(body, errors)
    if errors:
        return invalid_input(errors)
    collaboration = await change(values, version)
    return _with_etag(collaboration)


async def change_stage(request: Request) -> Response:
    def read(body: dict[str, Any], errors: dict[str, list[str]]) -> tuple[str, str]:
        return _string(body, "stage", errors, required=True), _string(body, "reason", errors)

    async def change(values: tuple[str, str], version: int) -> Any:
        return await service.change_stage(
            actor(request),
            request.path_params["collaboration_id"],
            values[0],
            reason=values[1],
            expected_version=version,
        )

    return await _versioned_change(request, STAGE_FIELDS, read, change)


def _due_date(body: dict[str, Any], errors: dict[str, list[str]]) -> date | None:
    value = body.get("due")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors["due"] = ["Een datum als JJJJ-MM-DD, of null."]
    return None


async def set_next_action(request: Request) -> Response:
    def read(body: dict[str, Any], errors: dict[str, list[str]]) -> tuple[str, date | None]:
        return _string(body, "next_action", errors), _due_date(body, errors)

    async def change(values: tuple[str, date | None], version: int) -> Any:
        return await service.set_next_action(
            actor(request), request.path_params["collaboration_id"], values[0], values[1], expected_version=version
        )

    return await _versioned_change(request, NEXT_ACTION_FIELDS, read, change)


async def set_owner(request: Request) -> Response:
    def read(body: dict[str, Any], errors: dict[str, list[str]]) -> int:
        owner = body.get("owner")
        if not (isinstance(owner, int) and not isinstance(owner, bool) and 1 <= owner <= MAX_ID):
            errors["owner"] = ["Verplicht: het nummer van een IDA-coördinator."]
            return 0
        return owner

    async def change(owner: int, version: int) -> Any:
        return await service.set_owner(
            actor(request), request.path_params["collaboration_id"], owner, expected_version=version
        )

    return await _versioned_change(request, OWNER_FIELDS, read, change)


async def add_note(request: Request) -> Response:
    body = await json_object(request)
    if isinstance(body, Response):
        return body
    errors = _unknown(body, NOTE_FIELDS)
    note = _string(body, "note", errors, required=True)
    if errors:
        return invalid_input(errors)
    collaboration = await service.add_note(actor(request), request.path_params["collaboration_id"], note)
    return _with_etag(collaboration, 201)


async def add_link(request: Request) -> Response:
    body = await json_object(request)
    if isinstance(body, Response):
        return body
    errors = _unknown(body, LINK_FIELDS)
    url = _string(body, "url", errors, required=True)
    label = _string(body, "label", errors)
    if errors:
        return invalid_input(errors)
    collaboration = await service.add_link(actor(request), request.path_params["collaboration_id"], url, label)
    return _with_etag(collaboration, 201)


async def list_links(request: Request) -> Response:
    collaboration = await service.get_for(actor(request), request.path_params["collaboration_id"])
    items = service.links_json(collaboration)
    return JSONResponse({"total": len(items), "items": items})


routes = [
    Route("/api/v1/collaborations", list_collaborations, methods=["GET"]),
    Route("/api/v1/collaborations", create_collaboration, methods=["POST"]),
    Route("/api/v1/collaborations/{collaboration_id:int}", get_collaboration, methods=["GET"]),
    Route("/api/v1/collaborations/{collaboration_id:int}/stage", change_stage, methods=["POST"]),
    Route("/api/v1/collaborations/{collaboration_id:int}/notes", add_note, methods=["POST"]),
    Route("/api/v1/collaborations/{collaboration_id:int}/links", list_links, methods=["GET"]),
    Route("/api/v1/collaborations/{collaboration_id:int}/links", add_link, methods=["POST"]),
    Route("/api/v1/collaborations/{collaboration_id:int}/next-action", set_next_action, methods=["POST"]),
    Route("/api/v1/collaborations/{collaboration_id:int}/owner", set_owner, methods=["POST"]),
]
