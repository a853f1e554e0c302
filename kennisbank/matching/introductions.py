"""The introduction mail: when a collaboration starts, its initiatives' contact persons meet by mail.

A coordinator previews the mail and then sends it or skips it. It goes out exactly once per contact
address and collaboration, through the digest's claimed-delivery mechanism: an
`IntroductionDelivery` row is claimed (compare-and-set) before the mail is handed to SMTP and marked
sent after; a second run skips what was sent, and a claim left behind by a run that died is taken
over once that process is gone (or the claim is stale). A contact who used the signed opt-out link
(`IntroductionOptOut`) gets no introduction mail at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

import anyio.to_thread
from tortoise import timezone

from .. import audit, permissions, signing
from ..audit import Actor
from ..db import flat_values
from ..digest import mail
from ..digest.service import MAX_ATTEMPTS, _claim_is_stale, _me  # the same claim rules as the digest
from ..initiatives.validation import InputError
from ..models import (
    MAX_ERROR_LENGTH,
    Collaboration,
    CollaborationEvent,
    Initiative,
    IntroductionDelivery,
    IntroductionOptOut,
    User,
)
from ..rendering import mail_environment
from ..settings import Settings
from ..taxonomy import DeliveryState, IntroductionStatus
from .collaborations import CollaborationDenied, get_collaboration

OPT_OUT_PURPOSE = "introduction-opt-out"
REASONS_SHOWN = 5


@dataclass(frozen=True)
class Contact:
    email: str  # lower-cased
    name: str
    initiative: Initiative  # the (first) initiative this address is the contact of


@dataclass(frozen=True)
class Introduction:
    """What would be sent: to whom, the mail's text, and the state per contact."""

    collaboration: Collaboration
    contacts: list[Contact]
    reasons: list[str]
    states: dict[str, str]  # email → its DeliveryState (OPTED_OUT for an opted-out address)
    sender: User  # the coordinator who prepares and sends it

    @property
    def sender_name(self) -> str:
        return self.sender.name or self.sender.email

    def text_for(self, settings: Settings, contact: Contact, sender_name: str) -> str:
        return _render(settings, self, contact, sender_name)


@dataclass
class IntroductionReport:
    sent: int = 0
    skipped: int = 0
    opted_out: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def opt_out_url(settings: Settings, email: str) -> str:
    return f"{settings.base_url}/introductie/afmelden?token={signing.sign(settings, OPT_OUT_PURPOSE, email.lower())}"


async def opt_out(settings: Settings, token: str) -> str | None:
    """Record the opt-out a signed link asks for; the address, or None for a forged or altered link."""
    email = signing.unsign(settings, OPT_OUT_PURPOSE, token)
    if not email or "@" not in email:
        return None
    await IntroductionOptOut.get_or_create(email=email, defaults={"at": timezone.now()})
    return email


def opt_out_email(settings: Settings, token: str) -> str | None:
    email = signing.unsign(settings, OPT_OUT_PURPOSE, token)
    return email if email and "@" in email else None


def contacts_of(collaboration: Collaboration) -> list[Contact]:
    """One contact per address among its initiatives (fetched), in the initiatives' order."""
    seen: dict[str, Contact] = {}
    for initiative in sorted(collaboration.initiatives, key=lambda i: i.id):
        address = initiative.contact_email.strip().lower()
        if address and address not in seen:
            seen[address] = Contact(address, initiative.contact_name, initiative)
    return list(seen.values())


async def _require_manager(actor: Actor, collaboration_id: int, attempt: str) -> User:
    """The coordinator acting, or CollaborationDenied."""
    if not permissions.can_manage_collaborations(actor.user):
        if actor.user is not None:
            await audit.record(
                actor,
                "access_denied",
                result=audit.DENIED,
                object_type="collaboration",
                object_id=collaboration_id,
                detail={"attempt": attempt},
            )
        raise CollaborationDenied(attempt)
    return actor.user


async def prepare(actor: Actor, collaboration_id: int) -> Introduction:
    """The preview: the contacts, the reasons of the match and where each delivery stands."""
    sender = await _require_manager(actor, collaboration_id, "introduction_preview")
    collaboration = await get_collaboration(collaboration_id)
    contacts = contacts_of(collaboration)
    reasons = list(dict.fromkeys(r for m in collaboration.matches for r in m.reasons))[:REASONS_SHOWN]
    addresses = [c.email for c in contacts]
    states = {
        row.email: row.state
        for row in await IntroductionDelivery.filter(collaboration_id=collaboration.id, email__in=addresses or [""])
    }
    for address in await flat_values(IntroductionOptOut.filter(email__in=addresses or [""]), "email", str):
        if states.get(address) != DeliveryState.SENT:
            states[address] = DeliveryState.OPTED_OUT
    return Introduction(collaboration, contacts, reasons, states, sender)


def _render(settings: Settings, introduction: Introduction, contact: Contact, sender_name: str) -> str:
    template = mail_environment().get_template("mail/introduction.txt")
    others = [i for i in introduction.collaboration.initiatives if i.id != contact.initiative.id]
    return template.render(
        collaboration=introduction.collaboration,
        contact=contact,
        others=others,
        reasons=introduction.reasons,
        sender_name=sender_name,
        base_url=settings.base_url,
        opt_out_url=opt_out_url(settings, contact.email),
    )


