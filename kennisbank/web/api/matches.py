"""Match suggestions in the JSON API: list, get and decide, for coordinators only."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ... import permissions
from ...initiatives.validation import forbidden_character
from ...matching import service as matches
from ...taxonomy import MatchStatus
from ..list_filters import match_filters
from ..middleware.auth import actor, current_user, refuse
from ..params import (
    MAX_PER_PAGE,
    VersionMalformed,
    api_errors,
    api_params,
    if_match_version,
    int_param,
    json_object,
)
from ..problems import invalid_input, invalid_parameters


async def list_matches(request: Request) -> Response:
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(request, object_type="match", what="matches bekijken")
    filters, errors = match_filters(api_params(request))
    page, errors = int_param(request, "page", 1, 1, 1_000_000, api_errors(errors))
    per_page, errors = int_param(request, "perPage", 20, 1, MAX_PER_PAGE, errors)
    if errors:
        return invalid_parameters(errors)
    result = await matches.list_matches(filters, page, per_page)
    return JSONResponse(
        {
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
            "items": [matches.as_json(m) for m in result.items],
        }
    )


async def get_match(request: Request) -> Response:
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(
            request, object_type="match", object_id=request.path_params["match_id"], what="match bekijken"
        )
    match = await matches.get_match(request.path_params["match_id"])
    return _with_etag(match)


def _with_etag(match: Any) -> Response:
    """The match with its decision version as ETag, for the If-Match of a decision."""
    return JSONResponse(matches.as_json(match), headers={"ETag": f'"{matches.decision_version(match)}"'})


async def decide(request: Request) -> Response:
    match_id = request.path_params["match_id"]
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(request, object_type="match", object_id=match_id, what="match beoordelen")
    body = await json_object(request)
    if isinstance(body, Response):
        return body
    unknown = sorted(set(body) - {"status", "note"})
    errors: dict[str, list[str]] = {name: ["Onbekend veld."] for name in unknown}
    if body.get("status") not in {s.value for s in MatchStatus}:
        errors["status"] = ["Verplicht: geaccepteerd, afgewezen, aangehouden of voorgesteld."]
    if not isinstance(body.get("note", ""), str):
        errors["note"] = ["Een notitie is tekst."]
    elif len(body.get("note", "").strip()) > matches.MAX_NOTE_LENGTH:
        errors["note"] = [f"Gebruik maximaal {matches.MAX_NOTE_LENGTH} tekens."]
    elif (bad := forbidden_character(body.get("note", ""), multiline=True)) is not None:
        errors["note"] = [bad]
    if errors:
        return invalid_input(errors)
    expected = (
        if_match_version(request, malformed=VersionMalformed(detail=_MALFORMED))
        if request.headers.get("if-match", "").strip()
        else None
    )
    match = await matches.decide(actor(request), match_id, body["status"], body.get("note", ""), expected)
    return _with_etag(match)


_MALFORMED = 'If-Match moet één versie van deze match noemen, zoals If-Match: "2" (de ETag van GET).'


routes = [
    Route("/api/v1/matches", list_matches, methods=["GET"]),
    Route("/api/v1/matches/{match_id:int}", get_match, methods=["GET"]),
    Route("/api/v1/matches/{match_id:int}/decision", decide, methods=["POST"]),
]
