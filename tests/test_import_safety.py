"""Audit issue 13, items 6, 9 and 10, through the real ``kennisbank`` command: CSV exports cannot
smuggle formulas into a spreadsheet and still re-import exactly; bad files give a one-line Dutch error,
a non-zero exit and import nothing; rows and the list of problems are capped."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_cli, valid_initiative
from tests.databases import execute
from tests.test_cli import write_csv, write_jsonl, write_xlsx

FORMULAS = {
    "title": '=HYPERLINK("http://evil.example","Open")',
    "summary": "+31 6 1234 5678 belt u terug over dit initiatief",
    "contact_name": "@beheer",
    "external_id": "-GE-1",
    "technologies": ["=cmd|' /C calc'!A0", "sensoren"],
    "suppliers": ["-Leverancier"],
    "lessons_learned": "\tBegint met een tab.",
    "results": "'=Al met een apostrof ervoor.",
}


def count(data_dir: Path) -> int:
    return execute(data_dir, "SELECT COUNT(*) FROM initiative")[0][0]


def test_csv_export_neutralises_formulas_jsonl_stays_raw_and_csv_reimports_exactly(tmp_path, data_dir):
    source = write_jsonl(tmp_path / "in.jsonl", [valid_initiative(**FORMULAS)])
    assert run_cli(data_dir, "import", str(source)).returncode == 0

    exported = run_cli(data_dir, "export", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    record = next(csv.DictReader(io.StringIO(exported.stdout)))
    assert record["title"] == "'" + FORMULAS["title"]
    assert record["summary"].startswith("'+31")
    assert record["contact_name"] == "'@beheer"
    assert record["technologies"].startswith("'=cmd")
    assert record["results"] == "''=Al met een apostrof ervoor."
    for name, cell in record.items():
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (name, cell)

    jsonl = run_cli(data_dir, "export", "--format", "jsonl")
    original = json.loads(jsonl.stdout)
    assert original["title"] == FORMULAS["title"] and original["results"] == FORMULAS["results"]

    again = tmp_path / "again"
    csv_file = tmp_path / "export.csv"
    csv_file.write_text(exported.stdout, encoding="utf-8")
    result = run_cli(again, "import", str(csv_file))
    assert result.returncode == 0, result.stderr
    assert json.loads(run_cli(again, "export", "--format", "jsonl").stdout) == original
    # and importing it back where it came from changes nothing
    result = run_cli(data_dir, "import", str(csv_file))
    assert "0 nieuw, 0 bijgewerkt, 1 ongewijzigd" in result.stdout


@pytest.mark.parametrize(
    "field,value",
    [
        ("title", "Titel met bel\x07teken"),
        ("summary", "Samenvatting\x00 met nul"),
        ("suppliers", ["Leverancier\x1b[31m"]),
        ("description", "Escape \x1b"),
    ],
)
def test_import_refuses_control_characters_in_dutch(tmp_path, data_dir, field, value):
    source = write_jsonl(tmp_path / "in.jsonl", [valid_initiative(**{field: value})])
    result = run_cli(data_dir, "import", str(source))
    assert result.returncode == 1
    assert "stuurteken" in result.stderr and f"({field})" in result.stderr
    assert count(data_dir) == 0


def test_import_keeps_tabs_and_line_breaks_in_long_text(tmp_path, data_dir):
    source = write_jsonl(tmp_path / "in.jsonl", [valid_initiative(description="Regel 1\r\nRegel 2\n\tingesprongen")])
    result = run_cli(data_dir, "import", str(source))
    assert result.returncode == 0, result.stderr
    assert execute(data_dir, "SELECT description FROM initiative") == [("Regel 1\nRegel 2\n\tingesprongen",)]


def _xlsx_with(path: Path, tmp_path: Path, doctype: bytes, entity: bytes) -> Path:
    """A real workbook whose sheet declares `doctype` and uses `entity` in the first cell text."""
    plain = write_xlsx(tmp_path / "plain.xlsx", [valid_initiative()])
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        names = [item.filename for item in source.infolist()]
        assert "xl/worksheets/sheet1.xml" in names
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert data.count(b"<worksheet") == 1 and b"<t>" in data
                data = data.replace(b"<worksheet", doctype + b"<worksheet", 1).replace(b"<t>", b"<t>" + entity, 1)
            target.writestr(item, data)
    return path


BOMB = (
    b'<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10) for n in range(1, 10))
    + b"]>\n"
)


def bad_files(tmp_path: Path) -> dict[str, Path]:
    good = valid_initiative()
    files = {}
    csv_file = write_csv(tmp_path / "mixed.csv", [{**good, "summary": "Een café-overleg " + good["summary"]}])
    csv_file.write_bytes(csv_file.read_bytes().replace(b"Team Wegbeheer", "Team W\xe9gbeheer".encode("latin-1")))
    files["csv-bad-utf8"] = csv_file  # UTF-8 (the café) with one Latin-1 byte: neither encoding reads it all
    jsonl = write_jsonl(tmp_path / "latin1.jsonl", [good])
    jsonl.write_bytes(jsonl.read_bytes().replace(b"Team Wegbeheer", "Team W\xe9gbeheer".encode("latin-1")))
    files["jsonl-bad-utf8"] = jsonl
    files["csv-pipes"] = write_csv(tmp_path / "pipes.csv", [good, valid_initiative(external_id="GE-2")], delimiter="|")
    fake = tmp_path / "not-a-zip.xlsx"
    fake.write_text("title,province\nIets,NL-GE\n", encoding="utf-8")
    files["xlsx-not-zip"] = fake
    files["xlsx-entity-bomb"] = _xlsx_with(tmp_path / "bomb.xlsx", tmp_path, BOMB, b"&lol9;")
    files["xlsx-xxe"] = _xlsx_with(
        tmp_path / "xxe.xlsx", tmp_path, b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n', b"&xxe;"
    )
    nested = tmp_path / "nested.jsonl"
    nested.write_text(json.dumps(good) + "\n" + '{"title": ' + "[" * 5000 + "]" * 5000 + "}\n", encoding="utf-8")
    files["jsonl-nested-5000"] = nested
    huge = tmp_path / "huge.jsonl"
    huge.write_text('{"budget_eur": ' + "9" * 5000 + "}\n", encoding="utf-8")
    files["jsonl-huge-integer"] = huge
    files["csv-huge-integer"] = write_csv(tmp_path / "huge.csv", [valid_initiative(budget_eur="9" * 5000)])
    return files


CASES = [
    "csv-bad-utf8",
    "jsonl-bad-utf8",
    "csv-pipes",
    "xlsx-not-zip",
    "xlsx-entity-bomb",
    "xlsx-xxe",
    "jsonl-nested-5000",
    "jsonl-huge-integer",
    "csv-huge-integer",
]
EXPECTED = {
    "csv-bad-utf8": "geen geldige UTF-8",
    "jsonl-bad-utf8": "geen geldige UTF-8",
    "csv-pipes": "scheidingsteken",
    "xlsx-not-zip": "geen geldig Excel-bestand",
    "xlsx-entity-bomb": "documenttype (DTD)",
    "xlsx-xxe": "documenttype (DTD)",
    "jsonl-nested-5000": "te diep genest",
    "jsonl-huge-integer": "getal is te lang",
    "csv-huge-integer": "Het getal is te groot",
}


def test_a_windows_1252_csv_as_a_dutch_excel_saves_it_imports_with_its_letters(tmp_path, data_dir):
    """Excel's "CSV (gescheiden door lijstscheidingsteken)": semicolons, CRLF, Windows-1252."""
    record = valid_initiative(
        title="Coördinatie van één café’s terras", summary="Budget € 250.000, ‘proef’ met één ontwerp."
    )
    path = write_csv(tmp_path / "excel.csv", [record], delimiter=";")
    path.write_bytes(path.read_text(encoding="utf-8").replace("\n", "\r\n").encode("cp1252"))
    result = run_cli(data_dir, "import", str(path))
    assert result.returncode == 0, result.stderr
    assert execute(data_dir, "SELECT title, summary FROM initiative") == [(record["title"], record["summary"])]


