"""The initiative service: every create, change, archive and listing goes through here.

Routes, the CLI and the importer call these functions, so the rules (unique portfolio ids per
province, optimistic locking, archive instead of delete) hold whichever door a change comes through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from tortoise import timezone
from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from .. import audit, permissions
from ..audit import Actor
from ..db import flat_values
from ..errors import NotFound, PermissionDenied, StaleVersion
from ..models import Initiative, Province, Theme, User
from ..pagination import Page
from ..searching import embedding_jobs
from ..taxonomy import Status
from .fields import InitiativeField, Widget
from .filters import read_filters
from .validation import INITIATIVE_FIELDS, MATERIAL_FIELDS, InitiativeInput, InputError

DUPLICATE_EXTERNAL_ID = "Dit kenmerk is al in gebruik bij een ander initiatief van deze provincie."


ChangeListener = Callable[[Initiative], Awaitable[None]]
_listeners: list[ChangeListener] = []


def add_change_listener(listener: ChangeListener) -> None:
    """Be told of every initiative after a create, update or archive has committed (e.g. to index it)."""
    _listeners.append(listener)


def remove_change_listener(listener: ChangeListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def _changed(initiative: Initiative) -> Initiative:
    for listener in list(_listeners):
        await listener(initiative)
    return initiative


class InitiativeNotFound(NotFound):
    """No initiative with that id."""

    default_detail = "Er is geen initiatief met dit nummer."


class VersionConflict(StaleVersion):
    """Someone else saved the initiative after the editor loaded it."""

    detail_template = "Het initiatief is intussen gewijzigd (nu versie {version}). Haal het opnieuw op en pas uw wijziging daarop toe."


#: What the API says when a change is refused: a medewerker changes their own province only.
OWN_PROVINCE_DETAIL = "U kunt alleen initiatieven van uw eigen provincie toevoegen en wijzigen."
OWN_PROVINCE_ERRORS = {"province": ["Kies uw eigen provincie."]}


@dataclass(frozen=True)
class InitiativeFilters:
    """Filters of a listing. Values within one field are alternatives; fields combine."""

    province: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    phase: tuple[str, ...] = ()
    status: tuple[str, ...] = (Status.GEPUBLICEERD,)

    @classmethod
    def parse(cls, params: Mapping[str, Sequence[str]]) -> tuple[InitiativeFilters, dict[str, list[str]]]:
        """Read filters from query parameters; unknown values are returned as Dutch errors per field."""
        values, errors = read_filters(params, ("province", "kind", "theme", "phase", "status"))
        return cls(**values), errors

    def is_active(self, name: str, value: str) -> bool:
        return value in getattr(self, name)


#: How a listing can be ordered: the value in ``?sort=``, its Dutch label and the database order.
LIST_ORDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "recent": ("Laatst gewijzigd eerst", ("-updated_at", "-id")),
    "titel": ("Titel (A–Z)", ("title", "id")),
    "provincie": ("Provincie (A–Z)", ("province__name", "title", "id")),
}
DEFAULT_ORDER = "recent"


@dataclass(frozen=True)
class Overview:
    """Numbers for the home page."""

    total: int
    per_province: list[tuple[Province, int]] = field(default_factory=list)
    per_theme: list[tuple[Theme, int]] = field(default_factory=list)


def _filtered(filters: InitiativeFilters, viewer: User | None):
    query = Initiative.all()
    concept_provinces = permissions.visible_concept_provinces(viewer)
    if concept_provinces is not None:
        query = query.filter(Q(status__not=Status.CONCEPT) | Q(province_id__in=list(concept_provinces) or [""]))
    if filters.province:
        query = query.filter(province_id__in=filters.province)
    if filters.kind:
        query = query.filter(kind__in=filters.kind)
    if filters.phase:
        query = query.filter(phase__in=filters.phase)
    if filters.status:
        query = query.filter(status__in=filters.status)
    if filters.theme:
        with_theme = Initiative.filter(themes__slug__in=filters.theme).values("id")
        query = query.filter(id__in=Subquery(with_theme))
    return query


async def list_initiatives(
    filters: InitiativeFilters, viewer: User | None, page: int = 1, per_page: int = 20, order: str = DEFAULT_ORDER
) -> Page[Initiative]:
    """One page of the initiatives ``viewer`` may see (concepts only of their own province) that pass the filters,
    in one of the `LIST_ORDERS` (an unknown one is the default)."""
    page = max(1, page)
    query = _filtered(filters, viewer)
    total = await query.count()
    _label, fields = LIST_ORDERS.get(order, LIST_ORDERS[DEFAULT_ORDER])
    items = (
        await query.order_by(*fields)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .prefetch_related("province", "themes")
    )
    return Page(items=list(items), total=total, page=page, per_page=per_page)


async def all_listed(filters: InitiativeFilters, viewer: User | None, order: str = DEFAULT_ORDER) -> list[Initiative]:
    """Every initiative of a listing, unpaged: for downloading the list as it is shown."""
    _label, fields = LIST_ORDERS.get(order, LIST_ORDERS[DEFAULT_ORDER])
    return list(await _filtered(filters, viewer).order_by(*fields).prefetch_related("province", "themes"))


async def get_initiative(initiative_id: int) -> Initiative:
    initiative = await Initiative.get_or_none(id=initiative_id).prefetch_related("province", "themes")
    if initiative is None:
        raise InitiativeNotFound(initiative_id)
    return initiative


async def get_visible_initiative(initiative_id: int, viewer: User | None) -> Initiative:
    """The initiative if ``viewer`` may see it; another province's concept is InitiativeNotFound, as if it did not exist."""
    initiative = await get_initiative(initiative_id)
    if not permissions.can_view(viewer, initiative):
        raise InitiativeNotFound(initiative_id)
    return initiative


