"""The real ``kennisbank`` command against real SQLite files: import, export, seed."""

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from kennisbank.initiatives.exporting import COLUMNS
from tests.conftest import REPO, run_cli, valid_initiative
from tests.databases import execute, on_postgres


def rows(n: int, **changes) -> list[dict]:
    return [valid_initiative(external_id=f"GE-{i:03}", title=f"Initiatief nummer {i}", **changes) for i in range(n)]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def to_cells(record: dict) -> dict:
    cells = {}
    for key, value in record.items():
        if isinstance(value, list):
            value = ";".join(value)
        elif isinstance(value, bool):
            value = "ja" if value else "nee"
        cells[key] = "" if value is None else value
    return cells


def write_csv(path: Path, records: list[dict], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(to_cells(r) for r in records)
    return path


def write_xlsx(path: Path, records: list[dict]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    header = list(records[0])
    sheet.append(header)
    for record in records:
        sheet.append([to_cells(record)[k] for k in header])
    workbook.save(path)
    return path


def db_rows(data_dir: Path) -> list[tuple]:
    return execute(data_dir, "SELECT province_id, external_id, title, version FROM initiative ORDER BY external_id")


@pytest.mark.parametrize("writer", [write_jsonl, write_csv, write_xlsx], ids=["jsonl", "csv", "xlsx"])
def test_import_each_format(tmp_path, data_dir, writer):
    suffix = {write_jsonl: "jsonl", write_csv: "csv", write_xlsx: "xlsx"}[writer]
    source = writer(tmp_path / f"portfolio.{suffix}", rows(3))
    result = run_cli(data_dir, "import", str(source))
    assert result.returncode == 0, result.stderr
    assert "3 nieuw" in result.stdout
    assert [r[:3] for r in db_rows(data_dir)] == [("NL-GE", f"GE-{i:03}", f"Initiatief nummer {i}") for i in range(3)]
    exported = json.loads(run_cli(data_dir, "export").stdout.splitlines()[0])
    assert exported["themes"] == ["data en AI", "mobiliteit"] and exported["seeks_partners"] is True
    assert exported["start_date"] == "2025-03-01" and exported["budget_eur"] == 250000


def test_csv_with_semicolons_as_delimiter_and_names_for_provinces(tmp_path, data_dir):
    source = write_csv(tmp_path / "excel-export.csv", rows(2, province="Friesland"), delimiter=";")
    assert run_cli(data_dir, "import", str(source)).returncode == 0
    assert {r[0] for r in db_rows(data_dir)} == {"NL-FR"}


def test_a_long_excel_csv_with_semicolons_and_crlf_lines_is_read_by_its_header(tmp_path, data_dir):
    """A portfolio sheet as a Dutch Excel saves it: `;` between the columns, CRLF line ends, quoted cells
    holding `;` (the themes) and commas (the summaries), and more than the 4 KB the separator was guessed
    from. csv.Sniffer, given that sample cut inside a row, found no separator at all."""
    summary = "Wij plannen, registreren en evalueren elke strooiactie op de provinciale wegen, samen met de aannemer."
    lines = ["external_id;province;kind;title;summary;phase;themes"]
    lines += [
        f'GE-{n};NL-GE;portfolio_project;Winterdienst nummer {n};{summary};opgeschaald;"mobiliteit;bedrijfsvoering"'
        for n in range(40)
    ]
    source = tmp_path / "portfolio.csv"
    source.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    assert source.stat().st_size > 4096
    result = run_cli(data_dir, "import", str(source))
    assert result.returncode == 0, result.stdout + result.stderr
    exported = [json.loads(line) for line in run_cli(data_dir, "export").stdout.splitlines()]
    assert len(exported) == 40
    assert {tuple(r["themes"]) for r in exported} == {("bedrijfsvoering", "mobiliteit")}
    assert {r["summary"] for r in exported} == {summary}


def test_a_spreadsheet_headed_with_the_forms_labels_imports(tmp_path, data_dir):
    """A portfolio sheet as someone heads it: the labels of the form in any case ("Titel", "thema's",
    "KENMERK"), a Dutch Excel's CSV. The import knew only the field names and refused every such file."""
    lines = ["Kenmerk;Provincie;Soort;Titel;samenvatting;FASE;Thema's"]
    lines += [
        f"GE-{n};Gelderland;Portfolioproject;Strooiroutes nummer {n};Wij plannen élke strooiactie;pilot;mobiliteit"
        for n in range(3)
    ]
    source = tmp_path / "portfolio.csv"
    source.write_bytes("\r\n".join(lines).encode("cp1252"))
    result = run_cli(data_dir, "import", str(source))
    assert result.returncode == 0, result.stdout + result.stderr
    exported = [json.loads(line) for line in run_cli(data_dir, "export").stdout.splitlines()]
    assert [(r["external_id"], r["title"], r["phase"], r["themes"]) for r in exported] == [
        (f"GE-{n}", f"Strooiroutes nummer {n}", "pilot", ["mobiliteit"]) for n in range(3)
    ]
    records = [
        {
            "Kenmerk": "LI-1",
            "Provincie": "Limburg",
            "Soort": "Goed voorbeeld",
            "Titel": "Laadpalen",
            "Fase": "opgeschaald",
        }
        | {"Samenvatting": "Limburg plaatst laadpalen langs provinciale wegen.", "Thema's": "mobiliteit"}
    ]
    assert run_cli(data_dir, "import", str(write_xlsx(tmp_path / "sheet.xlsx", records))).returncode == 0
    assert [r[:3] for r in db_rows(data_dir)][-1] == ("NL-LI", "LI-1", "Laadpalen")


def test_themes_and_tags_in_a_cell_may_be_separated_by_commas_and_come_back_as_they_went_out(tmp_path, data_dir):
    """People write "water, klimaatadaptatie" in a cell; the import wanted ";" and refused the row as
    an unknown theme. A value that holds a comma itself (a supplier stored through the API) is exported
    as a JSON list, so a re-import does not split it."""
    record = to_cells(valid_initiative())
    record |= {"themes": "water, klimaatadaptatie", "technologies": "iot, drones", "suppliers": "Geodan; Esri"}
    source = tmp_path / "komma.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(record), delimiter=";")
        writer.writeheader()
        writer.writerow(record)
    result = run_cli(data_dir, "import", str(source))
    assert result.returncode == 0, result.stdout + result.stderr
    [stored] = [json.loads(line) for line in run_cli(data_dir, "export").stdout.splitlines()]
    assert (stored["themes"], stored["technologies"], stored["suppliers"]) == (
        ["klimaatadaptatie", "water"],
        ["iot", "drones"],
        ["Geodan", "Esri"],
    )
    named = write_jsonl(tmp_path / "naam.jsonl", [valid_initiative(suppliers=["Geodan, Esri Nederland", "RoadSense"])])
    assert run_cli(data_dir, "import", str(named)).returncode == 0
    exported = tmp_path / "export.csv"
    assert run_cli(data_dir, "export", "--format", "csv", "--output", str(exported)).returncode == 0
    other = tmp_path / "andere-data"
    assert run_cli(other, "import", str(exported)).returncode == 0
    [again] = [json.loads(line) for line in run_cli(other, "export").stdout.splitlines()]
    assert again["suppliers"] == ["Geodan, Esri Nederland", "RoadSense"]


def test_a_field_headed_twice_is_refused_naming_both_columns(tmp_path, data_dir):
    source = tmp_path / "dubbel.csv"
    source.write_text("title;Titel;province\nA;B;NL-GE\n", encoding="utf-8")
    result = run_cli(data_dir, "import", str(source))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "de kolommen ‘title’ en ‘Titel’ noemen allebei Titel; houd er één" in result.stderr + result.stdout
    assert db_rows(data_dir) == []


def test_reimport_updates_and_never_duplicates(tmp_path, data_dir):
    source = write_jsonl(tmp_path / "a.jsonl", rows(3))
    assert run_cli(data_dir, "import", str(source)).returncode == 0
    again = run_cli(data_dir, "import", str(source))
    assert "0 nieuw, 0 bijgewerkt, 3 ongewijzigd" in again.stdout
    changed = rows(3)
    changed[1]["title"] = "Nieuwe titel"
    result = run_cli(data_dir, "import", str(write_jsonl(tmp_path / "b.jsonl", changed)))
    assert "0 nieuw, 1 bijgewerkt, 2 ongewijzigd" in result.stdout
    assert [(r[2], r[3]) for r in db_rows(data_dir)] == [
        ("Initiatief nummer 0", 1),
        ("Nieuwe titel", 2),
        ("Initiatief nummer 2", 1),
    ]


@pytest.mark.parametrize("writer", [write_jsonl, write_csv], ids=["jsonl", "csv"])
def test_a_reimport_keeps_the_fields_its_file_has_no_column_for(tmp_path, data_dir, writer):
    """An API trial re-imported a sheet without the budget column and every budget was gone. A missing
    column keeps what is stored; an empty cell still clears its field."""
    suffix = "jsonl" if writer is write_jsonl else "csv"
    assert run_cli(data_dir, "import", str(writer(tmp_path / f"a.{suffix}", rows(2, budget_eur=12000)))).returncode == 0
    without = [{k: v for k, v in r.items() if k != "budget_eur"} for r in rows(2, budget_eur=12000)]
    without[0]["title"] = "Nieuwe titel"
    result = run_cli(data_dir, "import", str(writer(tmp_path / f"b.{suffix}", without)))
    assert "0 nieuw, 1 bijgewerkt, 1 ongewijzigd" in result.stdout, result.stdout + result.stderr
    budgets = execute(data_dir, "SELECT title, budget_eur FROM initiative ORDER BY external_id")
    assert [tuple(r) for r in budgets] == [("Nieuwe titel", 12000), ("Initiatief nummer 1", 12000)]
    cleared = rows(2, budget_eur=None)
    assert run_cli(data_dir, "import", str(writer(tmp_path / f"c.{suffix}", cleared))).returncode == 0
    assert [r[0] for r in execute(data_dir, "SELECT budget_eur FROM initiative")] == [None, None]


@pytest.mark.parametrize("writer", [write_jsonl, write_csv, write_xlsx], ids=["jsonl", "csv", "xlsx"])
def test_one_bad_row_imports_nothing_and_names_the_line(tmp_path, data_dir, writer):
    assert run_cli(data_dir, "import", str(write_jsonl(tmp_path / "first.jsonl", rows(1)))).returncode == 0
    before = db_rows(data_dir)
    records = rows(4)
    records[0]["title"] = "Gewijzigd maar mag niet landen"
    records[2]["title"] = ""
    suffix = {write_jsonl: "jsonl", write_csv: "csv", write_xlsx: "xlsx"}[writer]
    result = run_cli(data_dir, "import", str(writer(tmp_path / f"bad.{suffix}", records)))
    assert result.returncode == 1
    line = 3 if writer is write_jsonl else 4  # spreadsheets count their header row
    assert f"regel {line}: Titel (title): Vul ‘Titel’ in; dit veld is verplicht." in result.stderr
    assert "Niets geïmporteerd" in result.stderr
    assert db_rows(data_dir) == before


def test_every_bad_row_is_reported(tmp_path, data_dir):
    records = rows(4)
    records[1]["province"] = "Vlaanderen"
    records[3]["start_date"] = "gisteren"
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, records)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("{kapot\n")
        handle.write(json.dumps(valid_initiative(external_id="GE-000", title="Dubbel kenmerk")) + "\n")
    result = run_cli(data_dir, "import", str(path))
    assert result.returncode == 1
    assert "regel 2: Provincie (province): Onbekende provincie “Vlaanderen”" in result.stderr
    assert "regel 4: Startdatum (start_date): Geen geldige datum" in result.stderr
    assert "regel 5: geen geldige JSON" in result.stderr
    assert "regel 6: kenmerk GE-000 staat ook op regel 1" in result.stderr
    assert not (on_postgres() or (data_dir / "kennisbank.sqlite3").exists()) or db_rows(data_dir) == []


def test_a_duplicate_kenmerk_is_reported_with_the_rows_other_problems(tmp_path, data_dir):
    records = [
        valid_initiative(external_id="GE-7", start_date="gisteren"),
        valid_initiative(external_id="GE-7", title="", province="gelderland"),
        valid_initiative(external_id="GE-7", province="Utrecht", summary="kort"),
    ]
    result = run_cli(data_dir, "import", str(write_jsonl(tmp_path / "dup.jsonl", records)))
    assert result.returncode == 1
    assert "regel 1: Startdatum (start_date): Geen geldige datum" in result.stderr
    assert "regel 2: Titel (title): Vul ‘Titel’ in" in result.stderr
    assert "regel 2: kenmerk GE-7 staat ook op regel 1" in result.stderr
    assert "regel 3: kenmerk" not in result.stderr  # another province's GE-7 is another initiative


def test_unknown_file_type_is_refused(tmp_path, data_dir):
    path = tmp_path / "portfolio.txt"
    path.write_text("x")
    result = run_cli(data_dir, "import", str(path))
    assert result.returncode == 1 and "onbekend bestandstype" in result.stderr


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_import_is_lossless(tmp_path, data_dir, fmt):
    records = rows(2) + [
        valid_initiative(
            external_id="LI-9",
            province="NL-LI",
            kind="portfolio_project",
            description="Regel 1\n\nRegel 2; met puntkomma",
            technologies=[],
            suppliers=[],
            links=[],
            budget_eur=None,
            start_date=None,
            end_date=None,
            tender_date=None,
            seeks_partners=False,
            programme_line=None,
            contact_email="",
            lessons_learned="",
            results="",
        )
    ]
    assert run_cli(data_dir, "import", str(write_jsonl(tmp_path / "in.jsonl", records))).returncode == 0
    first = tmp_path / f"first.{fmt}"
    assert run_cli(data_dir, "export", "--format", fmt, "--output", str(first)).returncode == 0
    other = tmp_path / "other-data"
    result = run_cli(other, "import", str(first))
    assert result.returncode == 0, result.stderr
    assert run_cli(data_dir, "export").stdout == run_cli(other, "export").stdout
    if fmt == "csv":
        assert first.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)


