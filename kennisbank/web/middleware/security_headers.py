"""Security headers on every response, and the per-request nonce that lets our own scripts run under the CSP."""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The full version of the API (ADR /core/version-header), also info.version of the OpenAPI document.
API_VERSION = "1.0.0"

_FIXED_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"api-version", API_VERSION.encode()),
    # Browsers ignore HSTS over plain http (RFC 6797 §8.1), so it is safe to send always.
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]


def content_security_policy(nonce: str) -> bytes:
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
        f"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ).encode()


def csp_nonce(request: HTTPConnection) -> str:
    """The nonce of this response's CSP: put it on every <script> the page itself includes."""
    return request.scope.get("state", {}).get("csp_nonce", "")


def add_security_headers(response: Response, request: HTTPConnection) -> Response:
    """The same headers on a response this middleware never sees: Starlette's ServerErrorMiddleware sits
    outside every other middleware, so the 500 page must add them itself."""
    nonce = csp_nonce(request) or secrets.token_urlsafe(16)
    for name, value in [*_FIXED_HEADERS, (b"content-security-policy", content_security_policy(nonce))]:
        response.headers[name.decode()] = value.decode()
    return response


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend(_FIXED_HEADERS)
                headers.append((b"content-security-policy", content_security_policy(nonce)))
            await send(message)

        await self.app(scope, receive, send_with_headers)
