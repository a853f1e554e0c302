"""The digest in the browser: a preview of my digest, and unsubscribing from the mail's link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from search import SearchUnavailable

from ... import signing
from ...digest import service as digest
from ...digest import subscriptions
from ...digest.mail import UNSUBSCRIBE_PURPOSE
from ...initiatives.validation import InputError
from ..middleware.auth import logged_in_user
from ..templating import render


async def preview(request: Request) -> Response:
    """What my digest holds for a week (default: this week so far)."""
    week = request.query_params.get("week", "")
    errors: dict[str, list[str]] = {}
    period = digest.Period.containing(datetime.now(UTC))
    if week:
        try:
            period = digest.Period.parse(week)
        except InputError as exc:
            errors = exc.errors
    try:
        composed = await digest.compose(logged_in_user(request), period, request.app.state.search_index)
    except SearchUnavailable:
        return render(request, "digest/unavailable.html", {}, status_code=503)
    previous = digest.Period.containing(period.start - timedelta(days=3))
    following = digest.Period.containing(period.end + timedelta(days=3))
    this_week = digest.Period.containing(datetime.now(UTC))
    return render(
        request,
        "digest/preview.html",
        {
            "digest": composed,
            "errors": errors,
            "previous": previous,
            "following": following if following.start <= this_week.start else None,
        },
        status_code=400 if errors else 200,
    )


async def unsubscribe(request: Request) -> Response:
    """GET asks for confirmation (mail scanners follow links); POST, also RFC 8058's one-click, turns the mail off."""
    token = request.query_params.get("token", "")
    user_id = signing.unsign(request.app.state.settings, UNSUBSCRIBE_PURPOSE, token)
    if user_id is None or not user_id.isdigit():
        return render(request, "digest/unsubscribe.html", {"invalid": True}, status_code=400)
    if request.method == "GET":
        return render(request, "digest/unsubscribe.html", {"token": token})
    await subscriptions.stop_digest(int(user_id))
    return render(request, "digest/unsubscribe.html", {"done": True})


routes = [
    Route("/digest/voorbeeld", preview, name="digest_preview"),
    Route("/digest/afmelden", unsubscribe, methods=["GET", "POST"], name="digest_unsubscribe"),
]
