"""The audit log: an append-only record of who did what to which object, when, from where, with what result.

Only `record` writes to it, and only by inserting. What is recorded never includes a password, token
or one-time code: callers pass identifiers and outcomes, and `record` refuses detail keys that look
like secrets so a careless caller cannot leak one.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import timezone

from .db import flat_values
from .models import AuditEntry, User

OK = "ok"
DENIED = "geweigerd"
FAILED = "mislukt"

ACTION_LABELS: dict[str, str] = {
    "login": "Inloggen",
    "login_second_factor": "Inloggen: tweede stap",
    "logout": "Uitloggen",
    "password_change": "Wachtwoord gewijzigd",
    "totp_enable": "Tweestapsverificatie aangezet",
    "totp_disable": "Tweestapsverificatie uitgezet",
    "account_create": "Account aangemaakt",
    "account_update": "Account gewijzigd",
    "account_disable": "Account geblokkeerd",
    "account_enable": "Account gedeblokkeerd",
    "sessions_end": "Sessies beëindigd",
    "personal_data_export": "Persoonsgegevens gedownload",
    "personal_data_erase": "Persoonsgegevens verwijderd",
    "token_create": "API-token aangemaakt",
    "token_revoke": "API-token ingetrokken",
    "reauthenticate": "Wachtwoord bevestigen voor een wijziging",
    "initiative_create": "Initiatief aangemaakt",
    "initiative_update": "Initiatief gewijzigd",
    "initiative_archive": "Initiatief gearchiveerd",
    "initiative_import": "Initiatieven geïmporteerd",
    "match_decide": "Match beoordeeld",
    "collaboration_create": "Samenwerking gestart",
    "collaboration_update": "Samenwerking uitgebreid",
    "collaboration_stage": "Fase van samenwerking gewijzigd",
    "collaboration_next_action": "Volgende actie van samenwerking gezet",
    "collaboration_owner": "Eigenaar van samenwerking gewijzigd",
    "collaboration_note": "Notitie bij samenwerking",
    "collaboration_link": "Link bij samenwerking",
    "introduction_send": "Introductiemail verstuurd",
    "introduction_skip": "Introductiemail overgeslagen",
    "access_denied": "Toegang geweigerd",
}

_SECRET_WORDS = ("password", "wachtwoord", "token", "secret", "totp", "otp_code")


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where: the logged-in user, or no one, and the client address.

    ``user=None`` is an anonymous actor, which every service refuses (``permissions.allowed``).
    The command line and the worker act as ``SYSTEM``: trusted, and acting for no user.
    """

    user: User | None
    ip: str = ""
    system: bool = False

    @property
    def email(self) -> str:
        return self.user.email if self.user else ""


SYSTEM = Actor(None, "", system=True)


async def record(
    actor: Actor,
    action: str,
    *,
    result: str = OK,
    object_type: str = "",
    object_id: Any = "",
    email: str = "",
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry. ``email`` names the account acted on when no one is logged in (a failed login)."""
    detail = dict(detail or {})
    leaked = [key for key in detail if any(word in key.lower() for word in _SECRET_WORDS)]
    if leaked:
        raise ValueError(f"audit detail must not contain secrets: {leaked}")
    await AuditEntry.create(
        at=timezone.now(),
        actor_id=actor.user.id if actor.user else None,
        actor_email=actor.email or email.lower(),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id != "" else "",
        ip=actor.ip,
        result=result,
        detail=detail,
    )


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    result: str = ""
    since: datetime | None = None
    until: datetime | None = None


async def entries(filters: AuditFilters, page: int = 1, per_page: int = 50) -> tuple[list[AuditEntry], int]:
    query = AuditEntry.all()
    if filters.action:
        query = query.filter(action=filters.action)
    if filters.actor:
        query = query.filter(actor_email__icontains=filters.actor)
    if filters.result:
        query = query.filter(result=filters.result)
    if filters.since:
        query = query.filter(at__gte=filters.since)
    if filters.until:
        query = query.filter(at__lt=filters.until)
    total = await query.count()
    rows = await query.order_by("-at", "-id").offset((max(1, page) - 1) * per_page).limit(per_page)
    return list(rows), total


def entries_csv(rows: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["tijdstip_utc", "actor", "actie", "object", "object_id", "ip", "resultaat"])
    for row in rows:
        writer.writerow(
            [
                row.at.isoformat(),
                *(
                    csv_safe(value)
                    for value in (row.actor_email, row.action, row.object_type, row.object_id, row.ip, row.result)
                ),
            ]
        )
    return out.getvalue()


#: What a spreadsheet takes as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Stop a spreadsheet from running a cell as a formula (CSV injection): a failed login records
    whatever e-mail address a visitor typed. A leading apostrophe makes it text. A value that already
    starts with apostrophes before a formula character gets one more, so `csv_unsafe` restores every
    value exactly."""
    return "'" + value if value.lstrip("'")[:1] in FORMULA_STARTS else value


def csv_unsafe(value: str) -> str:
    """The value `csv_safe` was given (for re-importing an exported CSV)."""
    return value[1:] if value[:1] == "'" and value.lstrip("'")[:1] in FORMULA_STARTS else value


def shortened_ip(ip: str) -> str:
    """An address cut to its network (IPv4 /24, IPv6 /48): enough to see where attempts came from, no
    longer one device. Anything that is not an address becomes empty."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


async def shorten_old_ips(before: datetime) -> int:
    """Shorten the IP addresses of entries older than `before` (the retention of the privacy statement);
    return how many entries changed. The entries themselves stay: the log is append-only otherwise."""
    changed = 0
    addresses = AuditEntry.filter(at__lt=before).exclude(ip="").order_by("ip").distinct()
    for ip in await flat_values(addresses, "ip", str):
        short = shortened_ip(ip)
        if short != ip:
            changed += await AuditEntry.filter(at__lt=before, ip=ip).update(ip=short)
    return changed
