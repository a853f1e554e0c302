"""Who is asking: the login session or API token behind a request, and the login requirement.

Kennisbank is an internal platform: every page and API endpoint needs a login, except the few in
`PUBLIC_PATHS`. The middleware resolves the user once per request (a server-side session from the
cookie, or a bearer API token on ``/api/`` only) and puts it on ``request.state.user``; a request
authenticated by a token has ``token_auth`` set, which the CSRF layer (inside this one) relies on. A
session whose second login step is still open, or a beheerder who has not yet set up two-step login,
may reach only the pages that finish that step.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ... import audit, permissions
from ...accounts import service as accounts
from ...accounts import sessions
from ...audit import Actor
from ...models import User
from ...rendering import dutch_date
from ...settings import Settings
from ..problems import problem

PUBLIC_PATHS = frozenset(
    {
        "/inloggen",
        "/inloggen/oidc",
        "/inloggen/oidc/terug",
        "/toegankelijkheid",
        "/privacy",
        "/api/v1/openapi.json",
        "/healthz",
        "/readyz",
        "/digest/afmelden",
        "/introductie/afmelden",
    }
)
# Feed readers cannot log in: a feed's unguessable token is its credential (kennisbank/digest/subscriptions.py).
PUBLIC_PREFIXES = ("/static/", "/feeds/")
PROBE_PATHS = frozenset({"/healthz", "/readyz"})  # no session lookup: they must answer while the database is down
SECOND_STEP_PATHS = frozenset({"/inloggen/code", "/uitloggen"})
ENROLMENT_PATHS = frozenset({"/account/tweestaps", "/uitloggen"})


def session_cookie_name(secure: bool) -> str:
    return "__Host-kb_session" if secure else "kb_session"


def session_policy(settings: Settings) -> sessions.SessionPolicy:
    return sessions.policy(settings)


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.cookie = session_cookie_name(settings.secure_cookies)
        self.policy = session_policy(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        state = scope.setdefault("state", {})
        user, token_auth, stage, session_started = None, False, "anonymous", None
        # A personal API token is for scripts on the API only: on pages and forms it counts for nothing,
        # so it can neither skip the second login step nor satisfy the CSRF check there.
        bearer = _bearer_token(connection.headers) if scope["path"].startswith("/api/") else None
        if bearer is not None:
            try:
                user = await accounts.user_for_token(bearer)
                refusal = "Het API-token is onbekend of ingetrokken."
            except accounts.ExpiredToken as expired:
                user, refusal = (
                    None,
                    (
                        f"Het API-token is verlopen op {dutch_date(expired.expired_at)}. "
                        "Maak op uw accountpagina een nieuw token aan."
                    ),
                )
            if user is None:
                await problem(
                    401,
                    "Niet ingelogd",
                    refusal,
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )(scope, receive, send)
                return
            token_auth, stage = True, "complete"  # the session cookie, if any, is ignored entirely
        else:
            active = await sessions.resume(connection.cookies.get(self.cookie, ""), self.policy)
            if active is not None:
                user, session_started = active.user, active.session.created_at
                if not active.complete:
                    stage = "second_step"
                elif permissions.must_use_second_factor(user) and not user.totp_enabled:
                    stage = "enrolment"
                else:
                    stage = "complete"
        state.update(
            user=user if stage == "complete" else None,
            pending_user=user,
            token_auth=token_auth,
            login_stage=stage,
            session_started=session_started,
        )

        path = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        allowed: Collection[str] | None = {
            "complete": None,
            "second_step": SECOND_STEP_PATHS,
            "enrolment": ENROLMENT_PATHS,
        }.get(stage, set())
        if allowed is None or path in allowed:
            await self.app(scope, receive, send)
            return
        await self._redirect_to_login(scope, stage)(scope, receive, send)

    @staticmethod
    def _redirect_to_login(scope: Scope, stage: str) -> Response:
        if scope["path"].startswith("/api/"):
            return problem(
                401,
                "Niet ingelogd",
                "Log in of stuur een API-token mee (Authorization: Bearer …).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        app = scope["app"]
        if stage == "second_step":
            return RedirectResponse(app.url_path_for("login_code"), status_code=303)
        if stage == "enrolment":
            return RedirectResponse(app.url_path_for("totp_setup"), status_code=303)
        target = scope["path"] + (("?" + scope["query_string"].decode("latin-1")) if scope["query_string"] else "")
        if scope["method"] != "GET":
            target = "/"
        return RedirectResponse(f"{app.url_path_for('login')}?volgende={quote(target, safe='')}", status_code=303)


def _bearer_token(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def current_user(request: HTTPConnection) -> User | None:
    return request.scope.get("state", {}).get("user")


def logged_in_user(request: HTTPConnection) -> User:
    """The user of a page behind the login: AuthMiddleware sends anyone else to the login page first."""
    user = current_user(request)
    if user is None:
        raise RuntimeError(f"{request.url.path} is served without a login; is it in PUBLIC_PATHS?")
    return user


def actor(request: HTTPConnection) -> Actor:
    return Actor(current_user(request), client_ip(request))


def client_ip(request: HTTPConnection) -> str:
    return request.client.host if request.client else ""


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path on this site, never another site (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def refuse(request: Request, *, object_type: str = "", object_id: object = "", what: str = "") -> Response:
    """403 for a logged-in user who may not do this: audited, a Dutch page or problem+json."""
    await audit.record(
        actor(request),
        "access_denied",
        result=audit.DENIED,
        object_type=object_type,
        object_id=object_id if object_id is not None else "",
        detail={"method": request.method, "path": request.url.path, "what": what},
    )
    message = "U hebt geen rechten voor deze handeling."
    if request.url.path.startswith("/api/"):
        return problem(403, "Geen toegang", message)
    return request.app.state.templates.TemplateResponse(request, "403.html", {"message": message}, status_code=403)


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    """HttpOnly, SameSite=Lax; ``__Host-`` and Secure whenever the site runs on https."""
    response.set_cookie(
        session_cookie_name(settings.secure_cookies),
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        session_cookie_name(settings.secure_cookies),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def session_token(request: HTTPConnection) -> str:
    return request.cookies.get(session_cookie_name(request.app.state.settings.secure_cookies), "")
