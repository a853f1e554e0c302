"""What several route modules do for an account: start a session after a login step (password or
OIDC), and show the account page (its own forms and the digest's subscription forms re-render it
with their errors)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise import timezone

from ...accounts import service as accounts
from ...accounts import sessions
from ...audit import Actor
from ...digest import subscriptions
from ...models import User
from ...permissions import requires_second_factor
from ..middleware.auth import client_ip, current_user, session_token, set_session_cookie
from ..templating import path_for, render


async def start_session(request: Request, user: User, target: str, *, method: str) -> Response:
    """A fresh session (new id, old one ended) after the first login step; the second step follows if needed."""
    needs_code = requires_second_factor(user) and user.totp_enabled
    token = await sessions.start(
        user, ip=client_ip(request), second_factor_done=not needs_code, replaces=session_token(request) or None
    )
    if needs_code:
        response = RedirectResponse(
            f"{path_for(request, 'login_code')}?volgende={quote(target, safe='')}", status_code=303
        )
    else:
        await accounts.logged_in(Actor(user, client_ip(request)), method=method)
        response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, token, request.app.state.settings)
    return response


async def account(
    request: Request,
    *,
    new_token: accounts.NewToken | None = None,
    errors: dict[str, list[str]] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    user = current_user(request)
    assert user is not None
    tokens = await accounts.list_tokens(user)
    now = timezone.now()
    context = {
        "user": user,
        "tokens": tokens,
        "expired_tokens": {t.id for t in tokens if t.expires_at is not None and t.expires_at <= now},
        "token_lifetimes": accounts.TOKEN_LIFETIMES,
        "default_token_lifetime": accounts.DEFAULT_TOKEN_LIFETIME,
        "new_token": new_token,
        "subscriptions": await subscriptions.subscriptions_of(user),
        "errors": errors or {},
        "notice": notice or _notice(request),
        "sessions": await sessions.count_for(user.id),
    }
    return render(request, "account/account.html", context, status_code=status_code)


def _notice(request: Request) -> str:
    notices = {
        "wachtwoord": "Uw wachtwoord is gewijzigd. Uw andere sessies zijn beëindigd en al uw API-tokens "
        "zijn ingetrokken: maak zo nodig een nieuw token aan voor uw scripts.",
        "tweestaps": "Tweestapsverificatie staat aan.",
        "tweestaps-uit": "Tweestapsverificatie staat uit.",
        "ingetrokken": "Het API-token is ingetrokken.",
        "overzicht": "Uw instellingen voor het wekelijkse overzicht zijn opgeslagen.",
        "abonnement": "Het abonnement is toegevoegd.",
        "abonnement-weg": "Het abonnement is verwijderd.",
    }
    return notices.get(request.query_params.get("gedaan", ""), "")
