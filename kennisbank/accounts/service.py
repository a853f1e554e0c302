"""The account service: creating and changing accounts, checking passwords, two-step login and API tokens.

Every change goes through here and is written to the audit log, whichever door (web page, CLI) it
came through. Roles and provinces are checked against the vocabularies in taxonomy.py.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from tortoise import timezone
from tortoise.transactions import in_transaction

from .. import audit, permissions
from ..audit import Actor
from ..errors import NotFound
from ..initiatives.validation import InputError, required_message
from ..models import ApiToken, User
from ..taxonomy import PROVINCE_BY_CODE, ROLE_LABELS, Role, find_province
from . import sessions
from .passwords import hash_password, needs_rehash, password_problems, verify_password

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "kb_"
TOTP_ISSUER = "Kennisbank provincies"
ACCOUNT_FIELD_LABELS = {
    "email": "E-mailadres",
    "name": "Naam",
    "role": "Rol",
    "password": "Wachtwoord",
    "current_password": "Huidig wachtwoord",
    "new_password": "Nieuw wachtwoord",
    "totp": "Tweestapsverificatie",
    "tokens": "API-tokens",
    "token_password": "Huidig wachtwoord",
    "valid_days": "Geldig",
}


class AccountNotFound(NotFound):
    """No account with that id."""

    default_detail = "Er is geen account met dit nummer."


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_profile(email: str, role: str, province: str | None) -> tuple[dict[str, list[str]], str | None]:
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = [required_message(ACCOUNT_FIELD_LABELS["email"])]
    elif not EMAIL_PATTERN.match(email) or len(email) > 254:
        errors["email"] = ["Vul een geldig e-mailadres in, zoals naam@provincie.nl."]
    if not role:
        errors["role"] = [required_message(ACCOUNT_FIELD_LABELS["role"])]
    elif role not in {r.value for r in Role}:
        errors["role"] = ["Kies een rol: medewerker, coordinator of beheerder."]
    code = None
    if province:
        found = find_province(province)
        if found is None:
            errors["province"] = [
                f"Onbekende provincie “{province}”. Gebruik een naam of ISO-code, zoals Gelderland of NL-GE."
            ]
        else:
            code = found.code
    if permissions.needs_province(role) and not province:
        errors.setdefault("province", ["Een medewerker hoort bij een provincie: kies er een."])
    return errors, code


async def create_user(
    actor: Actor, *, email: str, role: str, province: str | None = None, name: str = "", password: str | None = None
) -> User:
    """Create an account. Without a password, password login stays off until one is set."""
    email = normalise_email(email)
    errors, province_code = _check_profile(email, role, province)
    if password is not None:
        problems = (
            [required_message(ACCOUNT_FIELD_LABELS["password"])]
            if not password
            else password_problems(password, email=email)
        )
        if problems:
            errors["password"] = problems
    if not errors and await User.filter(email=email).exists():
        errors["email"] = ["Er bestaat al een account met dit e-mailadres."]
    if errors:
        raise InputError(errors)
    user = await User.create(
        email=email,
        name=name.strip()[:120],
        role=Role(role),
        province_id=province_code,
        password_hash=hash_password(password) if password else "",
    )
    await audit.record(
        actor,
        "account_create",
        object_type="user",
        object_id=user.id,
        detail={"email": email, "role": role, "province": province_code},
    )
    return user


async def get_user(user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise AccountNotFound(user_id)
    return user


async def list_users() -> list[User]:
    return list(await User.all().order_by("email"))


async def update_user(actor: Actor, user_id: int, *, role: str, province: str | None, name: str, active: bool) -> User:
    """Change role, province, name or the active flag. A changed role or province, or disabling, ends sessions."""
    user = await get_user(user_id)
    errors, province_code = _check_profile(user.email, role, province)
    if not permissions.may_change_own_access(actor.user, user, role, active):
        errors[""] = ["U kunt uw eigen rol niet wijzigen en uw eigen account niet blokkeren."]
    if errors:
        raise InputError(errors)
    changes = {
        key: [str(old) if old is not None else None, str(new) if new is not None else None]
        for key, old, new in (
            ("role", user.role, role),
            ("province", user.province_id, province_code),
            ("name", user.name, name.strip()[:120]),
            ("active", user.active, active),
        )
        if str(old) != str(new)
    }
    if not changes:
        return user
    await User.filter(id=user.id).update(
        role=Role(role), province_id=province_code, name=name.strip()[:120], active=active
    )
    if {"role", "province", "active"} & changes.keys():
        await sessions.end_all(user.id)
    if not active and "active" in changes:
        await revoke_all_tokens(actor, user.id, reason="account geblokkeerd")
    action = "account_update"
    if "active" in changes:
        action = "account_enable" if active else "account_disable"
    await audit.record(actor, action, object_type="user", object_id=user.id, detail={"changes": changes})
    return await get_user(user.id)


async def end_sessions(actor: Actor, user_id: int) -> int:
    user = await get_user(user_id)
    ended = await sessions.end_all(user.id)
    await audit.record(actor, "sessions_end", object_type="user", object_id=user.id, detail={"ended": ended})
    return ended


async def authenticate(actor: Actor, email: str, password: str) -> User | None:
    """The account for these credentials, or None. Both outcomes are audited; the password never is."""
    email = normalise_email(email)
    user = await User.get_or_none(email=email)
    valid = verify_password(user.password_hash if user else "", password)
    if not (valid and user and user.active):
        reason = "onbekend account" if user is None else ("geblokkeerd" if valid else "onjuist wachtwoord")
        await audit.record(
            Actor(user, actor.ip),
            "login",
            result=audit.FAILED,
            email=email,
            object_type="user",
            object_id=user.id if user else "",
            detail={"reason": reason},
        )
        return None
    if needs_rehash(user.password_hash):
        await User.filter(id=user.id).update(password_hash=hash_password(password))
    return user


REAUTH_FRESH = timedelta(minutes=10)  # an account without a password re-authenticates by logging in anew
WRONG_CURRENT_PASSWORD = "Het huidige wachtwoord klopt niet."
NO_PASSWORD_LOG_IN_AGAIN = (
    "Uw account heeft geen wachtwoord. Log opnieuw in via uw organisatie en doe dit daarna binnen 10 minuten."
)


async def confirm_password(
    actor: Actor, password: str, *, purpose: str, session_started: datetime | None = None
) -> str:
    """Re-authentication before a sensitive change (two-step login, API tokens): "" when ``password`` is the
    account's current password, otherwise the Dutch reason. Someone holding only a session (or a token)
    cannot make the change. An account without a password (login through the identity provider only)
    passes when its session began less than `REAUTH_FRESH` ago. A failure is audited, never the password."""
    user = actor.user
    assert user is not None
    if user.password_hash:
        if verify_password(user.password_hash, password):
            return ""
        reason = WRONG_CURRENT_PASSWORD if password else required_message(ACCOUNT_FIELD_LABELS["current_password"])
    elif session_started is not None and timezone.now() - session_started <= REAUTH_FRESH:
        return ""
    else:
        reason = NO_PASSWORD_LOG_IN_AGAIN
    await audit.record(
        actor, "reauthenticate", result=audit.FAILED, object_type="user", object_id=user.id, detail={"purpose": purpose}
    )
    return reason


async def logged_in(actor: Actor, *, method: str = "wachtwoord") -> None:
    assert actor.user is not None
    await User.filter(id=actor.user.id).update(last_login_at=timezone.now())
    await audit.record(actor, "login", object_type="user", object_id=actor.user.id, detail={"method": method})


async def change_password(actor: Actor, current: str, new: str, *, session_token: str = "") -> None:
    """Change one's own password; every other session of the account ends and every API token is revoked
    (a thief's too)."""
    user = actor.user
    assert user is not None
    errors: dict[str, list[str]] = {}
    if user.password_hash and not current:
        errors["current_password"] = [required_message(ACCOUNT_FIELD_LABELS["current_password"])]
    elif user.password_hash and not verify_password(user.password_hash, current):
        errors["current_password"] = ["Het huidige wachtwoord klopt niet."]
    problems = (
        [required_message(ACCOUNT_FIELD_LABELS["new_password"])]
        if not new
        else password_problems(new, email=user.email)
    )
    if problems:
        errors["new_password"] = problems
    if errors:
        await audit.record(actor, "password_change", result=audit.FAILED, object_type="user", object_id=user.id)
        raise InputError(errors)
    await User.filter(id=user.id).update(password_hash=hash_password(new))
    ended = await sessions.end_all(user.id, keep=session_token)
    revoked = await revoke_all_tokens(actor, user.id, reason="wachtwoord gewijzigd")
    await audit.record(
        actor,
        "password_change",
        object_type="user",
        object_id=user.id,
        detail={"other_sessions_ended": ended, "api_keys_revoked": revoked},
    )


async def set_password(actor: Actor, user_id: int, password: str) -> None:
    """Set a password from the CLI or by a beheerder (the rules still apply); ends every session and revokes
    every API token of the account."""
    user = await get_user(user_id)
    problems = password_problems(password, email=user.email)
    if problems:
        raise InputError({"password": problems})
    await User.filter(id=user.id).update(password_hash=hash_password(password))
    ended = await sessions.end_all(user.id)
    revoked = await revoke_all_tokens(actor, user.id, reason="wachtwoord gewijzigd")
    await audit.record(
        actor,
        "password_change",
        object_type="user",
        object_id=user.id,
        detail={"sessions_ended": ended, "api_keys_revoked": revoked},
    )


# --- two-step login (TOTP, RFC 6238) -------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code equals ``code`` (allowing one step of clock drift), or None."""
    code = re.sub(r"\s", "", code)
    if not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def verify_totp(user: User, code: str) -> bool:
    """Check a code; each code is accepted once, even under concurrent requests."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code)
    if step is None:
        return False
    claimed = await User.filter(id=user.id, totp_last_step__lt=step).update(totp_last_step=step)
    return claimed == 1


async def enable_totp(actor: Actor, secret: str, code: str, current_code: str = "") -> bool:
    """Turn on two-step login once the user proves their app produces codes for ``secret``.

    Replacing a device that is already set up also needs a code from the current one, so that
    someone holding only a session cannot swap in their own device."""
    user = actor.user
    assert user is not None
    if user.totp_enabled and not await verify_totp(user, current_code):
        await audit.record(
            actor,
            "totp_enable",
            result=audit.FAILED,
            object_type="user",
            object_id=user.id,
            detail={"reason": "huidige code ontbreekt of klopt niet"},
        )
        return False
    step = _matching_step(secret, code)
    if step is None:
        await audit.record(actor, "totp_enable", result=audit.FAILED, object_type="user", object_id=user.id)
        return False
    await User.filter(id=user.id).update(totp_secret=secret, totp_last_step=step)
    await audit.record(actor, "totp_enable", object_type="user", object_id=user.id)
    return True


async def disable_totp(actor: Actor) -> bool:
    """Turn two-step login off; not allowed for beheerders, who must use it."""
    user = actor.user
    assert user is not None
    if permissions.must_use_second_factor(user):
        return False
    await User.filter(id=user.id).update(totp_secret="", totp_last_step=0)
    await audit.record(actor, "totp_disable", object_type="user", object_id=user.id)
    return True


# --- API tokens ------------------------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once, never stored
    record: ApiToken


#: How long a new API token may work, in days, with the label the account page offers: a leaked
#: token that nobody revokes stops by itself.
TOKEN_LIFETIMES: dict[int, str] = {30: "30 dagen", 90: "90 dagen", 180: "een half jaar", 365: "een jaar"}
DEFAULT_TOKEN_LIFETIME = 90


class ExpiredToken(Exception):
    """A bearer token past its end date: refused like a revoked one, but the client is told why."""

    def __init__(self, expired_at: datetime) -> None:
        super().__init__(f"token expired at {expired_at.isoformat()}")
        self.expired_at = expired_at


async def create_token(actor: Actor, name: str, valid_days: int | str = DEFAULT_TOKEN_LIFETIME) -> NewToken:
    """A new personal API token of the actor, working for `valid_days` (one of `TOKEN_LIFETIMES`)."""
    user = actor.user
    assert user is not None
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 80:
        errors["name"] = ["Geef het token een naam van 1 tot 80 tekens, zodat u het later herkent."]
    days = int(valid_days) if str(valid_days).strip().isdigit() else None
    if days not in TOKEN_LIFETIMES:
        errors["valid_days"] = [f"Kies hoe lang het token werkt: {', '.join(TOKEN_LIFETIMES.values())}."]
    if errors:
        raise InputError(errors)
    assert days is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = await ApiToken.create(
        user=user,
        name=name,
        token_hash=_hash_token(token),
        prefix=token[:10],
        expires_at=timezone.now() + timedelta(days=days),
    )
    await audit.record(
        actor, "token_create", object_type="api_token", object_id=record.id, detail={"name": name, "days": days}
    )
    return NewToken(token, record)


async def list_tokens(user: User) -> list[ApiToken]:
    return list(await ApiToken.filter(user_id=user.id))


async def revoke_token(actor: Actor, token_id: int) -> bool:
    """Revoke one of the actor's own tokens; False when it is not theirs or already revoked."""
    user = actor.user
    assert user is not None
    async with in_transaction():
        revoked = await ApiToken.filter(id=token_id, user_id=user.id, revoked_at=None).update(revoked_at=timezone.now())
    if revoked:
        await audit.record(actor, "token_revoke", object_type="api_token", object_id=token_id)
    return bool(revoked)


async def revoke_all_tokens(actor: Actor, user_id: int, *, reason: str) -> int:
    """Revoke every live API token of an account (a new password, a blocked account); each is audited."""
    ids = await ApiToken.filter(user_id=user_id, revoked_at=None).values_list("id", flat=True)
    if not ids:
        return 0
    revoked = await ApiToken.filter(id__in=list(ids), revoked_at=None).update(revoked_at=timezone.now())
    for token_id in ids:
        await audit.record(
            actor,
            "token_revoke",
            object_type="api_token",
            object_id=token_id,
            detail={"reason": reason, "user_id": user_id},
        )
    return revoked


async def user_for_token(token: str) -> User | None:
    """The active account behind a bearer token, or None for an unknown, revoked or disabled one;
    ExpiredToken for one past its end date."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = await ApiToken.get_or_none(token_hash=_hash_token(token), revoked_at=None).prefetch_related("user")
    if record is None or not record.user.active:
        return None
    now = timezone.now()
    if record.expires_at is not None and record.expires_at <= now:
        raise ExpiredToken(record.expires_at)
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        await ApiToken.filter(id=record.id).update(last_used_at=now)
    return record.user


# --- the yearly access review ------------------------------------------------------------------------------


async def accounts_csv() -> str:
    """Every account with its role, province and state, for the yearly access review."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "e-mail",
            "naam",
            "rol",
            "provincie",
            "actief",
            "tweestapsverificatie",
            "aangemaakt_utc",
            "laatst_ingelogd_utc",
        ]
    )
    for user in await list_users():
        province = PROVINCE_BY_CODE[user.province_id].name if user.province_id else ""
        writer.writerow(
            [
                audit.csv_safe(user.email),
                audit.csv_safe(user.name),
                ROLE_LABELS[user.role],
                province,
                "ja" if user.active else "nee",
                "ja" if user.totp_enabled else "nee",
                user.created_at.isoformat(),
                user.last_login_at.isoformat() if user.last_login_at else "",
            ]
        )
    return out.getvalue()
