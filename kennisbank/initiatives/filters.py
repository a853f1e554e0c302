"""Reading filter values from query parameters, shared by the listing, the search page and the API.

People and links use names or codes in any case ("Friesland", "nl-fr"); the rest of the code sees
one canonical value per filter, and every value that means nothing is reported in Dutch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from ..taxonomy import Kind, Phase, ProgrammeLine, Status, find_province, find_theme

Resolver = Callable[[str], str | None]


def _member_of(values: Iterable[str]) -> Resolver:
    allowed = frozenset(values)
    return lambda raw: raw if raw in allowed else None


RESOLVERS: dict[str, Resolver] = {
    "province": lambda raw: p.code if (p := find_province(raw)) else None,
    "theme": lambda raw: t.slug if (t := find_theme(raw)) else None,
    "kind": _member_of(Kind),
    "phase": _member_of(Phase),
    "programme_line": _member_of(ProgrammeLine),
    "status": _member_of(Status),
    "year": lambda raw: raw if raw.isascii() and raw.isdigit() and len(raw) == 4 else None,
}


def read_filters(
    params: Mapping[str, Sequence[str]], names: Iterable[str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, list[str]]]:
    """Canonical values per filter name (duplicates dropped, order kept) and Dutch errors per name."""
    values: dict[str, tuple[str, ...]] = {}
    errors: dict[str, list[str]] = {}
    for name in names:
        resolved: list[str] = []
        for raw in params.get(name, ()):
            if not raw:
                continue
            value = RESOLVERS[name](raw)
            if value is None:
                errors.setdefault(name, []).append(f"Onbekende waarde “{raw}”.")
            elif value not in resolved:
                resolved.append(value)
        if resolved:
            values[name] = tuple(resolved)
    return values, errors


_DIGITS = re.compile(r"[0-9]{1,18}")


def whole_number(text: str, low: int, high: int) -> int | None:
    """`text` as a whole number from `low` to `high` (ASCII digits only), else None."""
    text = text.strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def range_message(low: int, high: int) -> str:
    """The Dutch message for a value that is not a whole number from `low` to `high`."""
    return f"Geef een heel getal van {low} tot en met {high}."
