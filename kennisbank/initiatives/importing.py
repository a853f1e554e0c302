"""Importing initiatives from the files provinces keep: JSON Lines, CSV and Excel (.xlsx).

All or nothing: every row is validated first and any bad row stops the import, with each problem
reported by line number. Idempotent: rows are matched on (province, external_id), so importing the
same file twice updates instead of duplicating.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread

from ..audit import SYSTEM, Actor, csv_unsafe
from ..errors import InvalidInput
from ..taxonomy import find_province
from . import service
from .fields import Widget
from .validation import FIELD_LABELS, FIELDS_BY_NAME, LIST_FIELDS, InitiativeInput, InputError, parse_initiative

_YES_NO_FIELDS = frozenset(name for name, field in FIELDS_BY_NAME.items() if field.widget is Widget.CHECKBOX)
_TRUE = {"ja", "j", "yes", "y", "true", "waar", "1", "x"}
_FALSE = {"nee", "n", "no", "false", "onwaar", "0", ""}

#: Problems listed one by one; past this many only their number is given.
MAX_PROBLEMS_LISTED = 100
#: From this many problems on, a count per column follows the list (which column to fix first).
SUMMARY_FROM_PROBLEMS = 10
DEFAULT_MAX_ROWS = 50_000
_SNIFF_CHARS = 4096


def _folded_header(name: str) -> str:
    return re.sub(r"[\s'’_-]+", "", name.strip().casefold())


#: A header cell names a field by its name, as `kennisbank export` writes it, or by its label on the
#: form, as a person heading a spreadsheet writes it ("Titel", "Thema's", "kenmerk"), in any case.
_COLUMN_FIELDS: dict[str, str] = {
    **{_folded_header(label): name for name, label in FIELD_LABELS.items() if name in InitiativeInput.model_fields},
    **{_folded_header(name): name for name in InitiativeInput.model_fields},
}


def _column(cell: object) -> str:
    """The field a header cell names, or the cell as written (which the row's validation refuses)."""
    name = "" if cell is None else str(cell).strip()
    return _COLUMN_FIELDS.get(_folded_header(name), name)


Row = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str
    column: str | None = None  # the field the problem is about; None for the whole row or file

    def __str__(self) -> str:
        return f"regel {self.line}: {self.message}" if self.line else self.message


class ImportFailed(InvalidInput):
    """The file was not imported; nothing changed. ``problems`` lists the first bad rows (at most
    `MAX_PROBLEMS_LISTED`), ``more`` counts the problems left out. A problem with line 0 is about the
    whole file (it cannot be read), and is then the only one."""

    def __init__(self, problems: list[RowProblem], more: int = 0, by_column: dict[str, int] | None = None) -> None:
        self.problems = problems
        self.more = more
        #: How many problems each column has, counting those left out of ``problems`` too, most first:
        #: with hundreds of bad rows, this says which column to fix.
        self.by_column = by_column if by_column is not None else _count_by_column(problems)
        super().__init__("\n".join(str(p) for p in problems))

    @property
    def total(self) -> int:
        return len(self.problems) + self.more

    @property
    def column_summary(self) -> dict[str, int]:
        """`by_column` when there are enough problems for a summary to help, else empty."""
        return self.by_column if self.total >= SUMMARY_FROM_PROBLEMS else {}

    @property
    def about_file(self) -> bool:
        return len(self.problems) == 1 and self.problems[0].line == 0 and not self.more


def _count_by_column(problems: Iterable[RowProblem]) -> dict[str, int]:
    return _most_first(Counter(p.column for p in problems if p.column))


def _most_first(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _file_problem(message: str) -> ImportFailed:
    return ImportFailed([RowProblem(0, message)])


def read_rows(path: Path, max_rows: int = DEFAULT_MAX_ROWS) -> Iterator[Row]:
    """Rows of a file with the line number a person sees in an editor or spreadsheet.

    Reads as it goes, so memory stays bounded; raises ImportFailed (about the whole file) when the
    file cannot be read, or once it holds more than `max_rows` rows."""
    readers: dict[str, Callable[[Path], Iterator[Row]]] = {
        ".jsonl": _read_jsonl,
        ".ndjson": _read_jsonl,
        ".csv": _read_csv,
        ".xlsx": _read_xlsx,
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise _file_problem(f"onbekend bestandstype “{path.suffix}”; gebruik .jsonl, .csv of .xlsx")
    return _capped(reader(path), max_rows)


def _capped(rows: Iterator[Row], max_rows: int) -> Iterator[Row]:
    for count, row in enumerate(rows, start=1):
        if count > max_rows:
            limit = f"{max_rows:,}".replace(",", ".")
            raise _file_problem(
                f"het bestand heeft meer dan {limit} rijen (KENNISBANK_IMPORT_MAX_ROWS); "
                "splits het in kleinere bestanden"
            )
        yield row


def _text_lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """(line number, line) of a text file in `encoding` (a UTF-8 BOM is allowed), checked line by line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            try:
                yield number, raw.decode(encoding)
            except UnicodeDecodeError:
                what = "is geen geldige UTF-8-tekst" if encoding == "utf-8" else "bevat een teken dat geen tekst is"
                raise _file_problem(
                    f"regel {number} {what}; sla het bestand op als UTF-8 (in Excel: CSV UTF-8)"
                ) from None


_BOM = b"\xef\xbb\xbf"
#: A well-formed UTF-8 sequence of two to four bytes: a Windows-1252 text (é is one byte, 0xE9) holds
#: none in practice, a UTF-8 text with a non-ASCII letter at least one.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_ENCODING_CHUNK = 1 << 20


def _csv_encoding(path: Path) -> str:
    """UTF-8, or Windows-1252 for a file with bytes beyond ASCII but no UTF-8 sequence at all: what a
    Dutch Excel writes as "CSV (gescheiden door lijstscheidingsteken)". A file that mixes the two
    (UTF-8 with one stray byte) is read as UTF-8, whose error names the line: decoding it as
    Windows-1252 would silently turn every "é" into "Ã©". The first UTF-8 sequence settles it, so a
    UTF-8 file is read only as far as its first non-ASCII letter."""
    beyond_ascii, tail = False, b""
    with path.open("rb") as handle:
        while chunk := handle.read(_ENCODING_CHUNK):
            if _UTF8_SEQUENCE.search(tail + chunk):
                return "utf-8"
            beyond_ascii = beyond_ascii or not chunk.isascii()
            tail = chunk[-3:]
    return "cp1252" if beyond_ascii else "utf-8"


def _read_jsonl(path: Path) -> Iterator[Row]:
    for number, line in _text_lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, {"__error__": f"geen geldige JSON ({exc.msg}, kolom {exc.colno})"}
            continue
        except RecursionError:
            yield number, {"__error__": "geen geldige JSON (te diep genest)"}
            continue
        except ValueError:  # an integer of more than 4,300 digits
            yield number, {"__error__": "geen geldige JSON (een getal is te lang)"}
            continue
        yield number, value if isinstance(value, dict) else {"__error__": "verwacht een JSON-object"}


def _read_csv(path: Path) -> Iterator[Row]:
    lines = (line for _, line in _text_lines(path, _csv_encoding(path)))
    head: list[str] = []
    for line in lines:
        head.append(line)
        if sum(map(len, head)) >= _SNIFF_CHARS:
            break
    sample = "".join(head)
    if not sample.strip():
        return
    reader = csv.DictReader(itertools.chain(head, lines), dialect=_dialect(sample))
    try:
        written = list(reader.fieldnames or [])
        _check_header(written)
        reader.fieldnames = [_column(cell) for cell in written]
        # Numbered as a spreadsheet shows them (header is row 1), also when a cell holds line breaks.
        for number, record in enumerate(reader, start=2):
            if any((v or "").strip() for v in record.values() if isinstance(v, str)):
                yield number, _from_cells(record, spreadsheet_text=True)
    except csv.Error as exc:
        raise _file_problem(f"geen geldig CSV-bestand rond regel {reader.line_num} ({_csv_reason(exc)})") from None


class _CommaSeparated(csv.excel):
    delimiter = ","


class _SemicolonSeparated(csv.excel):
    """What a Dutch Excel writes as CSV."""

    delimiter = ";"


class _TabSeparated(csv.excel):
    delimiter = "\t"


#: The separators a spreadsheet's CSV uses, each with the dialect Excel and LibreOffice write.
_SPREADSHEET_DIALECTS: dict[str, type[csv.Dialect]] = {
    d.delimiter: d for d in (_CommaSeparated, _SemicolonSeparated, _TabSeparated)
}


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The CSV dialect of a file starting with `sample`. The header names the columns, so the separator
    is the one that splits it into the most field names we know; only a header that names none (which
    `_check_header` then refuses) is left to `csv.Sniffer`, which guesses from how characters recur and
    mistakes a `;` inside quoted cells (`"mobiliteit;water"`) for a hint against it."""
    header = sample.splitlines()[0]
    known = set(InitiativeInput.model_fields)

    def names_split_by(delimiter: str) -> int:
        return len(known & {_column(cell) for cell in next(csv.reader([header], delimiter=delimiter))})

    best = max(_SPREADSHEET_DIALECTS, key=names_split_by)
    if names_split_by(best):
        return _SPREADSHEET_DIALECTS[best]
    try:
        return csv.Sniffer().sniff(sample[:_SNIFF_CHARS], delimiters="".join(_SPREADSHEET_DIALECTS))
    except csv.Error:
        raise _file_problem(
            "kan het scheidingsteken niet bepalen; gebruik een komma, puntkomma of tab tussen de kolommen"
        ) from None


def _csv_reason(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return "een cel is te lang"
    return "onverwacht teken of aanhalingsteken"


def _check_header(header: Sequence[Any]) -> None:
    """The header names at least one field, and no field twice ("Titel" and "title")."""
    written = [str(cell).strip() for cell in header if cell is not None and str(cell).strip()]
    fields = [_column(cell) for cell in written]
    if not set(fields) & set(InitiativeInput.model_fields):
        shown = ", ".join(sorted(written)[:5])[:200]
        raise _file_problem(
            f"de kopregel bevat geen bekende kolomnamen (gevonden: {shown or 'geen'}); "
            "noem de kolommen zoals op het formulier (Titel, Samenvatting, Provincie, Soort, Fase, "
            "Thema's, …) of zoals kennisbank export --format csv ze schrijft, gescheiden door een komma, "
            "puntkomma of tab"
        )
    seen: dict[str, str] = {}
    for cell, field in zip(written, fields, strict=True):
        if field in seen and field in InitiativeInput.model_fields:
            raise _file_problem(
                f"de kolommen ‘{seen[field]}’ en ‘{cell}’ noemen allebei {FIELD_LABELS.get(field, field)}; houd er één"
            )
        seen.setdefault(field, cell)


def _read_xlsx(path: Path) -> Iterator[Row]:
    from openpyxl import load_workbook

    _refuse_unsafe_xlsx(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a zip, not a workbook, or broken inside: the file is unreadable as such
        raise _file_problem(
            "geen geldig Excel-bestand (.xlsx); sla het op als Excel-werkmap of als CSV UTF-8"
        ) from None
    try:
        try:
            sheet = workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            written = [str(h).strip() if h is not None else "" for h in next(rows, ())]
            _check_header(written)
            header = [_column(cell) for cell in written]
            for number, cells in enumerate(rows, start=2):
                if all(c is None or str(c).strip() == "" for c in cells):
                    continue
                yield number, _from_cells(dict(zip(header, cells, strict=False)))
        except ImportFailed:
            raise
        except Exception:  # the sheet's XML is broken (read lazily, row by row)
            raise _file_problem("het Excel-bestand is beschadigd en kan niet gelezen worden") from None
    finally:
        workbook.close()


def _refuse_unsafe_xlsx(path: Path) -> None:
    """An .xlsx holds no DTD: one that declares a document type or entities is an XML attack
    (entity expansion, external entities) and is refused before any XML parser sees it."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _file_problem(
            "geen geldig Excel-bestand (.xlsx); sla het op als Excel-werkmap of als CSV UTF-8"
        ) from None
    with archive:
        for member in archive.infolist():
            if not member.filename.endswith((".xml", ".rels", ".vml")):
                continue
            try:
                with archive.open(member) as handle:
                    tail = b""
                    while chunk := handle.read(1 << 16):
                        window = tail + chunk
                        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                            raise _file_problem(
                                "het Excel-bestand bevat een XML-documenttype (DTD) en wordt uit veiligheid geweigerd"
                            )
                        tail = chunk[-16:]
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError):
                raise _file_problem("het Excel-bestand is beschadigd en kan niet gelezen worden") from None


def _from_cells(record: dict[str | None, Any], *, spreadsheet_text: bool = False) -> dict[str, Any]:
    """Spreadsheet cells to typed values: ;-separated lists, ja/nee booleans, dates and whole numbers.

    `spreadsheet_text`: the cells are CSV text that our export may have neutralised against formula
    injection (a leading apostrophe, `audit.csv_safe`); it is taken off again."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        if spreadsheet_text and isinstance(value, str):
            value = csv_unsafe(value)
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
        if name == "external_id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a portfolio number Excel keeps as a number
        if name in LIST_FIELDS:
            value = _split_list(value, name)
        elif name in _YES_NO_FIELDS and isinstance(value, (str, int)):
            text = str(value).strip().lower()
            value = True if text in _TRUE else False if text in _FALSE else value
        elif isinstance(value, str) and not value.strip():
            value = None
        row[name] = value
    return row


#: Lists a cell may also separate by commas, as people write them ("water, klimaatadaptatie"): the
#: themes and the tags, which the form splits at commas too (`web.forms.split_tags`), so none of their
#: values holds one. Links keep to ";": a web address may hold a comma.
_COMMA_LISTS = frozenset(name for name, field in FIELDS_BY_NAME.items() if field.widget in (Widget.THEMES, Widget.TAGS))


def _split_list(value: Any, name: str) -> list[str] | Any:
    if value is None:
        return []
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return text
        return parsed
    separators = r"[;,]" if name in _COMMA_LISTS else ";"
    return [part.strip() for part in re.split(separators, text) if part.strip()]


def _written_key(raw: dict[str, Any]) -> tuple[str, str] | None:
    """(province code, kenmerk) of a row that did not validate, as validation would read them."""
    external_id, province = raw.get("external_id"), raw.get("province")
    if not isinstance(external_id, str) or not external_id.strip() or not isinstance(province, str):
        return None
    found = find_province(province)
    return (found.code, external_id.strip()) if found is not None else None


def validate_rows(rows: Iterable[Row]) -> list[InitiativeInput]:
    """Validate every row; raise ImportFailed listing the problems (the first `MAX_PROBLEMS_LISTED`,
    then how many more), or return the clean rows."""
    problems: list[RowProblem] = []
    more = 0
    by_column: Counter[str] = Counter()
    clean: list[InitiativeInput] = []
    seen: dict[tuple[str, str], int] = {}

    def report(problem: RowProblem) -> None:
        nonlocal more
        if problem.column:
            by_column[problem.column] += 1
        if len(problems) < MAX_PROBLEMS_LISTED:
            problems.append(problem)
        else:
            more += 1

    for number, raw in rows:
        if "__error__" in raw:
            report(RowProblem(number, raw["__error__"]))
            continue
        try:
            data = parse_initiative(raw)
        except InputError as exc:
            for field, messages in exc.errors.items():
                label = FIELD_LABELS.get(field, field) if field else "rij"
                report(RowProblem(number, f"{label} ({field or '-'}): {' '.join(messages)}", field or None))
            key = None if "external_id" in exc.errors or "province" in exc.errors else _written_key(raw)
            if key is not None and key in seen:  # said now, not once the other problems are fixed
                report(RowProblem(number, f"kenmerk {key[1]} staat ook op regel {seen[key]}", "external_id"))
            elif key is not None:
                seen[key] = number
            continue
        if data.external_id:
            key = (data.province, data.external_id)
            if key in seen:
                report(RowProblem(number, f"kenmerk {data.external_id} staat ook op regel {seen[key]}", "external_id"))
                continue
            seen[key] = number
        if not problems:  # once one row is bad nothing is imported: keep no more rows than needed
            clean.append(data)
    if problems:
        raise ImportFailed(problems, more, _most_first(by_column))
    if not clean:
        raise _file_problem("het bestand bevat geen initiatieven")
    return clean


async def import_file(
    path: Path,
    progress: Callable[[Iterable[Row]], Iterable[Row]] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    actor: Actor = SYSTEM,
) -> service.UpsertReport:
    """Validate every row of the file (off the event loop: thousands of rows take a while), then commit
    them all in one transaction, or raise ImportFailed and change nothing."""
    rows = read_rows(path, max_rows)
    clean = await anyio.to_thread.run_sync(validate_rows, progress(rows) if progress else rows)
    return await service.upsert_initiatives(clean, actor)
