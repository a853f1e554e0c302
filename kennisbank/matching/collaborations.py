"""Collaborations (samenwerkingen): what happens after a coordinator accepts a match.

Accepting a match, or a coordinator's "start samenwerking" on a cluster, creates a collaboration or
adds the initiatives to an open one that already holds one of them. A collaboration moves through
the stages of `CollaborationStage`; every change, note, link and next action is a line of its
timeline (`CollaborationEvent`) with who and when, and an audit entry. Stage, owner and next action
are changed with optimistic locking on ``version``, like an initiative.

Every function takes an `Actor` and refuses an anonymous one; the rules are in permissions.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tortoise import timezone
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from .. import audit, permissions
from ..audit import Actor
from ..db import flat_values
from ..errors import NotFound, PermissionDenied, StaleVersion
from ..initiatives.validation import InputError, forbidden_character, required_message
from ..models import Collaboration, CollaborationEvent, CollaborationLink, Initiative, MatchSuggestion, User
from ..taxonomy import (
    COLLABORATION_STAGE_LABELS,
    COLLABORATION_TYPE_FOR_MATCH,
    COLLABORATION_TYPE_LABELS,
    CollaborationStage,
    CollaborationType,
    Status,
)

CLOSED = (CollaborationStage.AFGEROND, CollaborationStage.GESTOPT)
MAX_NOTE = 4000
MAX_REASON = 2000
MAX_ACTION = 300
MAX_TITLE = 200
MAX_LABEL = 200
MAX_URL = 500
FIELD_LABELS: dict[str, str] = {
    "stage": "Fase",
    "reason": "Toelichting",
    "next_action": "Volgende actie",
    "next_action_due": "Uiterlijk op",
    "owner": "Eigenaar",
    "note": "Notitie",
    "url": "Link",
    "label": "Omschrijving",
    "initiatives": "Initiatieven",
    "title": "Titel",
}
_HTTP = re.compile(r"^https?://[^\s/$.?#][^\s<>\"]*$", re.IGNORECASE)
_PREFETCH = ("initiatives__province", "initiatives__themes", "owner", "events__user", "links__added_by", "matches")


class CollaborationNotFound(NotFound):
    """No collaboration with that id (or the viewer may not know it)."""

    default_detail = "Er is geen samenwerking met dit nummer."


class CollaborationDenied(PermissionDenied):
    """The actor may not do this (recorded in the audit log)."""

    default_detail = "U hebt geen rechten voor deze samenwerking."


class CollaborationConflict(StaleVersion):
    """Someone else changed the collaboration after the editor loaded it."""

    detail_template = "De samenwerking is intussen gewijzigd (nu versie {version}). Haal haar opnieuw op."


def provinces_of(collaboration: Collaboration) -> list[str]:
    """The participating provinces (initiatives fetched), in a stable order."""
    return sorted({i.province_id for i in collaboration.initiatives})


def is_overdue(collaboration: Collaboration, today: date | None = None) -> bool:
    return (
        collaboration.stage not in CLOSED
        and collaboration.next_action_due is not None
        and collaboration.next_action_due < (today or timezone.now().date())
    )


async def _deny(actor: Actor, action: str, object_id: object) -> None:
    if actor.user is not None:
        await audit.record(
            actor,
            "access_denied",
            result=audit.DENIED,
            object_type="collaboration",
            object_id=object_id if object_id is not None else "",
            detail={"attempt": action},
        )
    raise CollaborationDenied(action)


async def _require_manager(actor: Actor, action: str, object_id: object = None) -> None:
    if not permissions.can_manage_collaborations(actor.user):
        await _deny(actor, action, object_id)


def _text(field: str, value: str, limit: int, *, required: bool = True, multiline: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InputError({field: [required_message(FIELD_LABELS.get(field, field))]})
    if len(value) > limit:
        raise InputError({field: [f"Gebruik maximaal {limit} tekens."]})
    problem = forbidden_character(value, multiline=multiline)
    if problem:
        raise InputError({field: [problem]})
    return value


def _stage(value: str) -> CollaborationStage:
    try:
        return CollaborationStage(value)
    except ValueError:
        raise InputError(
            {"stage": ["Kies een fase: " + ", ".join(s.value for s in CollaborationStage) + "."]}
        ) from None


def _type(value: str) -> CollaborationType:
    try:
        return CollaborationType(value)
    except ValueError:
        raise InputError({"type": ["Kies gezamenlijke_inkoop, opschalen of kennisuitwisseling."]}) from None


async def get_collaboration(collaboration_id: int) -> Collaboration:
    found = await Collaboration.get_or_none(id=collaboration_id).prefetch_related(*_PREFETCH)
    if found is None:
        raise CollaborationNotFound(collaboration_id)
    return found


async def get_for(actor: Actor, collaboration_id: int) -> Collaboration:
    """The whole collaboration, for those who may contribute; others are refused (and audited)."""
    if not permissions.is_active(actor.user):
        raise CollaborationDenied("collaboration_view")
    collaboration = await get_collaboration(collaboration_id)
    if not permissions.can_contribute_to_collaboration(actor.user, provinces_of(collaboration)):
        await _deny(actor, "collaboration_view", collaboration_id)
    return collaboration


async def _event(
    collaboration_id: int, actor: Actor, kind: str, text: str = "", from_stage: str = "", to_stage: str = ""
) -> None:
    await CollaborationEvent.create(
        collaboration_id=collaboration_id,
        at=timezone.now(),
        user=actor.user,
        kind=kind,
        text=text,
        from_stage=from_stage,
        to_stage=to_stage,
    )


def _default_title(initiatives: Sequence[Initiative]) -> str:
    return (" & ".join(i.title for i in initiatives))[:MAX_TITLE]


async def _open_collaboration_of(initiative_ids: Iterable[int]) -> Collaboration | None:
    return (
        await Collaboration.filter(initiatives__id__in=list(initiative_ids))
        .exclude(stage__in=list(CLOSED))
        .order_by("id")
        .first()
    )


async def create(
    actor: Actor,
    initiative_ids: Sequence[int],
    type: str,
    *,
    title: str = "",
    owner_id: int | None = None,
    match_ids: Sequence[int] = (),
) -> Collaboration:
    """A new collaboration of two or more published initiatives of at least two provinces."""
    await _require_manager(actor, "collaboration_create")
    kind = _type(type)
    ids = list(dict.fromkeys(initiative_ids))
    initiatives = await Initiative.filter(id__in=ids).prefetch_related("province")
    if len(initiatives) != len(ids) or len(ids) < 2:
        raise InputError({"initiatives": ["Kies minstens twee bestaande initiatieven."]})
    if any(i.status != Status.GEPUBLICEERD for i in initiatives):
        raise InputError({"initiatives": ["Alleen gepubliceerde initiatieven kunnen samenwerken."]})
    if len({i.province_id for i in initiatives}) < 2:
        raise InputError({"initiatives": ["Een samenwerking heeft initiatieven van minstens twee provincies."]})
    owner = await _owner(owner_id, actor)
    ordered = sorted(initiatives, key=lambda i: ids.index(i.id))
    name = _text("title", title, MAX_TITLE, required=False) or _default_title(ordered)
    now = timezone.now()
    async with in_transaction():
        collaboration = await Collaboration.create(
            title=name, type=kind, owner=owner, created_at=now, stage_changed_at=now
        )
        await collaboration.initiatives.add(*ordered)
        matches = await MatchSuggestion.filter(id__in=list(match_ids))
        if matches:
            await collaboration.matches.add(*matches)
        await _event(
            collaboration.id,
            actor,
            "aangemaakt",
            to_stage=CollaborationStage.VOORGESTELD,
            text=f"{COLLABORATION_TYPE_LABELS[kind]}: " + ", ".join(f"{i.title} ({i.province.name})" for i in ordered),
        )
    await audit.record(
        actor,
        "collaboration_create",
        object_type="collaboration",
        object_id=collaboration.id,
        detail={"initiatives": ids, "type": str(kind)},
    )
    return await get_collaboration(collaboration.id)


async def _owner(owner_id: int | None, actor: Actor) -> User | None:
    if owner_id is None:
        return actor.user if permissions.may_own_collaborations(actor.user) else None
    owner = await permissions.collaboration_owners().get_or_none(id=owner_id)
    if owner is None:
        raise InputError({"owner": ["Kies een actieve IDA-coördinator als eigenaar."]})
    return owner


async def add_initiatives(
    actor: Actor, collaboration: Collaboration, initiatives: Sequence[Initiative], match: MatchSuggestion | None = None
) -> Collaboration:
    """Add initiatives (and the match that brought them) to an existing collaboration."""
    await _require_manager(actor, "collaboration_update", collaboration.id)
    present = {i.id for i in await collaboration.initiatives.all()}
    new = [i for i in initiatives if i.id not in present]
    async with in_transaction():
        if new:
            await collaboration.initiatives.add(*new)
            await _event(
                collaboration.id,
                actor,
                "deelnemer",
                text="Toegevoegd: " + ", ".join(f"{i.title} ({i.province.name})" for i in new),
            )
        if match is not None:
            await collaboration.matches.add(match)
    await audit.record(
        actor,
        "collaboration_update",
        object_type="collaboration",
        object_id=collaboration.id,
        detail={"added": [i.id for i in new]},
    )
    return await get_collaboration(collaboration.id)


async def from_accepted_match(actor: Actor, match: MatchSuggestion) -> Collaboration:
    """Start (or extend) the collaboration of an accepted match (its initiatives with provinces fetched)."""
    existing = await _open_collaboration_of([match.a_id, match.b_id])
    if existing is not None:
        return await add_initiatives(actor, existing, [match.a, match.b], match)
    kind = COLLABORATION_TYPE_FOR_MATCH.get(match.type, CollaborationType.KENNISUITWISSELING)
    return await create(actor, [match.a_id, match.b_id], kind, match_ids=[match.id])


async def from_cluster(actor: Actor, initiative_ids: Sequence[int], type: str) -> Collaboration:
    """A coordinator's "start samenwerking" on a cluster: one collaboration of all its published initiatives."""
    await _require_manager(actor, "collaboration_create")
    published = [i.id for i in await Initiative.filter(id__in=list(initiative_ids), status=Status.GEPUBLICEERD)]
    existing = await _open_collaboration_of(published)
    if existing is not None:
        initiatives = await Initiative.filter(id__in=published).prefetch_related("province")
        return await add_initiatives(actor, existing, initiatives)
    pairs = await flat_values(MatchSuggestion.filter(a_id__in=published, b_id__in=published), "id", int)
    return await create(actor, published, type, match_ids=pairs)


