"""Cross-site request forgery protection for every state-changing request.

Double-submit token: each browser gets a random token in a cookie; every form carries it in a hidden
``csrf_token`` field and htmx sends it as the ``X-CSRF-Token`` header. An unsafe request is let
through only when the submitted token equals the cookie, and never when the browser says the
request came from another site. Checked here, centrally, so no route can forget it.

An API request that the authentication layer (outside this one) authenticated by a valid personal API
token (``Authorization: Bearer kb_…``) is exempt from the token: a browser never adds that header by
itself, so another site cannot forge one, and such a request ignores the session cookie entirely.
Any other request — an ``Authorization`` header of another scheme included — relies on the session
cookie and needs the token (the ``X-CSRF-Token`` header on the API, like htmx sends). On the API a
refusal is ``application/problem+json``. No request is exempt from the cross-site check.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
MAX_FORM_BYTES = 2 * 1024 * 1024
# Reached from a mail: the RFC 8058 one-click unsubscribe is POSTed by the mail provider, without our
# cookie and possibly cross-site. The signed token in its URL is the credential, and the only thing it
# can do is turn the weekly mail off, so neither check applies there.
TOKEN_AUTHORISED_PATHS = frozenset({"/digest/afmelden", "/introductie/afmelden"})


def cookie_name(secure: bool) -> str:
    return "__Host-csrf" if secure else "kb_csrf"


class CSRFMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        secure: bool,
        exempt_prefixes: tuple[str, ...] = ("/api/",),
        upload_limits: Mapping[str, int] | None = None,
    ) -> None:
        """`upload_limits`: paths that take a file upload (multipart/form-data), with their largest body."""
        self.app = app
        self.secure = secure
        self.cookie = cookie_name(secure)
        self.exempt_prefixes = exempt_prefixes
        self.upload_limits = dict(upload_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = SimpleCookie(headers.get("cookie", ""))
        existing = cookies[self.cookie].value if self.cookie in cookies else ""
        token = existing or secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token

        if scope["method"] not in SAFE_METHODS and scope["path"] not in TOKEN_AUTHORISED_PATHS:
            if headers.get("sec-fetch-site") == "cross-site":
                await _forbidden(scope, receive, send)
                return
            token_authenticated = (
                scope["path"].startswith(self.exempt_prefixes) and scope["state"].get("token_auth") is True
            )
            # Every body is bounded, a token's too: a 300 MB JSON body was read and parsed in full.
            body, receive = await _buffer_body(receive, self.upload_limits.get(scope["path"], MAX_FORM_BYTES))
            if body is None:
                await _too_large(scope, receive, send)
                return
            if not token_authenticated:
                submitted = (
                    headers.get(HEADER)
                    or _form_token(headers, body)
                    or (_upload_token(headers, body) if scope["path"] in self.upload_limits else "")
                )
                if not existing or not submitted or not hmac.compare_digest(submitted.encode(), existing.encode()):
                    await _forbidden(scope, receive, send)
                    return

        # A client that authenticated by its API token has no session for the cookie to protect.
        needs_cookie = not existing and scope["state"].get("token_auth") is not True

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and needs_cookie:
                attributes = f"{self.cookie}={token}; Path=/; SameSite=Lax; HttpOnly"
                if self.secure:
                    attributes += "; Secure"
                message.setdefault("headers", []).append((b"set-cookie", attributes.encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """413: problem+json on the API, a page with a way back elsewhere (the browser keeps the typed form)."""
    if scope["path"].startswith("/api/"):
        limit = f"{MAX_FORM_BYTES // (1024 * 1024)} MB"
        response: Response = problem(413, "Te groot", f"Het verzoek is te groot: stuur hoogstens {limit}.")
    else:
        response = HTMLResponse(_TOO_LARGE_PAGE, status_code=413)
    await response(scope, receive, send)


_TOO_LARGE_PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Te groot – Kennisbank</title></head>
<body><main><h1>Dit is te groot om te versturen</h1>
<p>Wat u verstuurde is groter dan Kennisbank aanneemt (een formulier hoogstens 2 MB). Er is niets opgeslagen.</p>
<p>Ga met de terugknop van uw browser terug (die bewaart meestal wat u typte), maak de tekst korter en
verstuur opnieuw, of ga naar de <a href="/">startpagina</a>.</p></main></body></html>
"""


async def _buffer_body(receive: Receive, limit: int = MAX_FORM_BYTES) -> tuple[bytes | None, Receive]:
    """Read the whole request body and return a receive callable that replays it to the app.

    The body is None when it is larger than `limit` (what a form, or an upload there, can reasonably be).
    """
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _form_token(headers: Headers, body: bytes) -> str:
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return ""
    values = parse_qs(body.decode("utf-8", errors="replace")).get(FORM_FIELD, [])
    return values[0] if values else ""


def _upload_token(headers: Headers, body: bytes) -> str:
    """The token of an upload form: multipart/form-data whose first part is the ``csrf_token`` field.

    Browsers send the parts in the form's order and our upload forms put the hidden field first, so
    only the start of the body is read, whatever the size of the file after it; a token anywhere else
    is not found and the request is refused."""
    content_type = headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return ""
    boundary = _BOUNDARY.search(content_type)
    if boundary is None:
        return ""
    delimiter = b"--" + boundary.group(1).strip('"').encode("latin-1")
    first = _FIRST_PART.match(body[:4096])
    if first is None or first.group(1) != delimiter or first.group(2) != FORM_FIELD.encode():
        return ""
    return first.group(3).decode("ascii", errors="replace")


_BOUNDARY = re.compile(r"boundary=(\"[^\"]+\"|[^;\s]+)")
_FIRST_PART = re.compile(
    rb'(--[^\r\n]+)\r\nContent-Disposition: form-data; name="([^"]+)"\r\n\r\n([A-Za-z0-9_\-]{1,200})\r\n', re.IGNORECASE
)


async def _forbidden(scope: Scope, receive: Receive, send: Send) -> None:
    response: Response
    if scope["path"].startswith("/api/"):
        response = problem(
            403,
            "Verzoek geweigerd",
            "De CSRF-beveiligingscode ontbreekt of klopt niet. Stuur bij een wijziging met de "
            "sessiecookie de header X-CSRF-Token mee, of gebruik een API-token "
            "(Authorization: Bearer …).",
        )
    else:
        response = PlainTextResponse(
            "Dit verzoek is geweigerd: de beveiligingscode van het formulier ontbreekt of is verlopen. "
            "Laad de pagina opnieuw en probeer het nog eens.",
            status_code=403,
        )
    await response(scope, receive, send)
