"""`kennisbank backup` while the platform is in use, `kennisbank restore` into an empty data dir: every
initiative, account and match decision comes back."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from kennisbank import audit
from kennisbank.matching import service as matches
from kennisbank.models import MatchSuggestion
from tests.conftest import run_cli
from tests.databases import execute, on_postgres

QUERIES = ["water", "fietspaden provincie", "stikstf"]


def tables(data_dir: Path) -> list[str]:
    if on_postgres():
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return sorted(name for (name,) in execute(data_dir, query))


def every_row(data_dir: Path) -> dict[str, list[str]]:
    return {table: sorted(map(repr, execute(data_dir, f'SELECT * FROM "{table}"'))) for table in tables(data_dir)}


def search(data_dir: Path, query: str) -> dict:
    result = run_cli(data_dir, "search", query, "--json", "--limit", "50")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    return {"total": found["total"], "ids": [hit["id"] for hit in found["hits"]]}


def test_a_backup_made_during_use_restores_every_row_and_the_same_search_results(client, data_dir, tmp_path):
    assert run_cli(data_dir, "seed").returncode == 0
    assert run_cli(data_dir, "match").returncode == 0
    coordinator = audit.Actor(client.make_user("coordinator", None))
    suggestion = client.run(MatchSuggestion.first)
    client.run(matches.decide, coordinator, suggestion.id, "geaccepteerd", "Samen aanbesteden in 2027.")
    client.create_initiative(external_id="GE-BK-0")
    written: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def keep_writing() -> None:  # someone posting initiatives through the API all along
        try:
            while not stop.is_set():
                number = len(written) + 1
                written.append(
                    client.create_initiative(
                        external_id=f"GE-BK-{number}", title=f"Initiatief tijdens de reservekopie {number}"
                    )["id"]
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread below
            failures.append(exc)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 3:
            time.sleep(0.05)
        during = run_cli(data_dir, "backup", str(tmp_path / "during.backup"))
        written_before_end = len(written)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failures, failures
    assert during.returncode == 0, during.stderr
    assert len(written) > 3

    # The backup taken mid-write is a consistent snapshot: every initiative in it is whole and as saved.
    snapshot = tmp_path / "from-snapshot" / "data"
    restored = run_cli(snapshot, "restore", str(tmp_path / "during.backup"))
    assert restored.returncode == 0, restored.stderr
    columns = "id, external_id, title, summary, version"
    kept = execute(snapshot, f"SELECT {columns} FROM initiative ORDER BY id")
    live = {row[0]: row for row in execute(data_dir, f"SELECT {columns} FROM initiative")}
    assert len(kept) >= 175 + 1 + 3 and len(kept) <= 175 + 1 + written_before_end + 1
    assert all(live[row[0]] == row for row in kept)
    themes = "SELECT initiative_id, theme_id FROM initiative_theme ORDER BY initiative_id, theme_id"
    kept_ids = {row[0] for row in kept}
    assert execute(snapshot, themes) == [row for row in execute(data_dir, themes) if row[0] in kept_ids]

    # Once quiet, a backup restores every row of every table, and search answers the same.
    assert run_cli(data_dir, "backup", str(tmp_path / "quiet.backup")).returncode == 0
    empty = tmp_path / "empty" / "data"
    restored = run_cli(empty, "restore", str(tmp_path / "quiet.backup"))
    assert restored.returncode == 0, restored.stderr
    assert f"zoekindex: {176 + len(written)} initiatieven" in restored.stdout
    original = every_row(data_dir)
    assert {
        "initiative",
        "user",
        "api_token",
        "audit_entry",
        "match_suggestion",
        "match_event",
        "tortoise_migrations",
    } <= original.keys()
    decided = "SELECT status, note FROM match_suggestion WHERE id = ?"
    assert execute(empty, decided, suggestion.id) == [("geaccepteerd", "Samen aanbesteden in 2027.")]
    assert len(original["initiative"]) == 176 + len(written)
    assert every_row(empty) == original
    for query in QUERIES:
        assert search(empty, query) == search(data_dir, query), query
    assert search(empty, "tijdens de reservekopie")["total"] == len(written)


def test_restore_refuses_a_database_that_is_not_empty(data_dir, tmp_path):
    assert run_cli(data_dir, "migrate").returncode == 0
    assert run_cli(data_dir, "backup", str(tmp_path / "kopie")).returncode == 0
    result = run_cli(data_dir, "restore", str(tmp_path / "kopie"))
    assert result.returncode == 1
    assert "is niet leeg" in result.stderr


def test_restore_refuses_a_file_that_is_no_backup(data_dir, tmp_path):
    (tmp_path / "kopie").write_text("{}")
    result = run_cli(data_dir, "restore", str(tmp_path / "kopie"))
    assert result.returncode == 1 and "geen reservekopie" in result.stderr
    assert not (tmp_path / "kopie.partial").exists()
