"""Exporting initiatives as JSON Lines (re-imports without loss), CSV or Excel (for spreadsheets).

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading apostrophe, the same neutralising as the accounts and audit exports
(`audit.csv_safe`); the importer takes it off again (`audit.csv_unsafe`), so an exported CSV
re-imports to the same initiatives. An Excel cell is typed: text is written as a string cell, which
Excel never runs as a formula, so it keeps its text exactly (``=Asfaltrecycling``) and re-imports as
it was. JSON Lines are written as stored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any, TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ..audit import csv_safe
from ..models import Initiative
from . import service
from .validation import INITIATIVE_FIELDS, LIST_FIELDS

#: One column per field of an initiative, in the form's order: what the import reads back.
COLUMNS: tuple[str, ...] = tuple(field.name for field in INITIATIVE_FIELDS)


async def exported_rows(initiatives: Iterable[Initiative] | None = None) -> AsyncIterator[dict[str, Any]]:
    """The rows of `initiatives` (prefetched with province and themes), or of every initiative."""
    if initiatives is None:
        initiatives = (
            await Initiative.all().order_by("province_id", "external_id").prefetch_related("province", "themes")
        )
    for initiative in initiatives:
        yield service.as_input_dict(initiative)


async def export(out: TextIO, fmt: str, initiatives: Iterable[Initiative] | None = None) -> int:
    count = 0
    if fmt == "jsonl":
        async for row in exported_rows(initiatives):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        async for row in exported_rows(initiatives):
            writer.writerow({k: _csv_cell(k, v) for k, v in row.items()})
            count += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return count


async def excel(initiatives: Iterable[Initiative]) -> bytes:
    """An .xlsx workbook of `initiatives`, with the import's column names (it re-imports)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Initiatieven")
    sheet.append(list(COLUMNS))
    async for row in exported_rows(initiatives):
        sheet.append([_excel_cell(sheet, name, row[name]) for name in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _spreadsheet_value(name: str, value: Any) -> Any:
    """A field's value as a spreadsheet cell holds it: lists joined by "; ", ja/nee, empty for none.
    A list one of whose values holds a separator the import splits at (";", and "," for tags) is
    written as a JSON list, which the import reads as such: it comes back as it went out."""
    if name in LIST_FIELDS:
        if any(";" in item or "," in item for item in value) or (value and value[0].startswith("[")):
            return json.dumps(list(value), ensure_ascii=False)
        return "; ".join(value)
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return "" if value is None else value


def _csv_cell(name: str, value: Any) -> Any:
    value = _spreadsheet_value(name, value)
    return csv_safe(value) if isinstance(value, str) else value


def _excel_cell(sheet: WriteOnlyWorksheet, name: str, value: Any) -> Any:
    value = _spreadsheet_value(name, value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl makes a text starting with "=" a formula; a string cell is never run
    return cell
