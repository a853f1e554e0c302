"""The application factory: settings in, ASGI app out."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles

from search import SearchIndex, SearchUnavailable
from search.embeddings import Embedder

from ..accounts.login_throttle import LoginThrottle
from ..db import close_database, open_database
from ..errors import KennisbankError
from ..initiatives.service import add_change_listener, remove_change_listener
from ..matching.service import Matcher
from ..models import Initiative
from ..rendering import STATIC_DIR
from ..searching.indexing import document_without_encoder, open_embedder, open_search_index, reindex
from ..searching.job_consumer import JobConsumer
from ..settings import Settings
from . import health
from .api import collaborations as collaboration_api
from .api import initiatives as initiative_api
from .api import matches as match_api
from .api.openapi import openapi_document
from .middleware.api_transport import ApiTransportMiddleware, DeclaredQueryKeys
from .middleware.auth import AuthenticationMiddleware
from .middleware.csrf import CSRFMiddleware
from .middleware.request_id import RequestIdMiddleware
from .middleware.security_headers import SecurityHeadersMiddleware, add_security_headers
from .pages import accounts as account_pages
from .pages import admin as admin_pages
from .pages import collaborations as collaboration_pages
from .pages import dashboard as dashboard_pages
from .pages import digest as digest_pages
from .pages import imports as import_pages
from .pages import initiatives as initiative_pages
from .pages import introductions as introduction_pages
from .pages import matches as match_pages
from .pages import oidc as oidc_pages
from .pages import subscriptions as subscription_pages
from .problems import problem
from .templating import make_templates, render

logger = logging.getLogger("kennisbank")

#: The HTML error page of a status; any other status gets ``error.html`` (its title and detail).
ERROR_PAGES = {400: "400.html", 403: "403.html", 404: "404.html", 500: "500.html"}


async def _prepare_matcher(matcher: Matcher, done: anyio.Event | None = None) -> None:
    started = time.perf_counter()
    try:
        rematched = await matcher.ensure_prepared()
        logger.info(
            "match engine ready after %.1f s (%s)",
            time.perf_counter() - started,
            "full rematch" if rematched else "loaded with the stored suggestions",
        )
    except Exception:  # serve anyway: the first save, `kennisbank match` or the nightly job retries
        logger.exception("preparing the match engine failed")
    finally:
        if done is not None:
            done.set()


async def _catch_up(
    matcher: Matcher, consumer: JobConsumer, engine_tried: anyio.Event, reconciled: anyio.Event
) -> None:
    """The inline path's background: the engine and the start-up reindex first, then what they and
    the saves during the loading left queued (those saves did not wait for the engine)."""
    await _prepare_matcher(matcher, engine_tried)
    await reconciled.wait()
    await _drain(consumer)


async def _drain(consumer: JobConsumer) -> None:
    try:
        await consumer.drain()
    except Exception:  # serve anyway: the jobs stay queued for `kennisbank worker` or the next start
        logger.exception("working off the queued semantic jobs failed")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Everything opened is closed again, also when start-up fails halfway (Tortoise allows one
        # open database context per process).
        async with AsyncExitStack() as cleanup:
            # The encoder and the index open in a thread while the database opens: most of a second
            # each that a start would otherwise spend one after the other before it answers.
            def open_index() -> tuple[Embedder | None, SearchIndex]:
                encoder = open_embedder(settings)
                opened = open_search_index(settings, encoder)
                cleanup.callback(opened.close)
                return encoder, opened

            cleanup.push_async_callback(close_database)  # also when opening fails halfway
            async with anyio.create_task_group() as opening:
                opening.start_soon(open_database, settings)
                embedder, index = await anyio.to_thread.run_sync(open_index)
            app.state.search_index, app.state.embedder = index, embedder
            matcher = Matcher(embedder)
            app.state.matcher = matcher
            consumer = JobConsumer.from_settings(settings, embedder, index, matcher)
            app.state.job_consumer = consumer
            # The engine is prepared after start-up, not before it, and without a full rematch when
            # suggestions are stored (from `kennisbank match`, the seed or the nightly job): they serve
            # the queue, and the job queue rematches what changed. No request waits for it: a save
            # meanwhile is keyword-searchable at once and its matches show "wordt verwerkt" until its
            # job ran after the loading.
            background = await cleanup.enter_async_context(anyio.create_task_group())
            cleanup.callback(background.cancel_scope.cancel)
            # The semantic part of every save (embedding, vector, matches) comes from the job queue,
            # which this task shares with `kennisbank worker`. Without an encoder that part is quick and
            # is done inside the save's request, as it is with KENNISBANK_EMBED_IN_REQUEST (the old path).
            inline = embedder is None or settings.embed_in_request
            # Inline, only what start-up found queued is left for the background (so no background
            # claim races a request for its own job); otherwise the consumer runs for good.
            # Saves during the start-up reindex, indexed again after it (it may have read them before).
            saved_meanwhile: set[int] | None = set()
            reconciled = app.state.reconciled = anyio.Event()

            async def reconcile() -> None:
                """Repair what a crash between a save and its indexing left behind, while serving: at
                20,000 initiatives reading them all takes seconds. Without the encoder: what has no
                embedding yet is queued for the consumer."""
                nonlocal saved_meanwhile
                try:
                    await reindex(index, embedder, embed=False)
                    while saved_meanwhile:
                        ids, saved_meanwhile = saved_meanwhile, set()
                        saved = await Initiative.filter(id__in=sorted(ids)).prefetch_related("province", "themes")
                        documents = [await document_without_encoder(i, embedder) for i in saved]
                        await anyio.to_thread.run_sync(index.upsert, documents)
                except SearchUnavailable:  # serve anyway; `kennisbank reindex` or the nightly reindex catches up
                    logger.warning("start-up reindex skipped: the search server is unavailable", exc_info=True)
                except Exception:  # serve anyway, as above
                    logger.exception("the start-up reindex failed")
                finally:
                    saved_meanwhile = None
                    reconciled.set()
                consumer.notify()

            background.start_soon(reconcile)
            engine_tried = app.state.engine_tried = anyio.Event()
            if inline:
                background.start_soon(_catch_up, matcher, consumer, engine_tried, reconciled)
            else:
                background.start_soon(_prepare_matcher, matcher, engine_tried)
                background.start_soon(consumer.run)

            async def index_change(initiative: Initiative) -> None:
                """Keyword-searchable at once; the vector and matches follow from its job (done here
                when inline)."""
                if saved_meanwhile is not None:
                    saved_meanwhile.add(initiative.id)
                try:
                    # Not while the engine loads: the catch-up after the loading does the job.
                    if inline and engine_tried.is_set() and await consumer.work_now(initiative.id):
                        return
                    document = await document_without_encoder(initiative, embedder)
                    await anyio.to_thread.run_sync(index.upsert, [document])
                except Exception:  # saved with its job: the queue, `kennisbank reindex` or the next start repair it
                    logger.exception("indexing initiative %s failed", initiative.id)
                consumer.notify()

            def semantic_work_queued() -> None:
                """Jobs were queued outside a save (an import on /beheer): the consumer takes them now;
                inline (no background consumer) a background drain works them off."""
                if inline:
                    background.start_soon(_drain, consumer)
                else:
                    consumer.notify()

            app.state.semantic_work_queued = semantic_work_queued
            add_change_listener(index_change)
            cleanup.callback(remove_change_listener, index_change)
            yield

    async def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return problem(404, "Niet gevonden", "Dit adres bestaat niet in de API.")
        return request.app.state.templates.TemplateResponse(request, "404.html", {}, status_code=404)

    async def server_error(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            response = problem(500, "Interne fout", "Er ging iets mis aan onze kant. Probeer het later opnieuw.")
        else:
            response = request.app.state.templates.TemplateResponse(request, "500.html", {}, status_code=500)
        return add_security_headers(response, request)

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        allow = {"Allow": ", ".join(_allowed_methods(request))}
        if request.url.path.startswith("/api/"):
            return problem(
                405, "Methode niet toegestaan", f"Dit adres accepteert alleen {allow['Allow']}.", headers=allow
            )
        # Reached by reloading the address a refused form was posted to, or by a bookmark of it.
        context = {
            "error": {"title": "Dit adres is geen pagina"},
            "message": "Dit adres verwerkt een formulier en is niet om te bekijken. Wat u eerder opsloeg, is bewaard.",
        }
        response = render(request, "error.html", context, status_code=405)
        response.headers.update(allow)
        return response

    async def kennisbank_error(request: Request, exc: Exception) -> Response:
        """Every `KennisbankError` a route lets through, answered from what the class carries."""
        assert isinstance(exc, KennisbankError)
        if exc.status >= 500:
            logger.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
        if request.url.path.startswith("/api/"):
            return problem(exc.status, exc.title, exc.detail, errors=exc.errors or None, headers=exc.headers or None)
        context = {"error": exc, "errors": exc.errors, "message": exc.page_message or exc.detail}
        return render(request, ERROR_PAGES.get(exc.status, "error.html"), context, status_code=exc.status)

    app = Starlette(
        routes=[
            *initiative_pages.routes,
            *account_pages.routes,
            *admin_pages.routes,
            *import_pages.routes,
            *subscription_pages.routes,
            *digest_pages.routes,
            *match_pages.routes,
            *collaboration_pages.routes,
            *introduction_pages.routes,
            *dashboard_pages.routes,
            *initiative_api.routes,
            *match_api.routes,
            *collaboration_api.routes,
            *health.routes,
            *oidc_pages.routes,
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(SecurityHeadersMiddleware),
            Middleware(ApiTransportMiddleware, query_keys=DeclaredQueryKeys.from_openapi(openapi_document())),
            # Authentication first: the CSRF check needs to know whether a valid API token authenticated
            # the request, and an anonymous API request gets its 401 before any CSRF question arises.
            Middleware(AuthenticationMiddleware, settings=settings),
            Middleware(
                CSRFMiddleware,
                secure=settings.secure_cookies,
                upload_limits={import_pages.PATH: import_pages.MAX_UPLOAD_BYTES},
            ),
        ],
        exception_handlers={
            404: not_found,
            405: method_not_allowed,
            500: server_error,
            KennisbankError: kennisbank_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.templates = make_templates()
    app.state.login_throttle = LoginThrottle()
    return app


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path (one path can have a route per method)."""
    probe = {**request.scope, "method": "\x00"}  # no route accepts it, so a matching path is a partial match
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.matches(probe)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)
