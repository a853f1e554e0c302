"""Logging in through the province's own identity provider (OIDC), when configured by settings.

Leaving for the provider, the state, nonce, PKCE verifier and target page go into a short-lived signed
cookie (HttpOnly, SameSite=Lax: the provider's redirect back is a top-level GET, so the cookie comes
along). Coming back, the verified e-mail address must belong to an existing active account: a beheerder
decides who gets an account, role and province. The login then continues exactly like a password login,
including the second step for beheerders.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ... import audit, signing
from ...accounts import oidc
from ...audit import Actor
from ...models import User
from ...settings import Settings
from ..middleware.auth import client_ip, safe_next
from .account_views import start_session

ATTEMPT_SECONDS = 600
PURPOSE = "oidc-login"


def _cookie_name(settings: Settings) -> str:
    return "__Host-kb_oidc" if settings.secure_cookies else "kb_oidc"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.oidc_enabled:
        raise HTTPException(404)
    return settings


def _pack(settings: Settings, attempt: oidc.Attempt, target: str) -> str:
    payload = {
        "s": attempt.state,
        "n": attempt.nonce,
        "v": attempt.code_verifier,
        "t": target,
        "e": int(time.time()) + ATTEMPT_SECONDS,
    }
    encoded = base64.urlsafe_b64encode(json.dumps(payload).encode("utf-8")).decode("ascii").rstrip("=")
    return signing.sign(settings, PURPOSE, encoded)


def _unpack(settings: Settings, cookie: str) -> tuple[oidc.Attempt, str] | None:
    encoded = signing.unsign(settings, PURPOSE, cookie)
    if encoded is None:
        return None
    try:
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        if int(payload["e"]) < time.time():
            return None
        attempt = oidc.Attempt(state=str(payload["s"]), nonce=str(payload["n"]), code_verifier=str(payload["v"]))
        return attempt, safe_next(str(payload["t"]))
    except (ValueError, KeyError, TypeError):
        return None


async def start(request: Request) -> Response:
    settings = _settings(request)
    target = safe_next(request.query_params.get("volgende"))
    try:
        provider = await oidc.discover(settings)
    except oidc.OIDCError as exc:
        await audit.record(
            Actor(None, client_ip(request)),
            "login",
            result=audit.FAILED,
            detail={"method": "oidc", "reason": exc.reason},
        )
        return _failed(request)
    attempt = oidc.new_attempt()
    response = RedirectResponse(oidc.authorization_url(settings, provider, attempt), status_code=303)
    response.set_cookie(
        _cookie_name(settings),
        _pack(settings, attempt, target),
        max_age=ATTEMPT_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


async def callback(request: Request) -> Response:
    settings = _settings(request)
    ip = client_ip(request)
    unpacked = _unpack(settings, request.cookies.get(_cookie_name(settings), ""))
    params = request.query_params
    reason = ""
    if unpacked is None:
        reason = "inlogpoging onbekend of verlopen"
    elif not hmac.compare_digest(params.get("state", "").encode(), unpacked[0].state.encode()):
        reason = "state klopt niet"
    elif params.get("error"):
        reason = f"identity provider meldt: {params.get('error', '')[:100]}"
    elif not params.get("code"):
        reason = "geen code ontvangen"
    if reason or unpacked is None:
        return await _refuse(request, settings, reason)
    attempt, target = unpacked
    try:
        email = await oidc.verified_email(settings, attempt, params["code"])
    except oidc.OIDCError as exc:
        return await _refuse(request, settings, exc.reason)
    user = await User.get_or_none(email=email)
    if user is None or not user.active:
        reason = "onbekend account" if user is None else "geblokkeerd"
        await audit.record(
            Actor(user, ip),
            "login",
            result=audit.FAILED,
            email=email,
            object_type="user",
            object_id=user.id if user else "",
            detail={"method": "oidc", "reason": reason},
        )
        response = _failed(request, unknown_account=user is None)
    else:
        response = await start_session(request, user, target, method="oidc")
    _forget_attempt(response, settings)
    return response


async def _refuse(request: Request, settings: Settings, reason: str) -> Response:
    await audit.record(
        Actor(None, client_ip(request)), "login", result=audit.FAILED, detail={"method": "oidc", "reason": reason}
    )
    response = _failed(request)
    _forget_attempt(response, settings)
    return response


def _forget_attempt(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        _cookie_name(settings), path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )


def _failed(request: Request, *, unknown_account: bool = False) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "account/oidc_error.html", {"unknown_account": unknown_account}, status_code=403
    )


routes = [
    Route("/inloggen/oidc", start, name="login_oidc"),
    Route("/inloggen/oidc/terug", callback, name="login_oidc_callback"),
]
