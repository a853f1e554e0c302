"""The beheerder's import (/beheer/importeren): upload a portfolio spreadsheet and either see every
problem by line and column, or see the import land and its semantic part follow.

The same all-or-nothing import as `kennisbank import` (`kennisbank/initiatives/importing.py`): every row is
validated first, then all rows are committed in one transaction and made keyword-searchable at once;
their embeddings and matches follow from the job queue, which the progress page follows."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from search import SearchUnavailable

from ... import permissions
from ...initiatives.filters import whole_number
from ...initiatives.importing import ImportFailed, import_file
from ...searching import embedding_jobs
from ...searching.indexing import reindex
from ..middleware.auth import actor, current_user, refuse
from ..templating import render, render_page_or_fragment

PATH = "/beheer/importeren"
PROGRESS_PATH = "/beheer/importeren/voortgang"
#: The file types `kennisbank.initiatives.importing.read_rows` reads.
ACCEPTED_SUFFIXES = (".csv", ".xlsx", ".jsonl", ".ndjson")
#: The largest upload (the CSRF middleware refuses a larger body before it reaches the route).
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
_COUNTS = ("nieuw", "bijgewerkt", "ongewijzigd", "wachtrij")


async def import_page(request: Request) -> Response:
    if not permissions.can_import(current_user(request)):
        return await refuse(request, object_type="initiative", what="initiatieven importeren")
    if request.method == "GET":
        return _form(request)
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("bestand")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form(request, {"bestand": ["Kies het bestand dat u wilt importeren."]})
    name = Path(upload.filename).name
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        return _form(request, {"bestand": [f"“{name}” is geen CSV-, Excel- (.xlsx) of JSON Lines-bestand."]})
    settings = request.app.state.settings
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as copy:
            shutil.copyfileobj(upload.file, copy)
        try:
            report = await import_file(path, max_rows=settings.import_max_rows, actor=actor(request))
        except ImportFailed as failed:
            return _form(request, failed=failed, file_name=name)
    searchable = True
    try:
        await reindex(request.app.state.search_index, request.app.state.embedder, embed=False)
    except SearchUnavailable:  # saved; `kennisbank reindex` or the next start makes it searchable
        searchable = False
    request.app.state.semantic_work_queued()
    counts = {
        "nieuw": report.created,
        "bijgewerkt": report.updated,
        "ongewijzigd": report.unchanged,
        "wachtrij": report.queued,
    }
    query = urlencode({**counts, "bestand": name, **({} if searchable else {"zoeken": "later"})})
    return RedirectResponse(f"{PROGRESS_PATH}?{query}", status_code=303)


def _form(
    request: Request,
    errors: dict[str, list[str]] | None = None,
    failed: ImportFailed | None = None,
    file_name: str = "",
) -> Response:
    context: dict[str, Any] = {
        "errors": errors or {},
        "failed": failed,
        "file_name": file_name,
        "accepted": ",".join(ACCEPTED_SUFFIXES),
        "max_rows": request.app.state.settings.import_max_rows,
        "max_megabytes": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    status = 422 if errors or failed else 200
    return render(request, "admin/import.html", context, status_code=status)


async def import_progress(request: Request) -> Response:
    """What the import did, and how far the job queue is with its embeddings and matches; htmx asks again
    every few seconds until the queue is empty."""
    if not permissions.can_import(current_user(request)):
        return await refuse(request, object_type="initiative", what="importvoortgang bekijken")
    params = request.query_params
    counts = {key: whole_number(params.get(key, "0"), 0, 10_000_000) or 0 for key in _COUNTS}
    pending = await embedding_jobs.pending_count()
    queued = counts["wachtrij"]
    done = max(0, queued - pending)
    context = {
        "counts": counts,
        "file_name": params.get("bestand", ""),
        "searchable": params.get("zoeken") != "later",
        "pending": pending,
        "done": done,
        "percent": round(100 * done / queued) if queued else 100,
        "poll_url": f"{request.url.path}?{request.url.query}",
    }
    return render_page_or_fragment(request, "admin/import_progress.html", "admin/_import_status.html", context)


routes = [
    Route(PATH, import_page, methods=["GET", "POST"], name="admin_import"),
    Route(PROGRESS_PATH, import_progress, name="admin_import_progress"),
]