async def _guarded_update(
    actor: Actor, collaboration_id: int, expected_version: int | None, **values: object
) -> Collaboration:
    """One UPDATE that checks and bumps the version: a stale editor changes nothing."""
    query = Collaboration.filter(id=collaboration_id)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    changed = await query.update(**values, version=F("version") + 1, updated_at=timezone.now())
    if not changed:
        current = await Collaboration.get_or_none(id=collaboration_id)
        if current is None:
            raise CollaborationNotFound(collaboration_id)
        raise CollaborationConflict(current.version)
    return await get_collaboration(collaboration_id)


async def change_stage(
    actor: Actor, collaboration_id: int, stage: str, *, reason: str = "", expected_version: int | None = None
) -> Collaboration:
    """Move to another stage; stopping needs a reason, which is kept and shown in the timeline."""
    await _require_manager(actor, "collaboration_stage", collaboration_id)
    target = _stage(stage)
    reason = _text("reason", reason, MAX_REASON, required=target == CollaborationStage.GESTOPT, multiline=True)
    if target == CollaborationStage.GESTOPT and not reason:
        raise InputError({"reason": ["Geef een reden waarom de samenwerking stopt."]})
    before = await get_collaboration(collaboration_id)
    if before.stage == target:
        raise InputError({"stage": [f"De samenwerking is al in de fase “{COLLABORATION_STAGE_LABELS[target]}”."]})
    async with in_transaction():
        updated = await _guarded_update(
            actor,
            collaboration_id,
            expected_version,
            stage=target,
            stop_reason=reason if target == CollaborationStage.GESTOPT else "",
            stage_changed_at=timezone.now(),
        )
        await _event(collaboration_id, actor, "fase", text=reason, from_stage=before.stage, to_stage=target)
    await audit.record(
        actor,
        "collaboration_stage",
        object_type="collaboration",
        object_id=collaboration_id,
        detail={"from": str(before.stage), "to": str(target)},
    )
    return await get_collaboration(updated.id)