async def _deny(actor: Actor, action: str, object_id: object, why: str) -> None:
    await audit.record(
        actor,
        "access_denied",
        result=audit.DENIED,
        object_type="initiative",
        object_id=object_id if object_id is not None else "",
        detail={"attempt": action, "why": why},
    )
    raise PermissionDenied(why, detail=OWN_PROVINCE_DETAIL, errors=OWN_PROVINCE_ERRORS)


async def find_by_external_id(province_code: str, external_id: str) -> Initiative | None:
    return await Initiative.get_or_none(province_id=province_code, external_id=external_id)


def _lifecycle(data: InitiativeInput, before: Initiative | None) -> dict[str, Any]:
    """When it was first published and when its content last changed (province and themes of ``before`` fetched)."""
    now = _now()
    values: dict[str, Any] = {}
    if data.status == Status.GEPUBLICEERD and (before is None or before.published_at is None):
        values["published_at"] = now
    old = (
        InitiativeInput.model_validate(as_input_dict(before)).model_dump(include=set(MATERIAL_FIELDS))
        if before
        else None
    )
    if old != data.model_dump(include=set(MATERIAL_FIELDS)):  # pydantic's IncEx takes a set, not a frozenset
        values["material_change_at"] = now
    return values


def _columns(data: InitiativeInput) -> dict[str, Any]:
    values = data.model_dump(exclude={"province", "themes"})
    values["province_id"] = data.province
    values["programme_line"] = data.programme_line
    return values


async def _set_themes(initiative: Initiative, slugs: Iterable[str], *, replace: bool) -> None:
    themes = await Theme.filter(slug__in=list(slugs))
    if replace:
        await initiative.themes.clear()
    if themes:
        await initiative.themes.add(*themes)


async def _ensure_unique(data: InitiativeInput, own_id: int | None) -> None:
    clash = Initiative.filter(province_id=data.province, external_id=data.external_id)
    if own_id is not None:
        clash = clash.exclude(id=own_id)
    if await clash.exists():
        raise InputError({"external_id": [DUPLICATE_EXTERNAL_ID]})


async def create_initiative(actor: Actor, data: InitiativeInput) -> Initiative:
    """Create an initiative; a logged-in user may only do so for their own province."""
    if not permissions.allowed(actor, permissions.can_create_in, data.province):
        await _deny(actor, "initiative_create", None, f"aanmaken voor provincie {data.province}")
    data = data.with_external_id()
    async with in_transaction():
        await _ensure_unique(data, own_id=None)
        initiative = await Initiative.create(**_columns(data), **_lifecycle(data, None), created_by=actor.user)
        await _set_themes(initiative, data.themes, replace=False)
        await embedding_jobs.enqueue([initiative.id])
    await audit.record(
        actor,
        "initiative_create",
        object_type="initiative",
        object_id=initiative.id,
        detail={"province": data.province, "external_id": data.external_id},
    )
    return await _changed(await get_initiative(initiative.id))


