"""The IDA coordinators' review of match suggestions: the queue, a side-by-side view, decisions, clusters.

Only coordinators reach these pages (`permissions.can_review_matches`); everyone else is refused
and the attempt is audited. Deciding works as a plain form POST and, with htmx, swaps only the
decision area, announcing the new status to screen readers.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from search.matching.highlight import shared_term_spans

from .. import permissions
from ..initiatives.filters import read_filters
from ..initiatives.validation import InputError
from ..matching import collaborations
from ..matching import service as matches
from ..taxonomy import MATCH_STATUS_LABELS, THEME_BY_SLUG, MatchStatus
from .auth import actor, current_user, refuse
from .params import multi_params, page_param
from .templating import path_for, render, render_page_or_fragment

MATCH_TYPES = ("joint_procurement", "scaling_up", "knowledge_exchange")
FILTER_LABELS = {
    "status": "Status",
    "type": "Soort samenwerking",
    "province": "Provincie",
    "theme": "Thema",
    "min_score": "Minimale score",
}


def highlight(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, with the words that carry a shared term wrapped in <mark>."""
    out, last = [], 0
    for start, end in shared_term_spans(text, terms):
        out.append(escape(text[last:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def parse_filters(params: dict[str, list[str]]) -> tuple[matches.MatchFilters, dict[str, list[str]]]:
    """Match filters from query parameters (status, type, province, theme, min_score); Dutch errors per field."""
    values, errors = read_filters(params, ("province", "theme"))
    statuses = tuple(v for v in params.get("status", []) if v)
    if any(s not in {m.value for m in MatchStatus} for s in statuses):
        errors["status"] = ["Kies voorgesteld, geaccepteerd, afgewezen of aangehouden."]
        statuses = ()
    types = tuple(v for v in params.get("type", []) if v)
    if any(t not in MATCH_TYPES for t in types):
        errors["type"] = ["Kies joint_procurement, scaling_up of knowledge_exchange."]
        types = ()
    min_score = 0.0
    text = (params.get("min_score") or [""])[0]
    if text:
        try:
            min_score = float(text)
            if not 0 <= min_score <= 1:
                raise ValueError
        except ValueError:
            errors["min_score"] = ["Geef een getal van 0 tot en met 1."]
            min_score = 0.0
    themes = tuple(THEME_BY_SLUG[slug].name for slug in values.get("theme", ()))
    return matches.MatchFilters(
        status=statuses or (MatchStatus.VOORGESTELD,),
        type=types,
        province=tuple(values.get("province", ())),
        theme=themes,
        min_score=min_score,
    ), errors


async def queue(request: Request) -> Response:
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(request, object_type="match", what="matches bekijken")
    filters, errors = parse_filters(multi_params(request))
    page = await matches.list_matches(filters, page_param(request), request.app.state.settings.page_size)
    context = {
        "page": page,
        "filters": filters,
        "errors": errors,
        "types": MATCH_TYPES,
        "learning": request.app.state.matcher.learning,
        "status_labels_match": MATCH_STATUS_LABELS,
        "filter_labels": FILTER_LABELS,
    }
    return render_page_or_fragment(request, "matches/queue.html", "matches/_queue_results.html", context)


async def detail(request: Request) -> Response:
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(
            request, object_type="match", object_id=request.path_params["match_id"], what="match bekijken"
        )
    match = await matches.get_match(request.path_params["match_id"])
    return render(
        request,
        "matches/detail.html",
        _detail_context(
            match,
            collaboration=await collaborations.of_match(match.id),
            next_match=await matches.next_suggestion(match.id),
        ),
    )


def _detail_context(match: Any, **extra: Any) -> dict[str, Any]:
    terms = list(match.shared_terms)
    sides = [
        {"initiative": i, "title": highlight(i.title, terms), "summary": highlight(i.summary, terms)}
        for i in (match.a, match.b)
    ]
    return {"match": match, "sides": sides, "status_labels_match": MATCH_STATUS_LABELS, "errors": {}, **extra}


async def decide(request: Request) -> Response:
    match_id = request.path_params["match_id"]
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(request, object_type="match", object_id=match_id, what="match beoordelen")
    form = await request.form()
    htmx = bool(request.headers.get("hx-request"))
    try:
        match = await matches.decide(actor(request), match_id, str(form.get("status", "")), str(form.get("note", "")))
    except InputError as exc:
        current = await matches.get_match(match_id)
        if htmx:  # htmx does not swap a 4xx response, so the error summary would never show
            return render(request, "matches/_decision.html", _detail_context(current, errors=exc.errors))
        return render(request, "matches/detail.html", _detail_context(current, errors=exc.errors), status_code=422)
    if htmx:
        return render(
            request,
            "matches/_decision.html",
            _detail_context(
                match,
                just_decided=True,
                collaboration=await collaborations.of_match(match.id),
                next_match=await matches.next_suggestion(match.id),
            ),
        )
    return RedirectResponse(f"{path_for(request, 'match_detail', match_id=match.id)}?beoordeeld=1", status_code=303)


async def cluster_page(request: Request) -> Response:
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(request, object_type="match", what="clusters bekijken")
    return render(request, "matches/clusters.html", {"clusters": await matches.clusters()})


routes = [
    Route("/matches", queue, name="match_queue"),
    Route("/matches/clusters", cluster_page, name="match_clusters"),
    Route("/matches/{match_id:int}", detail, name="match_detail"),
    Route("/matches/{match_id:int}/beoordeling", decide, methods=["POST"], name="match_decide"),
]
