"""Migrations own the schema: they must describe exactly what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tortoise import Tortoise, connections

from kennisbank import db
from kennisbank.models import Initiative
from kennisbank.settings import Settings
from tests.conftest import REPO, cli_env, run_cli
from tests.databases import database_url_for, execute

# Every migration in the package: a fresh or adopted database records them all as applied.
MIGRATIONS = sorted(path.stem for path in (REPO / "kennisbank" / "migrations").glob("[0-9]*.py"))
HOW_TO_FIX = (
    "the models changed without a migration: run "
    "`.venv/bin/tortoise -c kennisbank.db.MIGRATIONS_CONFIG makemigrations --name <what_changed>`"
)


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url_for(data_dir), embedding_model="none")


async def read_schema() -> dict[str, object]:
    """Tables with their columns, indexes and foreign keys, as the database reports them."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        _, tables = await connection.execute_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'tortoise_migrations' ORDER BY name"
        )
        schema: dict[str, object] = {}
        for table in (row["name"] for row in tables):
            _, columns = await connection.execute_query(f'PRAGMA table_info("{table}")')
            _, keys = await connection.execute_query(f'PRAGMA foreign_key_list("{table}")')
            _, index_list = await connection.execute_query(f'PRAGMA index_list("{table}")')
            indexes = set()
            for index in index_list:
                _, parts = await connection.execute_query(f'PRAGMA index_info("{index["name"]}")')
                indexes.add((index["unique"], tuple(p["name"] for p in parts)))
            schema[table] = (
                sorted((c["name"], c["type"], c["notnull"], c["dflt_value"], c["pk"]) for c in columns),
                sorted((k["table"], k["from"], k["to"], k["on_delete"]) for k in keys),
                sorted(indexes),
            )
        return schema
    _, columns = await connection.execute_query(
        "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name != 'tortoise_migrations'"
    )
    _, indexes = await connection.execute_query(
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename != 'tortoise_migrations'"
    )
    _, constraints = await connection.execute_query(
        "SELECT conrelid::regclass::text AS table_name, contype, pg_get_constraintdef(oid) AS definition "
        "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
        "AND conrelid::regclass::text != 'tortoise_migrations'"
    )
    schema = {}
    for row in columns:
        schema.setdefault(row["table_name"], []).append(tuple(row.values()))
    for table in schema:
        schema[table] = (
            sorted(schema[table]),
            sorted(r["indexdef"] for r in indexes if r["tablename"] == table),
            sorted((r["contype"], r["definition"]) for r in constraints if r["table_name"].strip('"') == table),
        )
    return schema


async def schema_from_migrations(data_dir: Path) -> dict[str, object]:
    async with db.database(settings_for(data_dir)):
        return await read_schema()


async def schema_from_models(data_dir: Path) -> dict[str, object]:
    await db.connect(settings_for(data_dir))
    try:
        await Tortoise.generate_schemas()
        return await read_schema()
    finally:
        await db.close_database()


def test_models_and_migrations_agree():
    """Fails when a model changed and nobody wrote the migration for it."""

    async def pending() -> list[str]:
        await Tortoise.init(config=db.MIGRATIONS_CONFIG)
        try:
            return await db.pending_model_changes()
        finally:
            await Tortoise.close_connections()

    assert asyncio.run(pending()) == [], HOW_TO_FIX


def test_the_migrated_schema_is_the_schema_the_models_describe(tmp_path):
    """The same tables, columns, types, defaults, keys and indexes as Tortoise creates from the models."""
    migrated = asyncio.run(schema_from_migrations(tmp_path / "migrated"))
    expected = asyncio.run(schema_from_models(tmp_path / "generated"))
    assert "initiative" in expected
    assert migrated.keys() == expected.keys(), HOW_TO_FIX
    for table in expected:
        assert migrated[table] == expected[table], f"table {table}: {HOW_TO_FIX}"


def test_migrate_applies_what_is_pending_once(data_dir):
    first = run_cli(data_dir, "migrate")
    assert first.returncode == 0, first.stderr
    assert "Migraties toegepast: 0001_initial" in first.stdout
    again = run_cli(data_dir, "migrate")
    assert again.returncode == 0 and "geen migraties open" in again.stdout
    assert sorted(execute(data_dir, "SELECT app, name FROM tortoise_migrations")) == [
        ("models", name) for name in MIGRATIONS
    ]
    assert execute(data_dir, "SELECT COUNT(*) FROM initiative") == [(0,)]