async def update_initiative(
    actor: Actor, initiative_id: int, data: InitiativeInput, expected_version: int | None = None
) -> Initiative:
    """Replace an initiative's content. With ``expected_version`` the save fails if someone saved in between.

    A logged-in user must be allowed to edit the initiative as it is *and* as it would become, so
    nobody can move an initiative into, or out of, a province that is not theirs."""
    existing = await Initiative.get_or_none(id=initiative_id)
    if existing is None:
        raise InitiativeNotFound(initiative_id)
    if not (
        permissions.allowed(actor, permissions.can_edit, existing)
        and permissions.allowed(actor, permissions.can_create_in, data.province)
    ):
        await _deny(
            actor, "initiative_update", initiative_id, f"wijzigen van {existing.province_id} naar {data.province}"
        )
    async with in_transaction():
        current = await Initiative.get_or_none(id=initiative_id).prefetch_related("province", "themes")
        if current is None:
            raise InitiativeNotFound(initiative_id)
        data = data if data.external_id else data.model_copy(update={"external_id": current.external_id})
        if expected_version in (None, current.version) and _same_content(current, data):
            # Nothing to save: a new version would only make everyone else's open form stale (412).
            return current
        await _ensure_unique(data, own_id=initiative_id)
        # One statement checks and bumps the version (UPDATE … SET version = version + 1 WHERE id = ?
        # AND version = ?): a save that read an older version changes nothing, whoever committed between.
        query = Initiative.filter(id=initiative_id)
        if expected_version is not None:
            query = query.filter(version=expected_version)
        changed = await query.update(
            **_columns(data), **_lifecycle(data, current), version=F("version") + 1, updated_at=_now()
        )
        if not changed:
            raise VersionConflict(await _current_version(initiative_id))
        await _set_themes(current, data.themes, replace=True)
        await embedding_jobs.enqueue([initiative_id])
    updated = await get_initiative(initiative_id)
    await audit.record(
        actor,
        "initiative_update",
        object_type="initiative",
        object_id=initiative_id,
        detail={"version": updated.version},
    )
    return await _changed(updated)


async def _current_version(initiative_id: int) -> int:
    rows = await flat_values(Initiative.filter(id=initiative_id), "version", int)
    if not rows:
        raise InitiativeNotFound(initiative_id)
    return rows[0]


async def archive_initiative(actor: Actor, initiative_id: int, expected_version: int | None = None) -> Initiative:
    """Archive instead of delete: the initiative leaves listings but its history stays.

    With ``expected_version`` it fails (VersionConflict) when someone saved in between. Archiving an
    archived initiative changes nothing and succeeds, whatever version it names: a double click or a
    resubmitted form asked for what is already so, and was told someone else had saved."""
    initiative = await get_initiative(initiative_id)
    if not permissions.allowed(actor, permissions.can_edit, initiative):
        await _deny(actor, "initiative_archive", initiative_id, f"archiveren in {initiative.province_id}")
    query = Initiative.filter(id=initiative_id)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    async with in_transaction():
        changed = await query.exclude(status=Status.GEARCHIVEERD).update(
            status=Status.GEARCHIVEERD, version=F("version") + 1, updated_at=_now()
        )
        if changed:  # its vector leaves the matches and its index entry says archived
            await embedding_jobs.enqueue([initiative_id])
    if changed:
        await audit.record(actor, "initiative_archive", object_type="initiative", object_id=initiative_id)
        return await _changed(await get_initiative(initiative_id))
    current = await get_initiative(initiative_id)
    if expected_version is not None and current.version != expected_version and current.status != Status.GEARCHIVEERD:
        raise VersionConflict(current.version)
    return current


@dataclass(frozen=True)
class UpsertReport:
    created: int
    updated: int
    unchanged: int = 0

    @property
    def queued(self) -> int:
        """Initiatives whose embedding and matches follow from the job queue (the changed ones)."""
        return self.created + self.updated


