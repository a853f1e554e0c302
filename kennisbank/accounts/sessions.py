"""Server-side login sessions.

The browser holds only a random token; the database holds its SHA-256, the user, and the times that
decide expiry. A session ends on logout, when the account is disabled, when a beheerder ends the
user's sessions, after `idle` without requests and at the latest `absolute` after login — whatever
the cookie says. A new token is issued at every login (and after the second step), so a token planted
before login (session fixation) is worthless.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from tortoise import timezone
from tortoise.expressions import Q

from ..models import User, UserSession
from ..settings import Settings

# Writing last_seen_at on every request would make each page view a write; a minute of slack is harmless.
TOUCH_INTERVAL = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


def policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes), absolute=timedelta(hours=settings.session_max_hours)
    )


@dataclass(frozen=True)
class ActiveSession:
    session: UserSession
    user: User

    @property
    def complete(self) -> bool:
        """Both login steps done (the second only where the account uses it)."""
        return self.session.second_factor_done


async def start(user: User, *, ip: str, second_factor_done: bool, replaces: str | None = None) -> str:
    """Open a session for ``user`` and return its token; ``replaces`` (an earlier token) is ended."""
    if replaces:
        await end(replaces)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    await UserSession.create(
        id=token_hash(token),
        user=user,
        second_factor_done=second_factor_done,
        created_at=now,
        last_seen_at=now,
        ip=ip[:45],
    )
    return token


async def resume(token: str, policy: SessionPolicy) -> ActiveSession | None:
    """The live session for a cookie token, or None when it is unknown, expired or its account is disabled."""
    if not token:
        return None
    session = await UserSession.get_or_none(id=token_hash(token)).prefetch_related("user")
    if session is None:
        return None
    now = timezone.now()
    if (
        now - session.last_seen_at > policy.idle
        or now - session.created_at > policy.absolute
        or not session.user.active
    ):
        await session.delete()
        return None
    if now - session.last_seen_at > TOUCH_INTERVAL:
        session.last_seen_at = now
        await UserSession.filter(id=session.id).update(last_seen_at=now)
    return ActiveSession(session, session.user)


async def end(token: str) -> None:
    await UserSession.filter(id=token_hash(token)).delete()


async def end_all(user_id: int, *, keep: str = "") -> int:
    """End every session of a user (account disabled, role changed, a beheerder's "end sessions",
    a new password); ``keep`` is the token of a session to leave open (the one changing the password)."""
    query = UserSession.filter(user_id=user_id)
    if keep:
        query = query.exclude(id=token_hash(keep))
    return await query.delete()


async def remove_expired(session_policy: SessionPolicy) -> int:
    """Delete the sessions that can no longer be resumed, with their IP addresses: a session that is
    never used again would otherwise stay in the database (the worker runs this every night)."""
    now = timezone.now()
    return await UserSession.filter(
        Q(last_seen_at__lt=now - session_policy.idle) | Q(created_at__lt=now - session_policy.absolute)
    ).delete()


async def count_for(user_id: int) -> int:
    return await UserSession.filter(user_id=user_id).count()
