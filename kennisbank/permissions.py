"""Who may do what: every rule in one place, so routes, API and templates ask the same questions.

- medewerker: reads published initiatives and their own province's concepts; creates and edits
  initiatives of their own province only, and cannot move one to another province.
- coordinator (IDA): reads everything, including concepts; reviews matches; edits no initiative.
- beheerder: manages accounts and reads the audit log; reads published initiatives.

Collaborations: coordinators manage every one (create, stage, owner, next action, introductions);
medewerkers of a participating province read it and add notes and links; everyone else only sees
that a published initiative takes part in one (its title and stage, on the initiative's page).

No other module compares role values (tests/test_role_rules.py): services and routes call these
rules, and templates get them as globals (`kennisbank.rendering`), so a rule changes here only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeGuard

from tortoise.queryset import QuerySet

from .models import Initiative, User
from .taxonomy import Role, Status

if TYPE_CHECKING:
    from .audit import Actor

P = ParamSpec("P")


def allowed(actor: Actor, rule: Callable[Concatenate[User | None, P], bool], *args: P.args, **kwargs: P.kwargs) -> bool:
    """Whether `actor` may do what `rule` decides for a user: the system actor (the command line and
    the worker) always, an anonymous actor never, a user as the rule says. Services ask this, so an
    anonymous actor is refused even when a route forgot to check."""
    if actor.system:
        return True
    return actor.user is not None and rule(actor.user, *args, **kwargs)


def is_active(user: User | None) -> TypeGuard[User]:
    """A user with an active account. This and every ``can_*`` rule is a TypeGuard: true only for a
    user, so after a check the caller (and mypy) may use the user's fields."""
    return user is not None and user.active


def can_view(user: User | None, initiative: Initiative) -> TypeGuard[User]:
    if not is_active(user):
        return False
    if initiative.status != Status.CONCEPT:
        return True
    return user.role == Role.COORDINATOR or _own_province(user, initiative.province_id)


def visible_concept_provinces(user: User | None) -> tuple[str, ...] | None:
    """Provinces whose concepts the user may see; None means all (coordinators)."""
    if not is_active(user):
        return ()
    if user.role == Role.COORDINATOR:
        return None
    return (user.province_id,) if user.role == Role.MEDEWERKER and user.province_id else ()


def can_create_in(user: User | None, province_code: str) -> TypeGuard[User]:
    return is_active(user) and user.role == Role.MEDEWERKER and _own_province(user, province_code)


def can_create(user: User | None) -> TypeGuard[User]:
    return is_active(user) and user.role == Role.MEDEWERKER and bool(user.province_id)


def can_edit(user: User | None, initiative: Initiative) -> TypeGuard[User]:
    return can_create_in(user, initiative.province_id)


def can_review_matches(user: User | None) -> TypeGuard[User]:
    return is_active(user) and user.role == Role.COORDINATOR


def can_manage_accounts(user: User | None) -> TypeGuard[User]:
    return is_active(user) and user.role == Role.BEHEERDER


def can_import(user: User | None) -> TypeGuard[User]:
    """Imports are not bound to one province (a file may hold all twelve): the beheerder's, like the CLI's."""
    return is_active(user) and user.role == Role.BEHEERDER


def can_manage_collaborations(user: User | None) -> TypeGuard[User]:
    return is_active(user) and user.role == Role.COORDINATOR


def can_contribute_to_collaboration(user: User | None, provinces: Iterable[str]) -> TypeGuard[User]:
    """Read the whole collaboration and add notes and links: coordinators, and medewerkers of a participant."""
    if can_manage_collaborations(user):
        return True
    return (
        is_active(user)
        and user.role == Role.MEDEWERKER
        and bool(user.province_id)
        and (user.province_id in set(provinces))
    )


def can_see_collaboration_exists(user: User | None, initiative: Initiative) -> TypeGuard[User]:
    """Whether the initiative's page may say which collaborations it takes part in."""
    return can_view(user, initiative) and (
        initiative.status != Status.CONCEPT
        or _own_province(user, initiative.province_id)
        or user.role == Role.COORDINATOR
    )


def own_province(user: User | None) -> str | None:
    """The province an active medewerker works for (their concepts, their collaborations); None for
    everyone else, coordinators included (they see every province, but none is their own)."""
    if is_active(user) and user.role == Role.MEDEWERKER and user.province_id:
        return user.province_id
    return None


def needs_province(role: str) -> bool:
    """Whether an account with this role belongs to a province (medewerkers do; IDA and beheer do not)."""
    return role == Role.MEDEWERKER


def may_own_collaborations(user: User | None) -> TypeGuard[User]:
    """Who may be a collaboration's owner: an active IDA coordinator."""
    return is_active(user) and user.role == Role.COORDINATOR


def collaboration_owners() -> QuerySet[User]:
    """The accounts `may_own_collaborations` allows, as a query."""
    return User.filter(role=Role.COORDINATOR, active=True)


def may_change_own_access(actor: User | None, account: User, role: str, active: bool) -> bool:
    """Nobody changes their own role or blocks their own account (a beheerder could lock out the last
    beheerder, or raise their own rights); others' accounts, and one's own name and province, may change."""
    return actor is None or actor.id != account.id or (active and role == account.role)


def must_use_second_factor(user: User) -> bool:
    """Beheerders must use two-step login (they cannot turn it off, and set it up before anything else)."""
    return user.role == Role.BEHEERDER


def requires_second_factor(user: User) -> bool:
    """Whether a login needs the second step: always for beheerders, for others when they turned it on."""
    return must_use_second_factor(user) or user.totp_enabled


def _own_province(user: User, province_code: str | None) -> bool:
    return bool(user.province_id) and user.province_id == province_code
