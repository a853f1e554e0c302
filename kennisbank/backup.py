"""Backups of the database, safe to make while the server runs, and restoring one into an empty database.

SQLite is copied with SQLite's online backup API (a consistent snapshot; writers are not stopped).
PostgreSQL is dumped with ``pg_dump -Fc`` and restored with ``pg_restore`` (the PostgreSQL client
tools must be installed; their major version must not be older than the server's). The search index
is not backed up: it is derived from the database and rebuilt after a restore.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from .db import postgres_dsn, sqlite_file
from .errors import KennisbankError
from .settings import Settings

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


class BackupError(KennisbankError):
    """A backup or restore that could not be done; the message is for the operator (Dutch)."""

    title = "Back-up mislukt"


def make_backup(settings: Settings, target: Path) -> None:
    """Write a backup of the database to `target`. It appears only once complete: a backup that was
    interrupted leaves no file that looks like a good one."""
    partial = target.with_name(target.name + ".partial")
    try:
        source = sqlite_file(settings)
        if source is not None:
            _sqlite_backup(source, partial)
        else:
            _run_tool(
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={partial}",
                f"--dbname={postgres_dsn(settings)}",
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def restore_backup(settings: Settings, source: Path) -> None:
    """Load a backup into the configured database, which must be empty (a new data dir or database).
    Afterwards open the database as usual (it applies newer migrations) and rebuild the search index."""
    with source.open("rb") as file:
        header = file.read(16)
    target = sqlite_file(settings)
    if target is not None:
        if not header.startswith(SQLITE_HEADER):
            raise BackupError(f"{source} is geen reservekopie van een SQLite-database.")
        if _sqlite_has_tables(target):
            raise BackupError(f"De database {target} is niet leeg. Herstel in een lege datamap.")
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(source)) as backup, closing(sqlite3.connect(target)) as database:
            backup.backup(database)
        return
    if not header.startswith(PG_DUMP_HEADER):
        raise BackupError(f"{source} is geen reservekopie van pg_dump (formaat custom).")
    url = postgres_dsn(settings)
    tables = _run_tool(
        "psql",
        "-qAt",
        "-c",
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        url,
    )
    if tables.strip() != "0":
        raise BackupError("De PostgreSQL-database is niet leeg. Herstel in een lege database.")
    _run_tool(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={url}",
        str(source),
    )


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists():
        return False
    with closing(sqlite3.connect(path)) as database:
        return database.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0


def _sqlite_backup(source: Path, target: Path) -> None:
    if not _sqlite_has_tables(source):
        raise BackupError(f"Er is geen database om te bewaren in {source}.")
    with closing(sqlite3.connect(source)) as database, closing(sqlite3.connect(target)) as backup:
        database.backup(backup)


def _run_tool(name: str, *args: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise BackupError(f"{name} is niet gevonden: installeer de PostgreSQL-clientprogramma's (postgresql-client).")
    result = subprocess.run([program, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{name} is mislukt: {result.stderr.strip()}")
    return result.stdout