def test_a_windows_1252_csv_with_a_byte_that_is_no_letter_is_refused_by_line(tmp_path, data_dir):
    rows = [valid_initiative(title="Café"), valid_initiative(external_id="GE-2", title="Twee")]
    path = write_csv(tmp_path / "excel.csv", rows, delimiter=";")
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252").replace(b"Twee", b"Tw\x81ee"))
    line = next(n for n, raw in enumerate(path.read_bytes().splitlines(), start=1) if b"\x81" in raw)
    result = run_cli(data_dir, "import", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Niets geïmporteerd: regel {line} bevat een teken dat geen tekst is; sla het bestand op als UTF-8 "
        "(in Excel: CSV UTF-8)."
    ), result.stderr
    assert count(data_dir) == 0


@pytest.mark.parametrize("case", CASES)
def test_a_bad_file_is_one_dutch_error_and_imports_nothing(tmp_path, data_dir, case):
    path = bad_files(tmp_path)[case]
    result = run_cli(data_dir, "import", str(path))
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert EXPECTED[case] in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Niets geïmporteerd"), result.stderr
    assert len(lines) <= 2, result.stderr  # one line about the file, or the count and the one bad row
    assert count(data_dir) == 0


def test_rows_are_capped_by_a_setting(tmp_path, data_dir):
    records = [valid_initiative(external_id=f"GE-{n}", title=f"Initiatief {n}") for n in range(4)]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    result = run_cli(data_dir, "import", str(source), import_max_rows="3")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Niets geïmporteerd: het bestand heeft meer dan 3 rijen "
        "(KENNISBANK_IMPORT_MAX_ROWS); splits het in kleinere bestanden."
    )
    assert count(data_dir) == 0
    assert run_cli(data_dir, "import", str(source), import_max_rows="4").returncode == 0
    assert count(data_dir) == 4


def test_the_list_of_problems_is_capped_at_a_hundred(tmp_path, data_dir):
    records = [valid_initiative(external_id=f"GE-{n}", title="") for n in range(150)]
    result = run_cli(data_dir, "import", str(write_jsonl(tmp_path / "in.jsonl", records)))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "Niets geïmporteerd: 150 problemen gevonden."
    assert len(lines) == 1 + 100 + 1 + 1
    assert lines[-2].strip() == "… en nog 50 problemen (alleen de eerste 100 staan hier)."
    assert lines[-1] == "Per kolom: Titel (title) 150×"
    assert count(data_dir) == 0


def test_many_problems_are_summed_up_per_column_most_first(tmp_path, data_dir):
    """With hundreds of bad rows the list stops at a hundred; the summary per column counts them all."""
    records = [valid_initiative(external_id=f"GE-{n}", phase="bijna klaar") for n in range(120)]
    records += [valid_initiative(external_id=f"GE-{n}", title="", phase="bijna klaar") for n in range(120, 150)]
    records += [valid_initiative(external_id="GE-X"), valid_initiative(external_id="GE-X")]
    result = run_cli(data_dir, "import", str(write_jsonl(tmp_path / "in.jsonl", records)))
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines()[-1]
        == "Per kolom: Fase (phase) 150×, Titel (title) 30×, Kenmerk (external_id) 1×"
    )
    assert count(data_dir) == 0
