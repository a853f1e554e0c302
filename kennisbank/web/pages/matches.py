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

from search.matching import MATCH_TYPES
from search.matching.highlight import shared_term_spans

from ... import permissions
from ...initiatives.validation import InputError
from ...matching import collaborations
from ...matching import service as matches
from ...taxonomy import MATCH_STATUS_LABELS
from ..list_filters import match_filters
from ..middleware.auth import actor, current_user, refuse
from ..params import form_version, multi_params, page_param
from ..templating import path_for, render, render_page_or_fragment

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


async def queue(request: Request) -> Response:
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(request, object_type="match", what="matches bekijken")
    filters, errors = match_filters(multi_params(request))
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
    context = {
        "match": match,
        "sides": sides,
        "status_labels_match": MATCH_STATUS_LABELS,
        "errors": {},
        "typed_note": None,
        "decision_version": matches.decision_version(match),
    }
    return {**context, **extra}


async def decide(request: Request) -> Response:
    match_id = request.path_params["match_id"]
    if not permissions.can_review_matches(current_user(request)):
        return await refuse(request, object_type="match", object_id=match_id, what="match beoordelen")
    form = await request.form()
    htmx = bool(request.headers.get("hx-request"))
    note = str(form.get("note", ""))
    try:
        match = await matches.decide(
            actor(request), match_id, str(form.get("status", "")), note, form_version(form.get("version"))
        )
    except (InputError, matches.DecisionConflict) as exc:
        errors = exc.errors if isinstance(exc, InputError) else {"": [_DECIDED_MEANWHILE]}
        current = await matches.get_match(match_id)
        context = _detail_context(current, errors=errors, typed_note=note)
        if htmx:  # htmx does not swap a 4xx response, so the error summary would never show
            return render(request, "matches/_decision.html", context)
        return render(request, "matches/detail.html", context, status_code=422 if isinstance(exc, InputError) else 409)
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


_DECIDED_MEANWHILE = (
    "Iemand anders heeft deze match beoordeeld (of hij is heropend) nadat u de pagina opende; uw beoordeling "
    "is niet opgeslagen. Hierboven staat de huidige stand; uw notitie staat nog in het veld. Beslis opnieuw."
)


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
