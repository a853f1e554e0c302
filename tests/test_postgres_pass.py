"""The second pass of `make test` really runs on PostgreSQL: the app and the CLI share one PostgreSQL
database per test, and no SQLite file appears."""

from __future__ import annotations

import json

import pytest
from tortoise import connections

from tests.conftest import run_cli
from tests.databases import on_postgres

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="PostgreSQL pass only: set KENNISBANK_TEST_DATABASE_URL "
    "(.ci/postgres.sh does, in the second pass of make test)",
)


async def _server_version() -> str:
    connection = connections.get("default")
    _, rows = await connection.execute_query("SHOW server_version")
    return f"{connection.capabilities.dialect} {rows[0]['server_version']}"


def test_the_app_and_the_cli_share_one_postgresql_database(client, data_dir):
    assert client.run(_server_version).startswith("postgres ")
    created = client.create_initiative(external_id="GE-PG-1", title="Opgeslagen in PostgreSQL")
    exported = [json.loads(line) for line in run_cli(data_dir, "export").stdout.splitlines()]
    assert [(row["external_id"], row["title"]) for row in exported] == [("GE-PG-1", "Opgeslagen in PostgreSQL")]
    assert created["external_id"] == "GE-PG-1"
    assert not list(data_dir.glob("*.sqlite3*"))
