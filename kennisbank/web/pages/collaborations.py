"""The collaborations board, a collaboration's page with its timeline, and the forms that change it.

Every form is a plain POST (CSRF token, redirect after success) so the pages work without
JavaScript; the service decides who may do what (kennisbank/matching/collaborations.py, permissions.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ... import permissions
from ...initiatives.filters import whole_number
from ...initiatives.validation import InputError
from ...matching import collaborations as service
from ...taxonomy import (
    COLLABORATION_STAGE_LABELS,
    COLLABORATION_TYPE_LABELS,
    CollaborationStage,
)
from ..list_filters import collaboration_filters
from ..middleware.auth import actor
from ..params import MAX_ID, form_version, multi_params
from ..templating import path_for, render, render_page_or_fragment


def _labels() -> dict[str, Any]:
    return {
        "stage_labels": COLLABORATION_STAGE_LABELS,
        "type_labels": COLLABORATION_TYPE_LABELS,
        "stages": list(CollaborationStage),
        "is_overdue": service.is_overdue,
    }


async def board(request: Request) -> Response:
    filters, errors = collaboration_filters(multi_params(request))
    rows = await service.list_for(actor(request), filters)
    by_stage = {stage: [row for row in rows if row.stage == stage] for stage in CollaborationStage}
    owners = await permissions.collaboration_owners().order_by("name", "email")
    return render_page_or_fragment(
        request,
        "collaborations/board.html",
        "collaborations/_board_results.html",
        {"by_stage": by_stage, "filters": filters, "errors": errors, "owners": owners, "total": len(rows), **_labels()},
    )


async def _detail(
    request: Request,
    collaboration_id: int,
    *,
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
    message: str = "",
    typed: Mapping[str, str] | None = None,
) -> Response:
    """The page; `typed`, a refused form's fields, fill that form again (the rest shows what is stored)."""
    collaboration = await service.get_for(actor(request), collaboration_id)
    return render(
        request,
        "collaborations/detail.html",
        {
            "collaboration": collaboration,
            "errors": errors or {},
            "typed": typed or {},
            "message": message,
            "owners": await permissions.collaboration_owners().order_by("name", "email"),
            **_labels(),
        },
        status_code=status_code,
    )


def _detail_path(request: Request, collaboration_id: int) -> str:
    return path_for(request, "collaboration_detail", collaboration_id=collaboration_id)


async def detail(request: Request) -> Response:
    notice = {
        "gestart": "De samenwerking is gestart.",
        "opgeslagen": "Opgeslagen.",
        "verzonden": "De introductiemail is verstuurd.",
        "overgeslagen": "De introductiemail is overgeslagen.",
    }.get(request.query_params.get("melding", ""), "")
    return await _detail(request, request.path_params["collaboration_id"], message=notice)


def _due(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError({"next_action_due": ["Geef een datum als JJJJ-MM-DD."]}) from None


#: Form fields that are no typed text: the page renders them afresh.
_NOT_TYPED = frozenset({"csrf_token", "version"})


async def _change(request: Request, change: Any) -> Response:
    """Run one change from a form; errors come back on the page next to the form, a conflict as 409."""
    collaboration_id = request.path_params["collaboration_id"]
    form = await request.form()
    # What was typed comes back in the form, on a conflict as well: the version field shows the new one.
    typed = {name: value for name, value in form.items() if isinstance(value, str) and name not in _NOT_TYPED}
    try:
        await change(form, form_version(form.get("version")))
    except service.CollaborationConflict:
        return await _detail(
            request,
            collaboration_id,
            status_code=409,
            errors={
                "": [
                    "Iemand anders heeft de samenwerking intussen gewijzigd. Bekijk de nieuwe stand en probeer het "
                    "opnieuw; wat u typte staat nog in het formulier."
                ]
            },
            typed=typed,
        )
    except InputError as exc:
        return await _detail(request, collaboration_id, errors=exc.errors, status_code=422, typed=typed)
    return RedirectResponse(_detail_path(request, collaboration_id) + "?melding=opgeslagen", status_code=303)


async def change_stage(request: Request) -> Response:
    who, cid = actor(request), request.path_params["collaboration_id"]
    return await _change(
        request,
        lambda form, version: service.change_stage(
            who, cid, str(form.get("stage", "")), reason=str(form.get("reason", "")), expected_version=version
        ),
    )


async def set_next_action(request: Request) -> Response:
    who, cid = actor(request), request.path_params["collaboration_id"]

    async def change(form: Any, version: int | None) -> None:
        await service.set_next_action(
            who,
            cid,
            str(form.get("next_action", "")),
            _due(str(form.get("next_action_due", ""))),
            expected_version=version,
        )

    return await _change(request, change)


async def set_owner(request: Request) -> Response:
    who, cid = actor(request), request.path_params["collaboration_id"]

    async def change(form: Any, version: int | None) -> None:
        owner = whole_number(str(form.get("owner", "")), 1, MAX_ID)
        if owner is None:
            raise InputError({"owner": ["Kies een eigenaar uit de lijst."]})
        await service.set_owner(who, cid, owner, expected_version=version)

    return await _change(request, change)


async def add_note(request: Request) -> Response:
    who, cid = actor(request), request.path_params["collaboration_id"]
    return await _change(request, lambda form, version: service.add_note(who, cid, str(form.get("note", ""))))


async def add_link(request: Request) -> Response:
    who, cid = actor(request), request.path_params["collaboration_id"]
    return await _change(
        request, lambda form, version: service.add_link(who, cid, str(form.get("url", "")), str(form.get("label", "")))
    )


async def start_from_cluster(request: Request) -> Response:
    """ "Start samenwerking" on the clusters page: the cluster's initiatives as one collaboration."""
    form = await request.form()
    ids = [n for n in (whole_number(str(v), 1, MAX_ID) for v in form.getlist("initiative")) if n is not None]
    collaboration = await service.from_cluster(actor(request), ids, str(form.get("type", "")))
    return RedirectResponse(_detail_path(request, collaboration.id) + "?melding=gestart", status_code=303)


routes = [
    Route("/samenwerkingen", board, name="collaboration_board"),
    Route("/samenwerkingen/start", start_from_cluster, methods=["POST"], name="collaboration_start"),
    Route("/samenwerkingen/{collaboration_id:int}", detail, name="collaboration_detail"),
    Route("/samenwerkingen/{collaboration_id:int}/fase", change_stage, methods=["POST"], name="collaboration_stage"),
    Route(
        "/samenwerkingen/{collaboration_id:int}/actie",
        set_next_action,
        methods=["POST"],
        name="collaboration_next_action",
    ),
    Route("/samenwerkingen/{collaboration_id:int}/eigenaar", set_owner, methods=["POST"], name="collaboration_owner"),
    Route("/samenwerkingen/{collaboration_id:int}/notitie", add_note, methods=["POST"], name="collaboration_note"),
    Route("/samenwerkingen/{collaboration_id:int}/link", add_link, methods=["POST"], name="collaboration_link"),
]
