"""The JSON API under /api/v1. Errors are problem+json (RFC 9457) with Dutch messages per field."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from search import SearchUnavailable

from ... import permissions
from ...initiatives import service
from ...initiatives.validation import InputError, parse_json_initiative
from ...searching import query as searching
from ...taxonomy import PROVINCES, THEMES
from ..middleware.auth import actor, current_user, refuse
from ..params import (
    MAX_PER_PAGE,
    SEARCH_NUMBERS,
    VersionMalformed,
    VersionMissing,
    api_errors,
    api_params,
    check_numbers,
    if_match_version,
    int_param,
    json_object,
)
from ..problems import invalid_parameters, problem
from ..templating import path_for
from .openapi import openapi_document


async def list_initiatives(request: Request) -> Response:
    filters, errors = service.InitiativeFilters.parse(api_params(request))
    page, errors = int_param(request, "page", 1, 1, 1_000_000, errors)
    per_page, errors = int_param(request, "perPage", 20, 1, MAX_PER_PAGE, errors)
    if errors:
        return invalid_parameters(errors)
    result = await service.list_initiatives(filters, current_user(request), page, per_page)
    return JSONResponse(
        {
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
            "items": [service.as_resource(i) for i in result.items],
        }
    )


async def create_initiative(request: Request) -> Response:
    body = await json_object(request)
    if isinstance(body, Response):
        return body
    if not permissions.can_create(current_user(request)):
        return await refuse(request, object_type="initiative", what="initiatief aanmaken")
    initiative = await service.create_initiative(actor(request), parse_json_initiative(body))
    return JSONResponse(
        service.as_resource(initiative),
        status_code=201,
        headers={
            "Location": path_for(request, "api_initiative", initiative_id=initiative.id),
            "ETag": f'"{initiative.version}"',  # a first PATCH needs no GET before it
        },
    )


async def get_initiative(request: Request) -> Response:
    initiative = await service.get_visible_initiative(request.path_params["initiative_id"], current_user(request))
    return JSONResponse(service.as_resource(initiative), headers={"ETag": f'"{initiative.version}"'})


def _version_required(request: Request, what: str) -> int:
    """The version ``If-Match`` names; a change without a usable one is answered with 428 or 412."""
    return if_match_version(
        request,
        missing=VersionMissing(
            detail=f"Stuur bij {what} de header If-Match met de versie die u hebt opgehaald "
            '(de ETag van GET, bijvoorbeeld If-Match: "3"), zodat u geen wijziging van een ander '
            "overschrijft."
        ),
        malformed=VersionMalformed(
            detail='If-Match moet één versie van dit initiatief noemen, zoals If-Match: "3" (de ETag van GET).'
        ),
    )


async def update_initiative(request: Request) -> Response:
    """Partial update: fields left out keep their value. ``If-Match: "<version>"`` is required (lost updates)."""
    body = await json_object(request)
    if isinstance(body, Response):
        return body
    current = await service.get_visible_initiative(request.path_params["initiative_id"], current_user(request))
    if not permissions.can_edit(current_user(request), current):
        return await refuse(request, object_type="initiative", object_id=current.id, what="initiatief wijzigen")
    expected = _version_required(request, "een wijziging")
    merged = {**service.as_input_dict(current), **body}
    updated = await service.update_initiative(
        actor(request), current.id, parse_json_initiative(body, merged), expected_version=expected
    )
    return JSONResponse(service.as_resource(updated), headers={"ETag": f'"{updated.version}"'})


async def archive_initiative(request: Request) -> Response:
    current = await service.get_visible_initiative(request.path_params["initiative_id"], current_user(request))
    if not permissions.can_edit(current_user(request), current):
        return await refuse(request, object_type="initiative", object_id=current.id, what="archiveren")
    expected = _version_required(request, "archiveren")
    initiative = await service.archive_initiative(actor(request), current.id, expected_version=expected)
    return JSONResponse(service.as_resource(initiative), headers={"ETag": f'"{initiative.version}"'})


async def search(request: Request) -> Response:
    params = api_params(request)
    errors = check_numbers(params, SEARCH_NUMBERS)  # before parse_query, which would call int() on them
    try:
        query = searching.parse_query({k: v for k, v in params.items() if k not in errors})
        query = searching.restrict_to_viewer(query, permissions.visible_concept_provinces(current_user(request)))
    except InputError as exc:
        errors = {**exc.errors, **errors}
    if errors:
        return problem(
            400, "Ongeldige zoekopdracht", "Een of meer zoekparameters zijn ongeldig.", errors=api_errors(errors)
        )
    try:
        result = await searching.run_search(
            request.app.state.search_index, query, request.app.state.embedder, request.app.state.settings.semantic_ratio
        )
    except SearchUnavailable:
        return problem(
            503,
            "Zoeken niet beschikbaar",
            "Zoeken is tijdelijk niet beschikbaar. Probeer het over een paar minuten opnieuw.",
        )
    return JSONResponse(searching.as_json(result))


async def list_provinces(request: Request) -> Response:
    return JSONResponse({"items": [{"code": p.code, "name": p.name} for p in PROVINCES]})


async def list_themes(request: Request) -> Response:
    return JSONResponse({"items": [{"slug": t.slug, "name": t.name} for t in THEMES]})


async def openapi(request: Request) -> Response:
    """Readable from any origin, so tools in a browser can load it (ADR /core/publish-openapi)."""
    return JSONResponse(openapi_document(), headers={"Access-Control-Allow-Origin": "*"})


routes = [
    Route("/api/v1/openapi.json", openapi, name="openapi"),
    Route("/api/v1/initiatives", list_initiatives, methods=["GET"]),
    Route("/api/v1/initiatives", create_initiative, methods=["POST"]),
    Route("/api/v1/initiatives/{initiative_id:int}", get_initiative, methods=["GET"], name="api_initiative"),
    Route("/api/v1/initiatives/{initiative_id:int}", update_initiative, methods=["PATCH"]),
    Route("/api/v1/initiatives/{initiative_id:int}/archive", archive_initiative, methods=["POST"]),
    Route("/api/v1/search", search),
    Route("/api/v1/provinces", list_provinces),
    Route("/api/v1/themes", list_themes),
]