def _message(settings: Settings, introduction: Introduction, contact: Contact) -> EmailMessage:
    sender_name = mail.safe_display_name(introduction.sender_name)
    message = EmailMessage(policy=SMTP)
    message["Subject"] = f"Kennismaking: {introduction.collaboration.title}"[:200]
    _, from_address = parseaddr(settings.smtp_from)
    message["From"] = formataddr((f"{sender_name} via Kennisbank", from_address))
    message["Reply-To"] = Address(display_name=sender_name, addr_spec=introduction.sender.email)
    message["To"] = Address(display_name=mail.safe_display_name(contact.name), addr_spec=contact.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(
        idstring=f"introductie-{introduction.collaboration.id}",
        domain=from_address.rpartition("@")[2] or "kennisbank.local",
    )
    url = opt_out_url(settings, contact.email)
    message["List-Unsubscribe"] = f"<{url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_render(settings, introduction, contact, sender_name))
    return message


async def _claim(collaboration_id: int, email: str) -> IntroductionDelivery | None:
    now = timezone.now()
    delivery, _ = await IntroductionDelivery.get_or_create(
        collaboration_id=collaboration_id, email=email, defaults={"state": DeliveryState.OPEN, "attempts": 0}
    )
    if delivery.state in (DeliveryState.SENT, DeliveryState.OPTED_OUT):
        return None
    if delivery.state == DeliveryState.FAILED and delivery.attempts >= MAX_ATTEMPTS:
        return None
    if delivery.state == DeliveryState.CLAIMED and not _claim_is_stale(delivery, now):  # type: ignore[arg-type]
        return None
    taken = await IntroductionDelivery.filter(id=delivery.id, state=delivery.state, attempts=delivery.attempts).update(
        state=DeliveryState.CLAIMED, claimed_by=_me(), claimed_at=now, attempts=delivery.attempts + 1
    )
    return await IntroductionDelivery.get(id=delivery.id) if taken else None


async def send(actor: Actor, collaboration_id: int, settings: Settings, sender: mail.Sender) -> IntroductionReport:
    """Send the introduction to every contact not yet reached; see the module docstring."""
    introduction = await prepare(actor, collaboration_id)
    if introduction.collaboration.introduction == IntroductionStatus.SKIPPED:
        raise InputError({"": ["De introductiemail is overgeslagen voor deze samenwerking."]})
    report = IntroductionReport()
    for contact in introduction.contacts:
        if introduction.states.get(contact.email) == DeliveryState.OPTED_OUT:
            await IntroductionDelivery.update_or_create(
                collaboration_id=collaboration_id, email=contact.email, defaults={"state": DeliveryState.OPTED_OUT}
            )
            report.opted_out += 1
            continue
        delivery = await _claim(collaboration_id, contact.email)
        if delivery is None:
            report.skipped += 1
            continue
        try:
            await anyio.to_thread.run_sync(sender.send, _message(settings, introduction, contact))
        except mail.SendFailed as exc:
            await IntroductionDelivery.filter(id=delivery.id).update(
                state=DeliveryState.FAILED, error=str(exc)[:MAX_ERROR_LENGTH]
            )
            report.failed += 1
            report.failures.append(f"{contact.email}: {exc}")
            continue
        await IntroductionDelivery.filter(id=delivery.id).update(
            state=DeliveryState.SENT, sent_at=timezone.now(), error=""
        )
        report.sent += 1
    if report.sent:
        await CollaborationEvent.create(
            collaboration_id=collaboration_id,
            at=timezone.now(),
            user=actor.user,
            kind="introductie",
            text=f"Introductiemail verstuurd aan {report.sent} contactpersonen.",
        )
    if not report.failed:
        await Collaboration.filter(id=collaboration_id).update(introduction=IntroductionStatus.SENT)
    await audit.record(
        actor,
        "introduction_send",
        object_type="collaboration",
        object_id=collaboration_id,
        result=audit.OK if not report.failed else audit.FAILED,
        detail={"sent": report.sent, "skipped": report.skipped, "opted_out": report.opted_out, "failed": report.failed},
    )
    return report


async def skip(actor: Actor, collaboration_id: int) -> None:
    """The coordinator's choice not to send an introduction for this collaboration."""
    await _require_manager(actor, collaboration_id, "introduction_skip")
    collaboration = await get_collaboration(collaboration_id)
    if collaboration.introduction == IntroductionStatus.SENT:
        raise InputError({"": ["De introductiemail is al verstuurd."]})
    await Collaboration.filter(id=collaboration_id).update(introduction=IntroductionStatus.SKIPPED)
    await CollaborationEvent.create(
        collaboration_id=collaboration_id,
        at=timezone.now(),
        user=actor.user,
        kind="introductie",
        text="Introductiemail overgeslagen.",
    )
    await audit.record(actor, "introduction_skip", object_type="collaboration", object_id=collaboration_id)
