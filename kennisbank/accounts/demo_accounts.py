"""Demo accounts for a local try-out (`make run`): one per role, each with a fresh random password.

There is deliberately no account with a known password: the passwords are generated on first run,
printed, and kept in a file readable only by the owner inside the data directory.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .. import audit
from ..models import User
from . import service as accounts

DEMO_ACCOUNTS = (
    ("medewerker.gelderland@kennisbank.example", "medewerker", "NL-GE", "Demo medewerker Gelderland"),
    ("medewerker.limburg@kennisbank.example", "medewerker", "NL-LI", "Demo medewerker Limburg"),
    ("coordinator@kennisbank.example", "coordinator", None, "Demo IDA-coördinator"),
    ("beheerder@kennisbank.example", "beheerder", None, "Demo beheerder"),
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    password: str


def passwords_file(data_dir: Path) -> Path:
    return data_dir / "demo-accounts.txt"


async def create(data_dir: Path) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; return them with their new passwords."""
    created = []
    for email, role, province, name in DEMO_ACCOUNTS:
        if await User.filter(email=email).exists():
            continue
        password = "-".join(secrets.token_hex(3) for _ in range(3))
        await accounts.create_user(
            audit.SYSTEM, email=email, role=role, province=province, name=name, password=password
        )
        created.append(DemoAccount(email, role, password))
    if created:
        path = passwords_file(data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            for account in created:
                handle.write(f"{account.role}\t{account.email}\t{account.password}\n")
    return created
