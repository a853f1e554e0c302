"""The IDA dashboard `/dashboard` for every logged-in user, and each figure as CSV."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...dashboard import service as dashboard
from ...initiatives.filters import read_filters, whole_number
from ..middleware.auth import current_user
from ..params import multi_params
from ..templating import render


def parse_filters(params: dict[str, list[str]]) -> tuple[dashboard.DashboardFilters, dict[str, list[str]]]:
    values, errors = read_filters(params, ("province", "theme"))
    year_text = (params.get("year") or [""])[0].strip()
    year = whole_number(year_text, 2000, 2999) if year_text else None
    if year_text and year is None:
        errors["year"] = ["Geef een jaartal van vier cijfers, zoals 2026."]
    return dashboard.DashboardFilters(
        year=year, province=(values.get("province") or (None,))[0], theme=(values.get("theme") or (None,))[0]
    ), errors


async def page(request: Request) -> Response:
    filters, errors = parse_filters(multi_params(request))
    figures = await dashboard.compute(current_user(request), filters)
    return render(
        request,
        "dashboard.html",
        {"figures": figures, "filters": filters, "errors": errors},
        status_code=400 if errors else 200,
    )


async def download(request: Request) -> Response:
    filters, errors = parse_filters(multi_params(request))
    if errors:
        return Response(
            "Ongeldige filters: " + " ".join(m for ms in errors.values() for m in ms),
            status_code=400,
            media_type="text/plain; charset=utf-8",
        )
    slug = request.path_params["slug"]
    figures = {f.slug: f for f in await dashboard.compute(current_user(request), filters)}
    if slug not in figures:
        return render(request, "404.html", {}, status_code=404)
    return Response(
        dashboard.as_csv(figures[slug]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kennisbank-{slug}.csv"'},
    )


routes = [
    Route("/dashboard", page, name="dashboard"),
    Route("/dashboard/{slug:str}.csv", download, name="dashboard_csv"),
]