async def set_next_action(
    actor: Actor, collaboration_id: int, action: str, due: date | None, *, expected_version: int | None = None
) -> Collaboration:
    """The one next step and its due date (empty clears it)."""
    await _require_manager(actor, "collaboration_next_action", collaboration_id)
    action = _text("next_action", action, MAX_ACTION, required=due is not None)
    async with in_transaction():
        await _guarded_update(
            actor, collaboration_id, expected_version, next_action=action, next_action_due=due if action else None
        )
        text = f"{action} (uiterlijk {due.isoformat()})" if action and due else action or "Volgende actie gewist."
        await _event(collaboration_id, actor, "actie", text=text)
    await audit.record(actor, "collaboration_next_action", object_type="collaboration", object_id=collaboration_id)
    return await get_collaboration(collaboration_id)


async def set_owner(
    actor: Actor, collaboration_id: int, owner_id: int, *, expected_version: int | None = None
) -> Collaboration:
    await _require_manager(actor, "collaboration_owner", collaboration_id)
    owner = await _owner(owner_id, actor)
    async with in_transaction():
        await _guarded_update(actor, collaboration_id, expected_version, owner_id=owner.id if owner else None)
        await _event(
            collaboration_id, actor, "eigenaar", text=f"Eigenaar: {owner.name or owner.email}" if owner else ""
        )
    await audit.record(actor, "collaboration_owner", object_type="collaboration", object_id=collaboration_id)
    return await get_collaboration(collaboration_id)


