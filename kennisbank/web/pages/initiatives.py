"""HTML pages. Thin: read the request, call the initiative service, render a template."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from search import SearchQuery, SearchUnavailable

from ... import permissions, statements
from ...errors import PermissionDenied
from ...initiatives import exporting, service
from ...initiatives.validation import InputError, parse_initiative
from ...matching import collaborations
from ...matching import service as matches
from ...models import Initiative
from ...searching import embedding_jobs
from ...searching import query as searching
from ..forms import form_to_input, input_to_form
from ..middleware.auth import actor, current_user, refuse
from ..params import SEARCH_NUMBERS, BadRequest, check_numbers, form_version, multi_params, page_param
from ..templating import path_for, render, render_page_or_fragment

logger = logging.getLogger("kennisbank.web")


OWN_PROVINCE_ONLY = "U kunt alleen initiatieven van uw eigen provincie toevoegen en wijzigen."


async def home(request: Request) -> Response:
    context = {"overview": await service.overview(), "recent": await service.recent_initiatives()}
    return render(request, "home.html", context)


async def initiative_list(request: Request) -> Response:
    params = multi_params(request)
    filters, filter_errors = service.InitiativeFilters.parse(params)
    order = (params.get("sort") or [service.DEFAULT_ORDER])[0]
    if order not in service.LIST_ORDERS:
        filter_errors["sort"], order = [f"Onbekende volgorde “{order}”."], service.DEFAULT_ORDER
    page = await service.list_initiatives(
        filters, current_user(request), page_param(request), request.app.state.settings.page_size, order=order
    )
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": filter_errors,
        "order": order,
        "orders": [(value, label) for value, (label, _fields) in service.LIST_ORDERS.items()],
    }
    return render_page_or_fragment(request, "initiatives/list.html", "_results.html", context)


async def initiative_list_download(request: Request) -> Response:
    """The list as shown (filters, order, the viewer's visibility), all pages, as CSV or Excel."""
    if request.path_params["format"] not in ("csv", "xlsx"):
        return _not_found(request)
    params = multi_params(request)
    filters, _errors = service.InitiativeFilters.parse(params)
    order = (params.get("sort") or [service.DEFAULT_ORDER])[0]
    return await _download(
        request.path_params["format"], "initiatieven", await service.all_listed(filters, current_user(request), order)
    )


async def _download(extension: str, name: str, listed: list[Any]) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="kennisbank-{name}.{extension}"'}
    if extension == "xlsx":
        return Response(
            await exporting.excel(listed),
            headers=headers,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    out = io.StringIO()
    await exporting.export(out, "csv", listed)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _detail_path(request: Request, initiative_id: int) -> str:
    return path_for(request, "initiative_detail", initiative_id=initiative_id)


async def initiative_detail(request: Request) -> Response:
    initiative = await _load(request)
    similar = await searching.similar_initiatives(
        request.app.state.search_index, request.app.state.embedder, initiative
    )
    pending = await embedding_jobs.is_pending(initiative.id)
    # The other side may have gone back to concept since the match was accepted: show only what the viewer may see.
    accepted = [
        (match, other)
        for match, other in await matches.accepted_for(initiative.id)
        if permissions.can_view(current_user(request), other)
    ]
    participations = await collaborations.for_initiative(actor(request), initiative)
    return render(
        request,
        "initiatives/detail.html",
        {
            "initiative": initiative,
            "similar": similar,
            "accepted_matches": accepted,
            "pending": pending,
            "participations": participations,
        },
    )


async def initiative_new(request: Request) -> Response:
    user = current_user(request)
    if not permissions.can_create(user):
        return await refuse(request, object_type="initiative", what="initiatief aanmaken")
    if request.method == "GET":
        return _form(request, values={"status": "concept", "themes": [], "province": user.province_id}, errors={})
    raw = form_to_input(await request.form())
    try:
        initiative = await service.create_initiative(actor(request), parse_initiative(raw))
    except InputError as exc:
        return _form(request, values=input_to_form(raw), errors=exc.errors, status_code=422)
    except PermissionDenied:
        return _form(request, values=input_to_form(raw), errors={"province": [OWN_PROVINCE_ONLY]}, status_code=403)
    return RedirectResponse(_detail_path(request, initiative.id) + "?opgeslagen=1", status_code=303)


async def initiative_edit(request: Request) -> Response:
    initiative = await _load(request)
    if not permissions.can_edit(current_user(request), initiative):
        return await refuse(request, object_type="initiative", object_id=initiative.id, what="initiatief wijzigen")
    if request.method == "GET":
        values = input_to_form(service.as_input_dict(initiative))
        return _form(request, values=values, errors={}, initiative=initiative, version=initiative.version)
    form = await request.form()
    raw = form_to_input(form)
    version = form_version(form.get("version"))
    try:
        updated = await service.update_initiative(
            actor(request), initiative.id, parse_initiative(raw), expected_version=version
        )
    except PermissionDenied:
        return _form(
            request,
            values=input_to_form(raw),
            errors={"province": [OWN_PROVINCE_ONLY]},
            initiative=initiative,
            version=version,
            status_code=403,
        )
    except InputError as exc:
        return _form(
            request,
            values=input_to_form(raw),
            errors=exc.errors,
            initiative=initiative,
            version=version,
            status_code=422,
        )
    except service.VersionConflict as conflict:
        errors = {
            "": [
                "Iemand anders heeft dit initiatief opgeslagen nadat u het opende. Uw wijzigingen staan "
                "hieronder nog in het formulier; controleer ze en sla opnieuw op."
            ]
        }
        return _form(
            request,
            values=input_to_form(raw),
            errors=errors,
            initiative=initiative,
            version=conflict.current_version,
            status_code=409,
        )
    return RedirectResponse(_detail_path(request, updated.id) + "?opgeslagen=1", status_code=303)


async def initiative_archive(request: Request) -> Response:
    initiative = await _load(request)
    if not permissions.can_edit(current_user(request), initiative):
        return await refuse(request, object_type="initiative", object_id=initiative.id, what="archiveren")
    version = form_version((await request.form()).get("version"))
    try:
        await service.archive_initiative(actor(request), initiative.id, expected_version=version)
    except service.VersionConflict:
        return render(request, "initiatives/conflict.html", {"initiative": initiative}, status_code=409)
    return RedirectResponse(_detail_path(request, initiative.id) + "?gearchiveerd=1", status_code=303)


async def accessibility(request: Request) -> Response:
    return render(request, "toegankelijkheid.html", statements.accessibility_facts(request.app.state.settings))


async def privacy(request: Request) -> Response:
    state = request.app.state
    return render(request, "privacy.html", statements.privacy_facts(state.settings, state.login_throttle))


def _form(
    request: Request,
    *,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    initiative: Any = None,
    version: int | None = None,
    status_code: int = 200,
) -> Response:
    context = {"values": values, "errors": errors, "initiative": initiative, "version": version}
    return render(request, "initiatives/form.html", context, status_code=status_code)


async def _load(request: Request) -> Initiative:
    """The initiative of the path, if the viewer may see it (InitiativeNotFound, a 404, otherwise)."""
    return await service.get_visible_initiative(request.path_params["initiative_id"], current_user(request))


def _not_found(request: Request) -> Response:
    return render(request, "404.html", {}, status_code=404)


routes = [
    Route("/", home, name="home"),
    Route("/initiatieven", initiative_list, name="initiative_list"),
    Route("/initiatieven/download.{format:str}", initiative_list_download, name="initiative_list_download"),
    Route("/initiatieven/nieuw", initiative_new, methods=["GET", "POST"], name="initiative_new"),
    Route("/initiatieven/{initiative_id:int}", initiative_detail, name="initiative_detail"),
    Route(
        "/initiatieven/{initiative_id:int}/bewerken", initiative_edit, methods=["GET", "POST"], name="initiative_edit"
    ),
    Route(
        "/initiatieven/{initiative_id:int}/archiveren", initiative_archive, methods=["POST"], name="initiative_archive"
    ),
    Route("/toegankelijkheid", accessibility, name="accessibility"),
    Route("/privacy", privacy, name="privacy"),
]


def _viewer_search(request: Request) -> tuple[SearchQuery, dict[str, list[str]]]:
    """The request's search, limited to what its viewer may see, with each other unusable option left at
    its default, and the Dutch messages for those (`searching.read_query`). A malformed number is a
    BadRequest."""
    params = multi_params(request)
    number_errors = check_numbers(params, SEARCH_NUMBERS)
    if number_errors:
        raise BadRequest(number_errors)
    query, errors = searching.read_query(params, request.app.state.settings.page_size)
    return searching.restrict_to_viewer(query, permissions.visible_concept_provinces(current_user(request))), errors


async def search_page(request: Request) -> Response:
    query, errors = _viewer_search(request)
    try:
        result = await searching.run_search(
            request.app.state.search_index, query, request.app.state.embedder, request.app.state.settings.semantic_ratio
        )
        unavailable = False
    except SearchUnavailable:
        logger.warning("search page without results: the search server is unavailable", exc_info=True)
        result, unavailable = searching.SearchPage(query=query, total=0, items=[]), True
    context = {
        "result": result,
        "errors": errors,
        "facet_titles": searching.FACET_TITLES,
        "option_label": searching.option_label,
        "search_filters": searching.SEARCH_FILTERS,
        "search_unavailable": unavailable,
        "search_download_limit": SEARCH_DOWNLOAD_LIMIT,
    }
    return render_page_or_fragment(request, "search/page.html", "search/_results.html", context)


#: The most results one download of a search holds (the most one search answers).
SEARCH_DOWNLOAD_LIMIT = 1000


async def search_download(request: Request) -> Response:
    """The search as shown (query, filters, the viewer's visibility), its best results in their order,
    as CSV or Excel."""
    if request.path_params["format"] not in ("csv", "xlsx"):
        return _not_found(request)
    query = replace(_viewer_search(request)[0], page=1, per_page=SEARCH_DOWNLOAD_LIMIT)
    try:
        result = await searching.run_search(
            request.app.state.search_index, query, request.app.state.embedder, request.app.state.settings.semantic_ratio
        )
    except SearchUnavailable:
        return RedirectResponse(
            path_for(request, "search") + str(request.url.query and "?" + request.url.query), status_code=303
        )
    return await _download(
        request.path_params["format"], "zoekresultaten", [found.initiative for found in result.items]
    )


async def draft_hint(request: Request) -> Response:
    """The live "does this exist already?" hint under the title and summary of a new initiative."""
    text = f"{request.query_params.get('title', '')}\n{request.query_params.get('summary', '')}"
    similar = await searching.similar_to_draft(request.app.state.search_index, request.app.state.embedder, text)
    pending = await embedding_jobs.pending_count() if request.app.state.embedder is not None else 0
    return render(request, "initiatives/_draft_hint.html", {"similar": similar, "pending": pending})


routes.append(Route("/zoeken", search_page, name="search"))
routes.append(Route("/zoeken/download.{format:str}", search_download, name="search_download"))
routes.append(Route("/initiatieven/lijkt-op", draft_hint, name="draft_hint"))
