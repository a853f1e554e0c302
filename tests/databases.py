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
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SERVER_URL = os.environ.get("KENNISBANK_TEST_DATABASE_URL", "").strip()
REPO = Path(__file__).resolve().parents[1]
SQLITE_FILE = "kennisbank.sqlite3"

_created: set[str] = set()
_template: dict[str, Path | str] = {}


def on_postgres() -> bool:
    return SERVER_URL.startswith(("postgres://", "asyncpg://", "postgresql://"))


def database_url_for(data_dir: Path) -> str:
    """The KENNISBANK_DATABASE_URL for a test's data directory: empty (SQLite in the data directory)
    unless the suite runs on PostgreSQL."""
    if not on_postgres():
        return ""
    name = _database_name(data_dir)
    if name not in _created:
        run_sql(f'CREATE DATABASE "{name}"')
        _created.add(name)
    return _url_of(name)


def migrated_database_url_for(data_dir: Path) -> str:
    """Like ``database_url_for``, but the database already has today's schema: a copy of a template that
    ``kennisbank migrate`` made once for this test process. Migrating a new database takes about 0.3 s,
    most of a short test's time; the migrations themselves are tested on fresh databases in
    test_migrations.py. A data directory that already has a database keeps it."""
    data_dir = Path(data_dir)
    if not on_postgres():
        target = data_dir / SQLITE_FILE
        if not target.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template(), target)
        return ""
    name = _database_name(data_dir)
    if name not in _created:
        run_sql(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template()}"')
        _created.add(name)
    return database_url_for(data_dir)


def _sqlite_template() -> Path:
    if "sqlite" not in _template:
        directory = Path(tempfile.mkdtemp(prefix="kennisbank-template-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        _migrate(directory, "")
        _template["sqlite"] = directory / SQLITE_FILE
    return Path(_template["sqlite"])


def _postgres_template() -> str:
    if "postgres" not in _template:
        name = f"test_template_{os.getpid()}"
        run_sql(f'DROP DATABASE IF EXISTS "{name}"')
        run_sql(f'CREATE DATABASE "{name}"')
        atexit.register(run_sql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # outlives every test's block
        _migrate(Path(tempfile.mkdtemp(prefix="kennisbank-template-")), _url_of(name))
        _template["postgres"] = name
    return str(_template["postgres"])


def _migrate(data_dir: Path, database_url: str) -> None:
    environment = {
        **os.environ,
        "KENNISBANK_DATA_DIR": str(data_dir),
        "KENNISBANK_DATABASE_URL": database_url,
        "KENNISBANK_EMBEDDING_MODEL": "none",
    }
    subprocess.run(
        [sys.executable, "-m", "kennisbank", "migrate"],
        cwd=REPO,
        env=environment,
        check=True,
        capture_output=True,
        timeout=300,
    )


def _database_name(data_dir: Path) -> str:
    return "test_" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:24]


def _url_of(name: str) -> str:
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
        with sqlite3.connect(Path(data_dir) / SQLITE_FILE) as connection:
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
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