async def add_note(actor: Actor, collaboration_id: int, text: str) -> Collaboration:
    """A note on the timeline, by a coordinator or a medewerker of a participating province."""
    collaboration = await get_for(actor, collaboration_id)
    text = _text("note", text, MAX_NOTE, multiline=True)
    await _event(collaboration.id, actor, "notitie", text=text)
    await audit.record(actor, "collaboration_note", object_type="collaboration", object_id=collaboration.id)
    return await get_collaboration(collaboration.id)


async def add_link(actor: Actor, collaboration_id: int, url: str, label: str) -> Collaboration:
    """A link to a tender document or an agreement, by anyone who may add notes."""
    collaboration = await get_for(actor, collaboration_id)
    url = _text("url", url, MAX_URL)
    if not _HTTP.match(url):
        raise InputError({"url": ["Geef een link die begint met http:// of https://."]})
    label = _text("label", label, MAX_LABEL, required=False) or url
    async with in_transaction():
        await CollaborationLink.create(
            collaboration_id=collaboration.id, url=url, label=label, added_by=actor.user, added_at=timezone.now()
        )
        await _event(collaboration.id, actor, "link", text=f"{label}: {url}")
    await audit.record(actor, "collaboration_link", object_type="collaboration", object_id=collaboration.id)
    return await get_collaboration(collaboration.id)


@dataclass(frozen=True)
class CollaborationFilters:
    type: tuple[str, ...] = ()
    province: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()  # theme slugs
    owner: int | None = None
    overdue: bool = False
    stage: tuple[str, ...] = ()


async def list_for(actor: Actor, filters: CollaborationFilters) -> list[Collaboration]:
    """The collaborations ``actor`` may read in full (coordinators: all; medewerkers: their province's)."""
    if not permissions.is_active(actor.user):
        raise CollaborationDenied("collaboration_list")
    query = Collaboration.all()
    user = actor.user
    if not permissions.can_manage_collaborations(user):
        province = permissions.own_province(user)
        if province is None:
            return []
        query = query.filter(initiatives__province_id=province)
    if filters.type:
        query = query.filter(type__in=list(filters.type))
    if filters.stage:
        query = query.filter(stage__in=list(filters.stage))
    if filters.province:
        query = query.filter(initiatives__province_id__in=list(filters.province))
    if filters.theme:
        query = query.filter(initiatives__themes__slug__in=list(filters.theme))
    if filters.owner is not None:
        query = query.filter(owner_id=filters.owner)
    if filters.overdue:
        query = query.filter(next_action_due__lt=timezone.now().date()).exclude(stage__in=list(CLOSED))
    ids = await query.distinct().order_by("id").values_list("id", flat=True)
    rows = (
        await Collaboration.filter(id__in=list(ids))
        .order_by("next_action_due", "-updated_at", "id")
        .prefetch_related("initiatives__province", "owner")
    )
    return list(rows)