def test_seed_loads_a_realistic_spread_and_is_idempotent(data_dir):
    assert run_cli(data_dir, "seed").returncode == 0
    exported = [json.loads(line) for line in run_cli(data_dir, "export").stdout.splitlines()]
    assert len(exported) >= 150
    assert len({r["province"] for r in exported}) == 12
    assert {r["kind"] for r in exported} == {"best_practice", "living_lab", "portfolio_project"}
    assert {r["phase"] for r in exported} == {"idee", "verkenning", "pilot", "implementatie", "opgeschaald"}
    assert len({t for r in exported for t in r["themes"]}) >= 15
    again = run_cli(data_dir, "seed")
    assert " 0 nieuw, 0 bijgewerkt" in again.stdout
    assert len(run_cli(data_dir, "export").stdout.splitlines()) == len(exported)


def test_seed_families_label_existing_initiatives_in_different_provinces(data_dir):
    assert run_cli(data_dir, "seed").returncode == 0
    exported = {
        (r["province"], r["external_id"]) for r in map(json.loads, run_cli(data_dir, "export").stdout.splitlines())
    }
    families = json.loads((REPO / "seed" / "families.json").read_text(encoding="utf-8"))["families"]
    assert len(families) >= 15
    for family in families:
        members = [(m["province"], m["external_id"]) for m in family["members"]]
        assert len(members) >= 3
        assert set(members) <= exported, family["id"]
        assert len({p for p, _ in members}) == len(members), family["id"]
        assert family["match_type"] in {"joint_procurement", "scaling_up", "knowledge_exchange"}


