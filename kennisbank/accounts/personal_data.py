"""One person's data: everything Kennisbank keeps about an account, as a download, and its erasure.

The privacy statement (/privacy) promises both to the people it names; a beheerder carries them out
(`permissions.can_manage_accounts`). Erasure keeps the account's row, so the initiatives, decisions
and timelines it took part in keep their history, but empties everything that identifies the person:
e-mail address (replaced by a placeholder no mail reaches), name, password, two-step secret, sessions,
API tokens, subscriptions and digest deliveries, and the person's e-mail and IP address in the audit
log. Initiatives that name the person as their contact are the province's data: the download lists
them, so the beheerder can ask the province to change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from .. import audit, permissions
from ..audit import Actor
from ..errors import PermissionDenied
from ..models import ApiToken, AuditEntry, DigestDelivery, Initiative, Subscription, User, UserSession
from .service import get_user

ERASED_DOMAIN = "verwijderd.invalid"  # RFC 2606: no mail is ever delivered there


class ErasureRefused(PermissionDenied):
    """The actor may not erase this account's data (recorded in the audit log)."""


@dataclass(frozen=True)
class Erasure:
    sessions: int
    tokens: int
    subscriptions: int
    deliveries: int
    audit_entries: int


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def personal_data(user_id: int) -> dict[str, Any]:
    """Everything kept about the account, in one JSON-ready document (secrets and hashes left out)."""
    user = await get_user(user_id)
    return {
        "account": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": str(user.role),
            "province": user.province_id,
            "active": user.active,
            "two_step_login": bool(user.totp_secret),
            "digest_weekly": user.digest_weekly,
            "digest_related": user.digest_related,
            "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at),
        },
        "sessions": [
            {"created_at": _when(s.created_at), "last_seen_at": _when(s.last_seen_at), "ip": s.ip}
            for s in await UserSession.filter(user_id=user.id).order_by("created_at")
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _when(t.created_at),
                "last_used_at": _when(t.last_used_at),
                "revoked_at": _when(t.revoked_at),
                "expires_at": _when(t.expires_at),
            }
            for t in await ApiToken.filter(user_id=user.id).order_by("created_at")
        ],
        "subscriptions": [
            {"kind": s.kind, "value": s.value, "label": s.label, "created_at": _when(s.created_at)}
            for s in await Subscription.filter(user_id=user.id).order_by("created_at")
        ],
        "digest_deliveries": [
            {"period": d.period, "state": d.state, "items": d.items}
            for d in await DigestDelivery.filter(user_id=user.id).order_by("period")
        ],
        "audit_log": [
            {
                "at": _when(e.at),
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "ip": e.ip,
                "result": e.result,
            }
            for e in await AuditEntry.filter(actor_id=user.id).order_by("at", "id")
        ],
        "contact_of_initiatives": [
            {
                "id": i.id,
                "province": i.province_id,
                "external_id": i.external_id,
                "title": i.title,
                "contact_name": i.contact_name,
            }
            for i in await Initiative.filter(contact_email=user.email).order_by("id")
        ],
    }


async def erase(actor: Actor, user_id: int) -> Erasure:
    """Erase what identifies the account's person (see the module docstring); the actor must manage accounts
    and may not erase their own account."""
    user = await get_user(user_id)
    own = actor.user is not None and actor.user.id == user.id
    if own or not permissions.allowed(actor, permissions.can_manage_accounts):
        await audit.record(
            actor,
            "access_denied",
            result=audit.DENIED,
            object_type="user",
            object_id=user_id,
            detail={"attempt": "personal_data_erase"},
        )
        raise ErasureRefused(user_id)
    async with in_transaction():
        ended = await UserSession.filter(user_id=user.id).delete()
        tokens = await ApiToken.filter(user_id=user.id).delete()
        subscriptions = await Subscription.filter(user_id=user.id).delete()
        deliveries = await DigestDelivery.filter(user_id=user.id).delete()
        entries = await AuditEntry.filter(actor_id=user.id).update(actor_email="", ip="")
        await User.filter(id=user.id).update(
            email=f"account-{user.id}@{ERASED_DOMAIN}",
            name="",
            password_hash="",
            totp_secret="",
            totp_last_step=0,
            active=False,
            digest_weekly=False,
            digest_related=False,
            last_login_at=None,
        )
    await audit.record(
        actor,
        "personal_data_erase",
        object_type="user",
        object_id=user.id,
        detail={"sessions": ended, "api_access": tokens, "audit_entries": entries},
    )
    return Erasure(ended, tokens, subscriptions, deliveries, entries)
