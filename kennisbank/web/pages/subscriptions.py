"""Managing the weekly digest and subscriptions (account page, saved searches) and the Atom feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from search import SearchUnavailable

from ...digest import feeds, subscriptions
from ...digest import service as digest
from ...initiatives.validation import InputError
from ..middleware.auth import logged_in_user
from ..templating import path_for
from .account_views import account

FEED_WEEKS = 8


async def digest_settings(request: Request) -> Response:
    form = await request.form()
    user = logged_in_user(request)
    await subscriptions.set_digest(user, weekly=form.get("weekly") == "ja", related=form.get("related") == "on")
    return RedirectResponse(path_for(request, "account") + "?gedaan=overzicht#overzicht-kop", status_code=303)


async def subscribe(request: Request) -> Response:
    form = await request.form()
    kind, value = str(form.get("kind", "")), str(form.get("value", ""))
    if "choice" in form:  # the account page's one select: "theme:stikstof"
        kind, _, value = str(form.get("choice", "")).partition(":")
    back_to_search = form.get("terug") == "zoeken"
    try:
        await subscriptions.subscribe(logged_in_user(request), kind, value)
    except InputError as exc:
        if back_to_search:
            return RedirectResponse(
                f"{path_for(request, 'search')}?{subscriptions.normalise_search(value)}", status_code=303
            )
        return await account(request, errors=exc.errors, status_code=422)
    if back_to_search:
        return RedirectResponse(
            f"{path_for(request, 'search')}?{subscriptions.normalise_search(value)}&bewaard=1", status_code=303
        )
    return RedirectResponse(path_for(request, "account") + "?gedaan=abonnement#overzicht-kop", status_code=303)


async def remove_subscription(request: Request) -> Response:
    await subscriptions.unsubscribe(logged_in_user(request), request.path_params["subscription_id"])
    return RedirectResponse(path_for(request, "account") + "?gedaan=abonnement-weg#overzicht-kop", status_code=303)


async def feed(request: Request) -> Response:
    """A subscription's Atom feed: public, because the unguessable token in the URL is the credential."""
    subscription = await subscriptions.by_feed_token(request.path_params["token"])
    if subscription is None:
        return Response("Deze feed bestaat niet (meer).", status_code=404, media_type="text/plain; charset=utf-8")
    since = datetime.now(UTC) - timedelta(weeks=FEED_WEEKS)
    try:
        initiatives = await digest.fitting(subscription, since, request.app.state.search_index)
    except SearchUnavailable:
        return Response(
            "Zoeken is tijdelijk niet beschikbaar; probeer het later opnieuw.",
            status_code=503,
            media_type="text/plain; charset=utf-8",
            headers={"Retry-After": "300"},
        )
    settings = request.app.state.settings
    body = feeds.atom_feed(
        title=f"Kennisbank – {subscription.label}",
        feed_url=settings.base_url + path_for(request, "feed", token=subscription.feed_token),
        site_url=settings.base_url,
        initiatives=initiatives,
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


routes = [
    Route("/account/overzicht", digest_settings, methods=["POST"], name="digest_settings"),
    Route("/account/abonnementen", subscribe, methods=["POST"], name="subscribe"),
    Route(
        "/account/abonnementen/{subscription_id:int}/verwijderen",
        remove_subscription,
        methods=["POST"],
        name="remove_subscription",
    ),
    Route("/feeds/{token}.atom", feed, name="feed"),
]