def test_invalid_settings_are_reported_all_at_once(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "KENNISBANK_DATA_DIR": str(tmp_path),
        "KENNISBANK_LOG_LEVEL": "LUID",
        "KENNISBANK_BASE_URL": "ftp://x",
        "KENNISBANK_PAGE_SIZE": "0",
    }
    result = subprocess.run([sys.executable, "-m", "kennisbank", "export"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    for name in ("KENNISBANK_LOG_LEVEL", "KENNISBANK_BASE_URL", "KENNISBANK_PAGE_SIZE"):
        assert name in result.stderr


def test_bad_output_paths_and_ports_are_errors_not_tracebacks(tmp_path, data_dir):
    missing = run_cli(data_dir, "export", "--output", str(tmp_path / "geen-map" / "x.csv"))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "kan " in missing.stderr and "niet schrijven" in missing.stderr
    port = run_cli(data_dir, "serve", "--port", "99999")
    assert port.returncode == 2 and "Traceback" not in port.stderr and "--port" in port.stderr


def test_a_numeric_portfolio_number_in_excel_is_a_kenmerk(tmp_path, data_dir):
    """Excel keeps 12345 as a number; the import said 'Kenmerk (external_id): Vul tekst in.'"""
    records = rows(1)
    records[0]["external_id"] = 12345
    result = run_cli(data_dir, "import", str(write_xlsx(tmp_path / "nummers.xlsx", records)))
    assert result.returncode == 0, result.stderr
    assert [r[1] for r in db_rows(data_dir)] == ["12345"]


def test_a_reimport_over_a_value_todays_rules_refuse_still_lands(tmp_path, data_dir):
    """A stored text from before a rule (a reading-direction control) cannot be kept by merging; the
    row then stands as given, and the import is no error."""
    assert run_cli(data_dir, "import", str(write_jsonl(tmp_path / "a.jsonl", rows(1)))).returncode == 0
    execute(data_dir, "UPDATE initiative SET description = ?", "Oude tekst \u202e")
    again = rows(1)
    again[0].pop("description", None)
    again[0]["title"] = "Nieuwe titel"
    result = run_cli(data_dir, "import", str(write_jsonl(tmp_path / "b.jsonl", again)))
    assert result.returncode == 0 and "1 bijgewerkt" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8765, "http://127.0.0.1:8765"),
        ("0.0.0.0", 9000, "http://localhost:9000"),
        ("::1", 80, "http://[::1]:80"),
    ],
)
def test_serve_without_a_base_url_links_where_it_listens(monkeypatch, host, port, expected):
    from kennisbank.cli import _served_at
    from kennisbank.settings import Settings

    monkeypatch.delenv("KENNISBANK_BASE_URL", raising=False)
    assert _served_at(Settings.from_env({}), host, port).base_url == expected
    monkeypatch.setenv("KENNISBANK_BASE_URL", "https://kennisbank.example.nl")
    configured = Settings.from_env({"KENNISBANK_BASE_URL": "https://kennisbank.example.nl"})
    assert _served_at(configured, host, port).base_url == "https://kennisbank.example.nl"
