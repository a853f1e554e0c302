"""Probes for load balancers and orchestrators.

``/healthz`` says the process is alive and touches nothing else, so a slow or unreachable database
never gets a healthy process restarted. ``/readyz`` says whether requests can be served: the
database and the search index both answer within five seconds (checked side by side). Both are
public (see middleware/auth.py) and never cached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import connections

from search import SearchIndex

from .problems import PROBLEM_TYPE

logger = logging.getLogger("kennisbank.health")

CHECK_TIMEOUT_SECONDS = 5
NO_STORE = {"Cache-Control": "no-store"}
DUTCH_NAMES = {"database": "de database", "search": "de zoekindex"}


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    index = getattr(request.app.state, "search_index", None)
    database, search = await asyncio.gather(
        _check("database", _query_database), _check("search", lambda: _count_documents(index))
    )
    checks = {"database": database, "search": search}
    down = [name for name, state in checks.items() if state != "ok"]
    if not down:
        return JSONResponse({"status": "ok", "checks": checks}, headers=NO_STORE)
    body = {
        "type": "about:blank",
        "title": "Niet gereed",
        "status": 503,
        "detail": "Niet bereikbaar: " + " en ".join(DUTCH_NAMES[name] for name in down) + ".",
        "down": down,
        "checks": checks,
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_TYPE, headers=NO_STORE)


async def _query_database() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def _count_documents(index: SearchIndex | None) -> None:
    if index is None:
        raise RuntimeError("the search index is not open")
    await anyio.to_thread.run_sync(index.count, abandon_on_cancel=True)


async def _check(name: str, probe: Callable[[], Awaitable[object]]) -> str:
    """ "ok", or what went wrong in a few words (the details go to the log, not to the caller)."""
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await probe()
    except TimeoutError:
        logger.warning("readiness: %s did not answer within %s s", name, CHECK_TIMEOUT_SECONDS)
        return "geen antwoord"
    except Exception as exc:
        logger.warning("readiness: %s is unreachable", name, exc_info=True)
        return f"onbereikbaar ({type(exc).__name__})"
    return "ok"


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/readyz", readyz, methods=["GET", "HEAD"]),
]
