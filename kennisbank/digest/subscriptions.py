"""Subscriptions: what a user wants in the weekly digest and in Atom feeds, and the digest switches."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from urllib.parse import parse_qs, urlencode

from ..initiatives.validation import InputError
from ..models import Subscription, User
from ..searching.query import SEARCH_FILTERS
from ..taxonomy import KIND_LABELS, PROVINCE_BY_CODE, THEME_BY_SLUG
from .service import subscription_label

KINDS = ("theme", "province", "kind", "search")
#: Only these parameters of a search page are kept in a saved search: the words and the filters.
SEARCH_PARAMS = ("q", *SEARCH_FILTERS)


def normalise_search(query_string: str) -> str:
    """The stable form of a search page's query string: known parameters only, sorted."""
    params = parse_qs(query_string)
    items = [(name, value) for name in SEARCH_PARAMS for value in sorted(params.get(name, [])) if value.strip()]
    return urlencode(items)


def _check(kind: str, value: str) -> str:
    valid: dict[str, Collection[str]] = {"theme": THEME_BY_SLUG, "province": PROVINCE_BY_CODE, "kind": KIND_LABELS}
    if kind not in KINDS:
        raise InputError({"kind": ["Kies een thema, provincie, soort of zoekopdracht."]})
    if kind == "search":
        value = normalise_search(value)
        if not value:
            raise InputError({"value": ["Een zoekopdracht zonder zoekwoorden of filters kunt u niet bewaren."]})
        return value
    if value not in valid[kind]:
        raise InputError({"value": ["Kies een waarde uit de lijst."]})
    return value


async def subscribe(user: User, kind: str, value: str) -> Subscription:
    """Add a subscription (or return the existing one)."""
    value = _check(kind, value)
    existing = await Subscription.get_or_none(user_id=user.id, kind=kind, value=value)
    if existing is not None:
        return existing
    return await Subscription.create(
        user=user, kind=kind, value=value, label=subscription_label(kind, value), feed_token=secrets.token_urlsafe(32)
    )


async def unsubscribe(user: User, subscription_id: int) -> bool:
    return bool(await Subscription.filter(id=subscription_id, user_id=user.id).delete())


async def subscriptions_of(user: User) -> list[Subscription]:
    return list(await Subscription.filter(user_id=user.id).order_by("id"))


async def set_digest(user: User, *, weekly: bool, related: bool) -> None:
    await User.filter(id=user.id).update(digest_weekly=weekly, digest_related=related)


async def stop_digest(user_id: int) -> None:
    """The one-click unsubscribe: no more weekly digest (subscriptions and feeds stay)."""
    await User.filter(id=user_id).update(digest_weekly=False)


async def by_feed_token(token: str) -> Subscription | None:
    if not token:
        return None
    return await Subscription.get_or_none(feed_token=token).prefetch_related("user")