async def of_match(match_id: int) -> Collaboration | None:
    """The collaboration an accepted match led to, if any."""
    return await Collaboration.filter(matches__id=match_id).order_by("-id").first()


async def overdue_owned_by(user: User, today: date) -> list[Collaboration]:
    """A coordinator's open collaborations whose next action was due before ``today`` (for the digest)."""
    if not permissions.can_manage_collaborations(user):
        return []
    return list(
        await Collaboration.filter(owner_id=user.id, next_action_due__lt=today)
        .exclude(stage__in=list(CLOSED))
        .order_by("next_action_due", "id")
    )


async def stage_changes_for(user: User, start: datetime, end: datetime) -> list[CollaborationEvent]:
    """Stage changes in [start, end) of collaborations the user's province takes part in (for the digest)."""
    province = permissions.own_province(user)
    if province is None:
        return []
    ids = (
        await Collaboration.filter(initiatives__province_id=province)
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(
        await CollaborationEvent.filter(collaboration_id__in=list(ids) or [0], kind="fase", at__gte=start, at__lt=end)
        .order_by("at", "id")
        .prefetch_related("collaboration")
    )


@dataclass(frozen=True)
class Participation:
    """A collaboration as an initiative's page shows it; ``full`` when the viewer may open it."""

    collaboration: Collaboration
    full: bool


async def for_initiative(actor: Actor, initiative: Initiative) -> list[Participation]:
    """The collaborations an initiative takes part in, as far as the viewer may know of them."""
    if not permissions.can_see_collaboration_exists(actor.user, initiative):
        return []
    rows = (
        await Collaboration.filter(initiatives__id=initiative.id)
        .order_by("-id")
        .prefetch_related("initiatives__province")
    )
    return [
        Participation(row, permissions.can_contribute_to_collaboration(actor.user, provinces_of(row))) for row in rows
    ]


def as_json(collaboration: Collaboration) -> dict:
    """A collaboration as the API gives it (initiatives, owner, events and links fetched)."""
    return {
        "id": collaboration.id,
        "title": collaboration.title,
        "type": str(collaboration.type),
        "stage": str(collaboration.stage),
        "stop_reason": collaboration.stop_reason,
        "owner": (
            {"id": collaboration.owner.id, "name": collaboration.owner.name or collaboration.owner.email}
            if collaboration.owner
            else None
        ),
        "initiatives": [{"id": i.id, "title": i.title, "province": i.province_id} for i in collaboration.initiatives],
        "next_action": collaboration.next_action,
        "next_action_due": collaboration.next_action_due.isoformat() if collaboration.next_action_due else None,
        "version": collaboration.version,
        "created_at": collaboration.created_at.isoformat(),
        "timeline": [
            {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "by": (e.user.name or e.user.email) if e.user else None,
                "from_stage": e.from_stage or None,
                "to_stage": e.to_stage or None,
                "text": e.text,
            }
            for e in collaboration.events
        ],
        "links": [{"url": link.url, "label": link.label} for link in collaboration.links],
    }


def links_json(collaboration: Collaboration) -> list[dict]:
    """Its links with who added them and when (links and their authors fetched)."""
    return [
        {
            "url": link.url,
            "label": link.label,
            "added_at": link.added_at.isoformat(),
            "added_by": (link.added_by.name or link.added_by.email) if link.added_by else None,
        }
        for link in collaboration.links
    ]


def summary_json(collaboration: Collaboration) -> dict:
    """A list entry (initiatives and owner fetched)."""
    return {
        "id": collaboration.id,
        "title": collaboration.title,
        "type": str(collaboration.type),
        "stage": str(collaboration.stage),
        "provinces": provinces_of(collaboration),
        "next_action": collaboration.next_action,
        "next_action_due": collaboration.next_action_due.isoformat() if collaboration.next_action_due else None,
        "version": collaboration.version,
    }