async def upsert_initiatives(rows: Sequence[InitiativeInput], actor: Actor = audit.SYSTEM) -> UpsertReport:
    """Create or update by (province, external_id), all in one transaction: all rows land or none.

    Imports run from the operator's command line or a beheerder's upload, so they are not bound to one
    province."""
    if not permissions.allowed(actor, permissions.can_import):
        raise PermissionDenied("import")
    created = updated = unchanged = 0
    changed_ids: list[int] = []
    async with in_transaction():
        for data in rows:
            data = data.with_external_id()
            existing = await find_by_external_id(data.province, data.external_id)
            if existing is None:
                initiative = await Initiative.create(**_columns(data), **_lifecycle(data, None))
                await _set_themes(initiative, data.themes, replace=False)
                changed_ids.append(initiative.id)
                created += 1
                continue
            await existing.fetch_related("province", "themes")
            stored = as_input_dict(existing)
            data, same = _merged_with_stored(stored, data)
            if same:
                unchanged += 1
            else:
                await Initiative.filter(id=existing.id).update(
                    **_columns(data), **_lifecycle(data, existing), version=F("version") + 1, updated_at=_now()
                )
                await _set_themes(existing, data.themes, replace=True)
                changed_ids.append(existing.id)
                updated += 1
        await embedding_jobs.enqueue(changed_ids)
    if created or updated:
        await audit.record(
            actor,
            "initiative_import",
            object_type="initiative",
            detail={"created": created, "updated": updated, "unchanged": unchanged},
        )
    return UpsertReport(created=created, updated=updated, unchanged=unchanged)


def _same_content(initiative: Initiative, data: InitiativeInput) -> bool:
    """Whether saving `data` would change nothing of `initiative` (fetched with its province and themes)."""
    try:
        return InitiativeInput.model_validate(as_input_dict(initiative)) == data
    except ValidationError:  # a stored value today's rules refuse: saving `data` does change it
        return False


def _merged_with_stored(stored: dict[str, Any], row: InitiativeInput) -> tuple[InitiativeInput, bool]:
    """The row over the stored initiative, and whether that changes anything. A column the file does not
    have keeps what is stored (an empty cell clears its field): a sheet without the budget column wiped
    every budget. A stored value that today's rules refuse (saved before a rule) cannot be kept this
    way: then the row stands as given, and counts as a change."""
    try:
        merged = InitiativeInput.model_validate({**stored, **row.model_dump(include=row.model_fields_set)})
        return merged, InitiativeInput.model_validate(stored) == merged
    except ValidationError:
        return row, False


async def overview() -> Overview:
    published = Q(initiatives__status=Status.GEPUBLICEERD)
    provinces = await Province.all().annotate(n=Count("initiatives", _filter=published)).order_by("name")
    themes = await Theme.all().annotate(n=Count("initiatives", _filter=published)).order_by("-n", "name")
    total = await Initiative.filter(status=Status.GEPUBLICEERD).count()
    return Overview(
        total=total,
        per_province=[(p, p.n) for p in provinces],  # type: ignore[attr-defined]  # n: the annotate() above
        per_theme=[(t, t.n) for t in themes],  # type: ignore[attr-defined]  # n: the annotate() above
    )


async def recent_initiatives(limit: int = 6) -> list[Initiative]:
    query = Initiative.filter(status=Status.GEPUBLICEERD).order_by("-created_at", "-id").limit(limit)
    return list(await query.prefetch_related("province", "themes"))


def as_input_dict(initiative: Initiative) -> dict[str, Any]:
    """The initiative in the shape ``InitiativeInput`` accepts: for edit forms, the API and export."""
    return {declared.name: _input_value(initiative, declared) for declared in INITIATIVE_FIELDS}


def _input_value(initiative: Initiative, declared: InitiativeField) -> Any:
    """One field's stored value as the input gives it: relations by their code or name, choices by
    their value, dates in ISO 8601, lists as lists."""
    if declared.name == "province":
        return initiative.province.code
    if declared.widget is Widget.THEMES:
        return [t.name for t in sorted(initiative.themes, key=lambda t: t.name)]
    value = getattr(initiative, declared.name)
    if declared.is_list:
        return list(value)
    if isinstance(value, date):
        return _iso(value)
    if declared.widget is Widget.SELECT and value is not None:
        return str(value)
    return value


def as_reference(initiative: Initiative) -> dict[str, Any]:
    """How the API names an initiative inside another answer (a match's side, a search hit): enough to
    show it and to fetch it (province fetched)."""
    return {
        "id": initiative.id,
        "external_id": initiative.external_id,
        "province": initiative.province.code,
        "province_name": initiative.province.name,
        "title": initiative.title,
    }


def as_resource(initiative: Initiative) -> dict[str, Any]:
    """The API representation: the input fields plus identity, province name and bookkeeping."""
    return {
        "id": initiative.id,
        **as_input_dict(initiative),
        "province_name": initiative.province.name,
        "version": initiative.version,
        "created_at": initiative.created_at.isoformat(),
        "updated_at": initiative.updated_at.isoformat(),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _now() -> datetime:
    return timezone.now()
