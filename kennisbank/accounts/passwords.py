"""Password hashing (argon2id) and the password rules.

The rules follow NIST SP 800-63B and the Dutch BIO: a minimum length, long passphrases allowed, no
composition rules, and no password from a list of common and leaked ones.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "common_passwords.txt"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this keeps a login for an unknown e-mail as slow as one for a known e-mail.
_DUMMY_HASH = _hasher.hash("kennisbank-dummy-password")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problems(password: str, *, email: str = "") -> list[str]:
    """Dutch reasons why a new password is not acceptable; empty when it is."""
    if len(password) < MIN_LENGTH:
        return [
            f"Kies een wachtwoord van minstens {MIN_LENGTH} tekens. Een zin van een paar woorden is sterk "
            "en goed te onthouden."
        ]
    if len(password) > MAX_LENGTH:
        return [f"Een wachtwoord mag hoogstens {MAX_LENGTH} tekens lang zijn."]
    if len(set(password)) == 1:  # eight spaces were accepted: a guesser tries such passwords first
        return [
            "Dit wachtwoord bestaat uit één teken, herhaald. Kies een ander, bijvoorbeeld een zin van een paar woorden."
        ]
    lowered = password.lower()
    if lowered in common_passwords():
        return ["Dit wachtwoord komt voor in lijsten van veelgebruikte of uitgelekte wachtwoorden. Kies een ander."]
    if email and lowered in {email.lower(), email.lower().split("@")[0]}:
        return ["Gebruik niet uw e-mailadres als wachtwoord."]
    return []


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches. An empty hash (no password set) never matches, but costs the same time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at the next login."""
    return _hasher.check_needs_rehash(password_hash)
