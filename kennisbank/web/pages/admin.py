"""The beheerder's pages: accounts (create, change role or province, block, end sessions), the access-review
export and the audit log. Every route here asks `permissions.can_manage_accounts` first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ... import audit, permissions
from ...accounts import personal_data
from ...accounts import service as accounts
from ...initiatives.validation import InputError
from ..middleware.auth import actor, current_user, refuse
from ..params import page_param
from ..templating import path_for, render

AUDIT_PAGE_SIZE = 50
AUDIT_CSV_LIMIT = 100_000


def _allowed(request: Request) -> bool:
    return permissions.can_manage_accounts(current_user(request))


async def users(request: Request) -> Response:
    if not _allowed(request):
        return await refuse(request, object_type="user", what="accounts bekijken")
    return render(
        request,
        "admin/users.html",
        {"users": await accounts.list_users(), "notice": request.query_params.get("gedaan", "")},
    )


def _user_form_values(form: Any) -> dict[str, Any]:
    return {
        "email": str(form.get("email", "")).strip(),
        "name": str(form.get("name", "")).strip(),
        "role": str(form.get("role", "")),
        "province": str(form.get("province", "")) or None,
        "active": form.get("active") == "on",
    }


async def user_new(request: Request) -> Response:
    if not _allowed(request):
        return await refuse(request, object_type="user", what="account aanmaken")
    if request.method == "GET":
        return render(
            request,
            "admin/user_form.html",
            {"values": {"role": "medewerker", "active": True}, "errors": {}, "account": None},
        )
    form = await request.form()
    values = _user_form_values(form)
    try:
        user = await accounts.create_user(
            actor(request),
            email=values["email"],
            role=values["role"],
            province=values["province"],
            name=values["name"],
            password=str(form.get("password", "")),
        )
    except InputError as exc:
        return render(
            request, "admin/user_form.html", {"values": values, "errors": exc.errors, "account": None}, status_code=422
        )
    return RedirectResponse(f"{path_for(request, 'admin_users')}?gedaan=aangemaakt&id={user.id}", status_code=303)


async def user_edit(request: Request) -> Response:
    if not _allowed(request):
        return await refuse(
            request, object_type="user", object_id=request.path_params["user_id"], what="account wijzigen"
        )
    account = await accounts.get_user(request.path_params["user_id"])
    if request.method == "GET":
        return render(
            request, "admin/user_form.html", {"values": _account_values(account), "errors": {}, "account": account}
        )
    values = {**_user_form_values(await request.form()), "email": account.email}
    try:
        await accounts.update_user(
            actor(request),
            account.id,
            role=values["role"],
            province=values["province"],
            name=values["name"],
            active=values["active"],
        )
    except InputError as exc:
        return render(
            request,
            "admin/user_form.html",
            {"values": values, "errors": exc.errors, "account": account},
            status_code=422,
        )
    return RedirectResponse(path_for(request, "admin_users") + "?gedaan=gewijzigd", status_code=303)


def _account_values(account: Any) -> dict[str, Any]:
    """An account as the edit form shows it."""
    return {
        "email": account.email,
        "name": account.name,
        "role": str(account.role),
        "province": account.province_id,
        "active": account.active,
    }


async def user_end_sessions(request: Request) -> Response:
    if not _allowed(request):
        return await refuse(
            request, object_type="user", object_id=request.path_params["user_id"], what="sessies beëindigen"
        )
    await accounts.end_sessions(actor(request), request.path_params["user_id"])
    return RedirectResponse(path_for(request, "admin_users") + "?gedaan=sessies", status_code=303)


async def user_data_download(request: Request) -> Response:
    """Everything kept about one person, for their request to see it (the privacy statement)."""
    user_id = request.path_params["user_id"]
    if not _allowed(request):
        return await refuse(request, object_type="user", object_id=user_id, what="persoonsgegevens downloaden")
    document = await personal_data.personal_data(user_id)
    await audit.record(actor(request), "personal_data_export", object_type="user", object_id=user_id)
    return JSONResponse(
        document, headers={"Content-Disposition": f'attachment; filename="kennisbank-persoonsgegevens-{user_id}.json"'}
    )


async def user_data_erase(request: Request) -> Response:
    """Erase what identifies one person, after the beheerder typed the account's e-mail address to confirm."""
    user_id = request.path_params["user_id"]
    if not _allowed(request):
        return await refuse(request, object_type="user", object_id=user_id, what="persoonsgegevens verwijderen")
    account = await accounts.get_user(user_id)
    form = await request.form()
    if str(form.get("confirm_email", "")).strip().lower() != account.email:
        errors = {"confirm_email": ["Typ het e-mailadres van dit account om het verwijderen te bevestigen."]}
        return render(
            request,
            "admin/user_form.html",
            {"values": _account_values(account), "errors": errors, "account": account},
            status_code=422,
        )
    try:
        await personal_data.erase(actor(request), account.id)
    except personal_data.ErasureRefused:
        return await refuse(request, object_type="user", object_id=user_id, what="eigen persoonsgegevens verwijderen")
    return RedirectResponse(path_for(request, "admin_users") + "?gedaan=verwijderd", status_code=303)


