"""Logging in and out, the second login step, and the account page (password, two-step login, API tokens)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ... import audit
from ...accounts import service as accounts
from ...accounts import sessions
from ...audit import Actor
from ...initiatives.validation import InputError, required_message
from ...models import User
from ..middleware.auth import (
    actor,
    clear_session_cookie,
    client_ip,
    current_user,
    safe_next,
    session_token,
    set_session_cookie,
)
from ..templating import path_for, render
from .account_views import account, start_session

WRONG_CREDENTIALS = "Het e-mailadres of het wachtwoord klopt niet."
WRONG_CODE = "Deze code klopt niet of is al gebruikt. Wacht op de volgende code van uw app en probeer het opnieuw."


def _wait_message(seconds: int) -> str:
    minutes = "minuut" if seconds <= 60 else f"{-(-seconds // 60)} minuten"
    wait = f"{seconds} seconden" if seconds < 60 else minutes
    return f"Te veel mislukte pogingen. Probeer het over {wait} opnieuw."


def _too_many(request: Request, template: str, seconds: int, context: dict[str, Any]) -> Response:
    response = render(request, template, {**context, "error": _wait_message(seconds)}, status_code=429)
    response.headers["Retry-After"] = str(seconds)
    return response


async def login(request: Request) -> Response:
    settings = request.app.state.settings
    target = safe_next(request.query_params.get("volgende"))
    context = {"next": target, "email": "", "oidc_label": settings.oidc_label if settings.oidc_enabled else ""}
    if request.method == "GET":
        return render(request, "account/login.html", context)
    form = await request.form()
    email = accounts.normalise_email(str(form.get("email", "")))
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")) or target)
    context.update(email=email, next=target)
    missing = [
        accounts.ACCOUNT_FIELD_LABELS[name] for name, value in (("email", email), ("password", password)) if not value
    ]
    if missing:
        return render(
            request,
            "account/login.html",
            {**context, "error": " ".join(map(required_message, missing))},
            status_code=422,
        )
    throttle = request.app.state.login_throttle
    ip = client_ip(request)
    wait = await throttle.claim(email, ip)  # counted before the password is checked: no race buys extra tries
    if wait:
        await audit.record(Actor(None, ip), "login", result=audit.DENIED, email=email, detail={"reason": "te vaak"})
        return _too_many(request, "account/login.html", wait, context)
    user = await accounts.authenticate(Actor(None, ip), email, password)
    if user is None:
        await throttle.failed(email, ip)
        return render(request, "account/login.html", {**context, "error": WRONG_CREDENTIALS}, status_code=401)
    await throttle.succeeded(email, ip)
    return await start_session(request, user, target, method="wachtwoord")


async def second_step(request: Request) -> Response:
    user: User | None = request.scope["state"].get("pending_user")
    target = safe_next(request.query_params.get("volgende"))
    if user is None or request.scope["state"].get("login_stage") != "second_step":
        return RedirectResponse(path_for(request, "login"), status_code=303)
    context = {"next": target}
    if request.method == "GET":
        return render(request, "account/login_code.html", context)
    form = await request.form()
    target = safe_next(str(form.get("next", "")) or target)
    throttle = request.app.state.login_throttle
    ip, key = client_ip(request), f"code:{user.email}"
    wait = await throttle.claim(key, ip)
    if wait:
        return _too_many(request, "account/login_code.html", wait, context)
    if not await accounts.verify_totp(user, str(form.get("code", ""))):
        await throttle.failed(key, ip)
        await audit.record(
            Actor(user, ip), "login_second_factor", result=audit.FAILED, object_type="user", object_id=user.id
        )
        return render(request, "account/login_code.html", {**context, "error": WRONG_CODE}, status_code=401)
    await throttle.succeeded(key, ip)
    token = await sessions.start(user, ip=ip, second_factor_done=True, replaces=session_token(request))
    await accounts.logged_in(Actor(user, ip), method="wachtwoord en code")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, token, request.app.state.settings)
    return response


async def logout(request: Request) -> Response:
    user = request.scope["state"].get("pending_user")
    token = session_token(request)
    if token:
        await sessions.end(token)
    if user is not None:
        await audit.record(Actor(user, client_ip(request)), "logout", object_type="user", object_id=user.id)
    response = RedirectResponse(path_for(request, "login") + "?uitgelogd=1", status_code=303)
    clear_session_cookie(response, request.app.state.settings)
    return response


async def account_page(request: Request) -> Response:
    return await account(request)


async def change_password(request: Request) -> Response:
    form = await request.form()
    try:
        await accounts.change_password(
            actor(request),
            str(form.get("current_password", "")),
            str(form.get("new_password", "")),
            session_token=session_token(request),
        )
    except InputError as exc:
        return await account(request, errors=exc.errors, status_code=422)
    return RedirectResponse(path_for(request, "account") + "?gedaan=wachtwoord", status_code=303)


async def confirm_password(request: Request, user: User, password: str, *, purpose: str) -> tuple[str, int]:
    """Re-authentication before a sensitive change: ("", 0) when the current password is right, otherwise
    the Dutch message for next to the field and the status (422, or 429 while guesses are throttled)."""
    throttle = request.app.state.login_throttle
    ip, key = client_ip(request), f"reauth:{user.email}"
    wait = await throttle.claim(key, ip)
    if wait:
        return _wait_message(wait), 429
    reason = await accounts.confirm_password(
        Actor(user, ip), password, purpose=purpose, session_started=request.scope["state"].get("session_started")
    )
    if reason:
        await throttle.failed(key, ip)
        return reason, 422
    await throttle.succeeded(key, ip)
    return "", 0


async def totp_setup(request: Request) -> Response:
    """Set up two-step login: show a new secret, then turn it on once the user confirms their password and
    types a code from their app."""
    user = request.scope["state"].get("user") or request.scope["state"].get("pending_user")
    assert user is not None
    if request.method == "GET":
        secret = accounts.new_totp_secret()
        return render(
            request,
            "account/totp_setup.html",
            {"user": user, "secret": secret, "uri": accounts.totp_uri(user, secret), "errors": {}},
        )
    form = await request.form()
    secret = str(form.get("secret", ""))
    context = {"user": user, "secret": secret, "uri": accounts.totp_uri(user, secret), "errors": {}}
    refusal, status = await confirm_password(
        request, user, str(form.get("current_password", "")), purpose="tweestapsverificatie instellen"
    )
    if refusal:
        return render(
            request,
            "account/totp_setup.html",
            {**context, "errors": {"current_password": [refusal]}},
            status_code=status,
        )
    if not await accounts.enable_totp(
        Actor(user, client_ip(request)), secret, str(form.get("code", "")), str(form.get("current_code", ""))
    ):
        return render(request, "account/totp_setup.html", {**context, "error": WRONG_CODE}, status_code=422)
    return RedirectResponse(path_for(request, "account") + "?gedaan=tweestaps", status_code=303)


async def totp_disable(request: Request) -> Response:
    if not await accounts.disable_totp(actor(request)):
        return await account(
            request, errors={"totp": ["Beheerders moeten tweestapsverificatie gebruiken."]}, status_code=403
        )
    return RedirectResponse(path_for(request, "account") + "?gedaan=tweestaps-uit", status_code=303)


async def token_create(request: Request) -> Response:
    form = await request.form()
    user = current_user(request)
    assert user is not None
    refusal, status = await confirm_password(
        request, user, str(form.get("current_password", "")), purpose="API-token aanmaken"
    )
    if refusal:
        return await account(request, errors={"token_password": [refusal]}, status_code=status)
    try:
        new_token = await accounts.create_token(
            actor(request), str(form.get("name", "")), str(form.get("valid_days", accounts.DEFAULT_TOKEN_LIFETIME))
        )
    except InputError as exc:
        return await account(request, errors=exc.errors, status_code=422)
    return await account(request, new_token=new_token, status_code=201)


async def token_revoke(request: Request) -> Response:
    if not await accounts.revoke_token(actor(request), request.path_params["token_id"]):
        return await account(
            request, errors={"tokens": ["Dit token bestaat niet of is al ingetrokken."]}, status_code=404
        )
    return RedirectResponse(path_for(request, "account") + "?gedaan=ingetrokken", status_code=303)


routes = [
    Route("/inloggen", login, methods=["GET", "POST"], name="login"),
    Route("/inloggen/code", second_step, methods=["GET", "POST"], name="login_code"),
    Route("/uitloggen", logout, methods=["POST"], name="logout"),
    Route("/account", account_page, name="account"),
    Route("/account/wachtwoord", change_password, methods=["POST"], name="password_change"),
    Route("/account/tweestaps", totp_setup, methods=["GET", "POST"], name="totp_setup"),
    Route("/account/tweestaps/uitzetten", totp_disable, methods=["POST"], name="totp_disable"),
    Route("/account/tokens", token_create, methods=["POST"], name="token_create"),
    Route("/account/tokens/{token_id:int}/intrekken", token_revoke, methods=["POST"], name="token_revoke"),
]
