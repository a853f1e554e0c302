"""Opening the database: connect, bring the schema up to date with the migrations, load the reference data.

The schema is owned by the migrations in ``kennisbank/migrations`` (Tortoise's built-in migration
system: its operations are database-neutral, so one set serves SQLite and PostgreSQL). After a
model change, write the next migration with::

    .venv/bin/tortoise -c kennisbank.db.MIGRATIONS_CONFIG makemigrations --name what_changed
"""

from __future__ import annotations

import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import anyio.to_thread
import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import BaseORMException
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor
from tortoise.queryset import QuerySet

from . import models
from .errors import KennisbankError
from .settings import Settings
from .taxonomy import PROVINCES, THEMES

T = TypeVar("T")

APP = "models"
APP_CONFIG = {"models": ["kennisbank.models"], "default_connection": "default", "migrations": "kennisbank.migrations"}
MIGRATION_LOCK_KEY = 0x6B62_6D69  # PostgreSQL advisory lock held while migrating ("kbmi")


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return _config(settings.effective_database_url)


def _config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {APP: dict(APP_CONFIG)},
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(database_url: str) -> str | dict[str, Any]:
    """PostgreSQL by its URL; SQLite with the engine that begins transactions ``IMMEDIATE``
    (``kennisbank.sqlite_engine`` says why)."""
    if not database_url.startswith("sqlite://"):
        return database_url
    return {**expand_db_url(database_url), "engine": "kennisbank.sqlite_engine"}


# For Tortoise's own command line (``tortoise -c kennisbank.db.MIGRATIONS_CONFIG makemigrations``):
# writing a migration compares the models with the migrations and needs no real database.
MIGRATIONS_CONFIG = _config("sqlite://:memory:")


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file, or None on PostgreSQL."""
    url = settings.effective_database_url
    if not url.startswith("sqlite://"):
        return None
    return Path(url.removeprefix("sqlite://").split("?", 1)[0])


def postgres_dsn(settings: Settings) -> str:
    """The database URL as libpq and asyncpg read it: Tortoise's pool options are not theirs."""
    return urlunsplit(urlsplit(settings.effective_database_url)._replace(scheme="postgresql", query=""))


async def open_database(settings: Settings) -> None:
    """Connect, apply pending migrations and make sure provinces and themes are present."""
    await connect(settings)
    await migrate(settings)
    await _load_reference_data()


async def connect(settings: Settings) -> None:
    if sqlite_file(settings) is not None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def migrate(settings: Settings) -> list[str]:
    """Apply the migrations this database lacks, each in its own transaction; return their names.

    One process migrates at a time (the server and the worker may start together on a new
    database). A database made before there were migrations (by ``generate_schemas``) is adopted:
    the tables it lacks are created and the initial migration is recorded as applied.
    """
    async with _exclusive(settings):
        executor = MigrationExecutor(connections.get("default"), {APP: APP_CONFIG})
        if await _predates_migrations(executor):
            await Tortoise.generate_schemas(safe=True)
            await executor.migrate(fake=True)
            return []
        applied: list[str] = []
        started: list[str] = []

        def progress(event: str, _app: str, name: str) -> None:
            if event == "apply_start":
                started.append(name)
            elif event == "apply_done":
                applied.append(name)

        try:
            await executor.migrate(progress=progress)
        except BaseORMException as exc:
            raise MigrationFailed(started[-1] if started else "?", str(exc)) from exc
        return applied


class MigrationFailed(KennisbankError):
    """A migration the database refused. Each runs in its own transaction, so the database stays at
    the last migration that succeeded; the operator reads which one failed and why."""

    title = "Migratie mislukt"
    default_detail = (
        "Een migratie kon niet worden toegepast. De database is bij de migratie ervoor gebleven; er is niets "
        "verloren. Maak een reservekopie en meld deze fout."
    )

    def __init__(self, migration: str | None = None, reason: str = "") -> None:
        if migration is None:
            super().__init__()
            return
        super().__init__(
            migration,
            reason,
            detail=(
                f"Migratie {migration} kon niet worden toegepast ({reason}). De database is bij de migratie "
                "ervoor gebleven; er is niets verloren. Maak een reservekopie en meld deze fout."
            ),
        )

    def __str__(self) -> str:
        return self.detail


async def pending_model_changes() -> list[str]:
    """What ``makemigrations`` would write: model changes no migration covers yet (empty when in step)."""
    autodetector = MigrationAutodetector(Tortoise.apps, {APP: APP_CONFIG})
    return [operation.describe() for writer in await autodetector.changes() for operation in writer.operations]


@asynccontextmanager
async def _exclusive(settings: Settings) -> AsyncIterator[None]:
    """Hold the migration lock: a lock file beside the SQLite file, or a PostgreSQL advisory lock held
    by a session of its own (closing it releases the lock, also when the process dies)."""
    database_file = sqlite_file(settings)
    if database_file is not None:
        with database_file.with_name(database_file.name + ".migrating").open("w") as lock:
            await anyio.to_thread.run_sync(fcntl.flock, lock, fcntl.LOCK_EX)
            yield
        return
    session = await asyncpg.connect(postgres_dsn(settings))
    try:
        await session.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        yield
    finally:
        await session.close()


async def _predates_migrations(executor: MigrationExecutor) -> bool:
    if await executor.recorder.applied_migrations():
        return False
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'initiative'"
    else:
        query = (
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'initiative' "
            "AND table_schema = current_schema()"
        )
    _, rows = await connection.execute_query(query)
    return bool(rows)


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate_database(settings: Settings) -> list[str]:
    """Connect, apply pending migrations, close: ``kennisbank migrate``."""
    async with _connected(settings):
        return await migrate(settings)


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    async with _connected(settings):
        await migrate(settings)
        await _load_reference_data()
        yield


@asynccontextmanager
async def _connected(settings: Settings) -> AsyncIterator[None]:
    """Connections are closed even when opening fails halfway: an open SQLite connection keeps the
    process from exiting."""
    try:
        await connect(settings)
        yield
    finally:
        await close_database()


async def _load_reference_data() -> None:
    for province in PROVINCES:
        await models.Province.update_or_create(code=province.code, defaults={"name": province.name})
    for theme in THEMES:
        await models.Theme.update_or_create(slug=theme.slug, defaults={"name": theme.name})


async def flat_values(query: QuerySet[Any], field: str, kind: type[T]) -> list[T]:
    """The values of one field of the rows: ``values_list(field, flat=True)``, which Tortoise's stubs
    type as a list of tuples. ``kind`` names the field's Python type."""
    return cast(list[T], await query.values_list(field, flat=True))