async def users_csv(request: Request) -> Response:
    if not _allowed(request):
        return await refuse(request, object_type="user", what="accounts exporteren")
    stamp = datetime.now().strftime("%Y-%m-%d")
    return Response(
        await accounts.accounts_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kennisbank-accounts-{stamp}.csv"'},
    )


def _audit_filters(request: Request) -> tuple[audit.AuditFilters, dict[str, str]]:
    params = request.query_params
    raw = {name: params.get(name, "").strip() for name in ("actie", "wie", "resultaat", "van", "tot")}
    since = _date(raw["van"])
    until = _date(raw["tot"])
    filters = audit.AuditFilters(
        action=raw["actie"] if raw["actie"] in audit.ACTION_LABELS else "",
        actor=raw["wie"][:254],
        result=raw["resultaat"] if raw["resultaat"] in (audit.OK, audit.DENIED, audit.FAILED) else "",
        since=since,
        until=until + timedelta(days=1) if until else None,
    )
    return filters, raw


def _date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


async def audit_log(request: Request) -> Response:
    if not _allowed(request):
        return await refuse(request, object_type="audit", what="auditlog bekijken")
    filters, raw = _audit_filters(request)
    page = page_param(request)
    rows, total = await audit.entries(filters, page, AUDIT_PAGE_SIZE)
    return render(
        request,
        "admin/audit.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "raw": raw,
            "pages": max(1, -(-total // AUDIT_PAGE_SIZE)),
            "action_labels": audit.ACTION_LABELS,
        },
    )


async def audit_csv(request: Request) -> Response:
    if not _allowed(request):
        return await refuse(request, object_type="audit", what="auditlog exporteren")
    filters, _raw = _audit_filters(request)
    rows, _total = await audit.entries(filters, 1, AUDIT_CSV_LIMIT)
    return Response(
        audit.entries_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kennisbank-auditlog.csv"'},
    )


routes = [
    Route("/beheer/gebruikers", users, name="admin_users"),
    Route("/beheer/gebruikers.csv", users_csv, name="admin_users_csv"),
    Route("/beheer/gebruikers/nieuw", user_new, methods=["GET", "POST"], name="admin_user_new"),
    Route("/beheer/gebruikers/{user_id:int}", user_edit, methods=["GET", "POST"], name="admin_user_edit"),
    Route(
        "/beheer/gebruikers/{user_id:int}/sessies-beeindigen",
        user_end_sessions,
        methods=["POST"],
        name="admin_user_end_sessions",
    ),
    Route("/beheer/gebruikers/{user_id:int}/persoonsgegevens.json", user_data_download, name="admin_user_data"),
    Route(
        "/beheer/gebruikers/{user_id:int}/persoonsgegevens-verwijderen",
        user_data_erase,
        methods=["POST"],
        name="admin_user_data_erase",
    ),
    Route("/beheer/audit", audit_log, name="admin_audit"),
    Route("/beheer/audit.csv", audit_csv, name="admin_audit_csv"),
]
