"""Importing initiatives from the files provinces keep: JSON Lines, CSV and Excel (.xlsx).

All or nothing: every row is validated first and any bad row stops the import, with each problem
reported by line number. Idempotent: rows are matched on (province, external_id), so importing the
same file twice updates instead of duplicating.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import initiatives as service
from .validation import FIELD_LABELS, InitiativeInput, InputError, parse_initiative

LIST_FIELDS = ("themes", "technologies", "suppliers", "links")
_TRUE = {"ja", "j", "yes", "y", "true", "waar", "1", "x"}
_FALSE = {"nee", "n", "no", "false", "onwaar", "0", ""}

Row = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"regel {self.line}: {self.message}"


class ImportFailed(Exception):
    """The file was not imported; nothing changed. ``problems`` lists every bad row."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def read_rows(path: Path) -> Iterator[Row]:
    """Rows of a file with the line number a person sees in an editor or spreadsheet."""
    readers: dict[str, Callable[[Path], Iterator[Row]]] = {
        ".jsonl": _read_jsonl, ".ndjson": _read_jsonl, ".csv": _read_csv, ".xlsx": _read_xlsx,
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ImportFailed([RowProblem(0, f"onbekend bestandstype “{path.suffix}”; gebruik .jsonl, .csv of .xlsx")])
    return reader(path)


def _read_jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, {"__error__": f"geen geldige JSON ({exc.msg}, kolom {exc.colno})"}
                continue
            yield number, value if isinstance(value, dict) else {"__error__": "verwacht een JSON-object"}


def _read_csv(path: Path) -> Iterator[Row]:
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    # Numbered as a spreadsheet shows them (header is row 1), also when a cell holds line breaks.
    for number, record in enumerate(reader, start=2):
        if any((v or "").strip() for v in record.values() if isinstance(v, str)):
            yield number, _from_cells(record)


def _read_xlsx(path: Path) -> Iterator[Row]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for number, cells in enumerate(rows, start=2):
            if all(c is None or str(c).strip() == "" for c in cells):
                continue
            yield number, _from_cells(dict(zip(header, cells, strict=False)))
    finally:
        workbook.close()


def _from_cells(record: dict[str | None, Any]) -> dict[str, Any]:
    """Spreadsheet cells to typed values: ;-separated lists, ja/nee booleans, dates and whole numbers."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        if key is None:
            row["__error__"] = "meer kolommen dan in de kopregel"
            continue
        name = key.strip()
        if not name:
            continue
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if name in LIST_FIELDS:
            value = _split_list(value)
        elif name == "seeks_partners" and isinstance(value, (str, int)):
            text = str(value).strip().lower()
            value = True if text in _TRUE else False if text in _FALSE else value
        elif isinstance(value, str) and not value.strip():
            value = None
        row[name] = value
    return row


def _split_list(value: Any) -> list[str] | Any:
    if value is None:
        return []
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return text
        return parsed
    return [part.strip() for part in text.split(";") if part.strip()]


def validate_rows(rows: Iterator[Row]) -> list[InitiativeInput]:
    """Validate every row; raise ImportFailed listing all problems, or return the clean rows."""
    problems: list[RowProblem] = []
    clean: list[InitiativeInput] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in rows:
        if "__error__" in raw:
            problems.append(RowProblem(number, raw["__error__"]))
            continue
        try:
            data = parse_initiative(raw)
        except InputError as exc:
            for field, messages in exc.errors.items():
                label = FIELD_LABELS.get(field, field) if field else "rij"
                problems.append(RowProblem(number, f"{label} ({field or '-'}): {' '.join(messages)}"))
            continue
        if data.external_id:
            key = (data.province, data.external_id)
            if key in seen:
                problems.append(RowProblem(number, f"kenmerk {data.external_id} staat ook op regel {seen[key]}"))
                continue
            seen[key] = number
        clean.append(data)
    if problems:
        raise ImportFailed(problems)
    if not clean:
        raise ImportFailed([RowProblem(0, "het bestand bevat geen initiatieven")])
    return clean


async def import_file(path: Path, progress: Callable[[Iterator[Row]], Iterator[Row]] | None = None) -> service.UpsertReport:
    rows = read_rows(path)
    clean = validate_rows(progress(rows) if progress else rows)
    return await service.upsert_initiatives(clean)