def test_a_database_made_before_migrations_is_adopted_with_its_data(data_dir):
    async def legacy_database() -> None:
        await db.connect(settings_for(data_dir))
        try:
            await Tortoise.generate_schemas()
            await db._load_reference_data()
            await Initiative.create(
                external_id="GE-OUD",
                province_id="NL-GE",
                kind="living_lab",
                title="Van vroeger",
                summary="Gemaakt voor er migraties waren.",
                phase="pilot",
            )
        finally:
            await db.close_database()

    asyncio.run(legacy_database())
    execute(data_dir, "DROP TABLE audit_entry")  # a table added to the models later
    result = run_cli(data_dir, "migrate")
    assert result.returncode == 0, result.stderr
    assert sorted(execute(data_dir, "SELECT name FROM tortoise_migrations")) == [(name,) for name in MIGRATIONS]
    assert execute(data_dir, "SELECT title FROM initiative") == [("Van vroeger",)]
    assert execute(data_dir, "SELECT COUNT(*) FROM audit_entry") == [(0,)]


def test_processes_starting_together_on_a_new_database_migrate_one_at_a_time(data_dir):
    """Like the server and the worker of docker-compose starting at once: each waits for the other."""
    starting = [
        subprocess.Popen(
            [sys.executable, "-m", "kennisbank", "migrate"],
            cwd=REPO,
            env=cli_env(data_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(process.wait(timeout=120), *process.communicate()) for process in starting]
    assert [code for code, _, _ in outcomes] == [0, 0, 0], outcomes
    assert sum("Migraties toegepast: 0001_initial" in out for _, out, _ in outcomes) == 1
    assert sorted(execute(data_dir, "SELECT name FROM tortoise_migrations")) == [(name,) for name in MIGRATIONS]


async def _one_migration_behind_with_an_initiative(data_dir: Path) -> None:
    """A database at the migration before the latest, holding one initiative (written in that schema)."""
    from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

    await db.connect(settings_for(data_dir))
    try:
        executor = MigrationExecutor(connections.get("default"), {db.APP: db.APP_CONFIG})
        await executor.migrate([MigrationTarget(db.APP, MIGRATIONS[-2])])
        connection = connections.get("default")
        await connection.execute_script("INSERT INTO province (code, name) VALUES ('NL-GE', 'Gelderland')")
        await connection.execute_query(
            "INSERT INTO initiative (external_id, province_id, kind, title, summary, description, phase,"
            " technologies, suppliers, contact_name, contact_email, links, status, lessons_learned, results,"
            " seeks_partners, version, created_at, updated_at) VALUES ('GE-1', 'NL-GE', 'living_lab',"
            " 'Van voor de upgrade', 'Gepost voor de laatste migratie.', '', 'pilot', '[]', '[]', '', '',"
            " '[]', 'gepubliceerd', '', '', false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    finally:
        await db.close_database()


def test_the_latest_migration_applies_to_a_database_holding_initiatives(data_dir):
    """An upgrade keeps what was posted: a database at the migration before the latest, with an
    initiative in it, takes the latest migration and still holds the initiative. (Adding a column that
    may not be empty to a table with rows needs a value for those rows; 0005 once had none.)"""
    asyncio.run(_one_migration_behind_with_an_initiative(data_dir))
    result = run_cli(data_dir, "migrate")
    assert result.returncode == 0, result.stderr
    assert f"Migraties toegepast: {MIGRATIONS[-1]}" in result.stdout
    assert execute(data_dir, "SELECT title FROM initiative") == [("Van voor de upgrade",)]
    exported = run_cli(data_dir, "export", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    assert '"Van voor de upgrade"' in exported.stdout


def test_a_migration_the_database_refuses_is_named_in_dutch_and_loses_nothing(data_dir):
    """A migration that fails (here: its column is already there) stops the command with a Dutch message
    that names it, no traceback, and the database stays at the migration before, data and all."""
    asyncio.run(_one_migration_behind_with_an_initiative(data_dir))
    execute(data_dir, "ALTER TABLE api_token ADD COLUMN expires_at TIMESTAMP")  # what the latest adds
    result = run_cli(data_dir, "migrate")
    assert result.returncode == 1
    assert f"Migratie {MIGRATIONS[-1]} kon niet worden toegepast" in result.stderr
    assert "Traceback" not in result.stderr
    assert (MIGRATIONS[-1],) not in execute(data_dir, "SELECT name FROM tortoise_migrations")
    assert execute(data_dir, "SELECT title FROM initiative") == [("Van voor de upgrade",)]
