"""Which database a test runs on: a SQLite file in its data directory, or a PostgreSQL database.

By default every test's data directory holds its own SQLite file. With
``KENNISBANK_TEST_DATABASE_URL=postgres://user@host:port/db`` (``.ci/postgres.sh`` sets it for the
second run of ``make test``) every data directory gets a fresh PostgreSQL database of its own
instead, created on first use and dropped when the test ends. The test process and the CLI
subprocesses it starts derive the same database from the same data directory, so they share it.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SERVER_URL = os.environ.get("KENNISBANK_TEST_DATABASE_URL", "").strip()

_created: set[str] = set()


def on_postgres() -> bool:
    return SERVER_URL.startswith(("postgres://", "asyncpg://", "postgresql://"))


def database_url_for(data_dir: Path) -> str:
    """The KENNISBANK_DATABASE_URL for a test's data directory: empty (SQLite in the data directory)
    unless the suite runs on PostgreSQL."""
    if not on_postgres():
        return ""
    name = "test_" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:24]
    if name not in _created:
        run_sql(f'CREATE DATABASE "{name}"')
        _created.add(name)
    return urlunsplit(urlsplit(SERVER_URL)._replace(path=f"/{name}"))


@contextmanager
def dropped_afterwards() -> Iterator[None]:
    """Drop the databases created inside the block (those of wider-scoped fixtures stay until exit)."""
    before = set(_created)
    try:
        yield
    finally:
        _drop(_created - before)


def _drop(names: set[str]) -> None:
    for name in names:
        run_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _created.discard(name)


@atexit.register
def _drop_all() -> None:
    if _created:
        _drop(set(_created))


def execute(data_dir: Path, sql: str, *params: Any) -> list[tuple]:
    """Run one SQL statement (``?`` placeholders) on the database of a data directory, whichever it is."""
    if not on_postgres():
        with sqlite3.connect(Path(data_dir) / "kennisbank.sqlite3") as connection:
            return connection.execute(sql, params).fetchall()
    import asyncpg

    numbered = iter(range(1, len(params) + 1))
    statement = re.sub(r"\?", lambda _: f"${next(numbered)}", sql)

    async def run() -> list[tuple]:
        connection = await asyncpg.connect(database_url_for(data_dir).replace("asyncpg://", "postgres://", 1))
        try:
            return [tuple(row) for row in await connection.fetch(statement, *params)]
        finally:
            await connection.close()

    return asyncio.run(run())


def run_sql(statement: str, database_url: str = SERVER_URL) -> str:
    """Run one statement with psql on the test server and return what it printed."""
    url = database_url.replace("asyncpg://", "postgres://", 1)
    return subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
