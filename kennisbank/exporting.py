"""Exporting every initiative as JSON Lines (re-imports without loss) or CSV (for spreadsheets).

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading apostrophe, the same neutralising as the accounts and audit exports
(`audit.csv_safe`); the importer takes it off again (`audit.csv_unsafe`), so an exported CSV
re-imports to the same initiatives. JSON Lines are written as stored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from typing import Any, TextIO

from . import initiatives as service
from .audit import csv_safe
from .importing import LIST_FIELDS
from .models import Initiative
from .validation import InitiativeInput

COLUMNS: tuple[str, ...] = tuple(InitiativeInput.model_fields)


async def exported_rows() -> AsyncIterator[dict[str, Any]]:
    query = Initiative.all().order_by("province_id", "external_id").prefetch_related("province", "themes")
    for initiative in await query:
        yield service.as_input_dict(initiative)


async def export(out: TextIO, fmt: str) -> int:
    count = 0
    if fmt == "jsonl":
        async for row in exported_rows():
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        async for row in exported_rows():
            writer.writerow({k: _cell(k, v) for k, v in row.items()})
            count += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return count


def _cell(name: str, value: Any) -> Any:
    if name in LIST_FIELDS:
        return csv_safe("; ".join(value))
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, str):
        return csv_safe(value)
    return "" if value is None else value
