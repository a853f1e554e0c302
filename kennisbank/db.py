"""Opening the database: connect, bring the schema up to date with the migrations, load the reference data.

The schema is owned by the migrations in ``kennisbank/migrations`` (Tortoise's built-in migration
system: its operations are dialect-neutral, so one set serves SQLite and PostgreSQL). After a model
change, write the next migration with::

    .venv/bin/tortoise -c kennisbank.db.MIGRATIONS_CONFIG makemigrations --name what_changed
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor

from . import models
from .settings import Settings
from .taxonomy import PROVINCES, THEMES

APP = "models"
MIGRATIONS_MODULE = "kennisbank.migrations"


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return _config(settings.effective_database_url)


def _config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {APP: {"models": ["kennisbank.models"], "default_connection": "default",
                       "migrations": MIGRATIONS_MODULE}},
        "use_tz": True,
        "timezone": "UTC",
    }


# For Tortoise's own command line (``tortoise -c kennisbank.db.MIGRATIONS_CONFIG makemigrations``):
# writing a migration compares the models with the migrations and needs no real database.
MIGRATIONS_CONFIG = _config("sqlite://:memory:")


async def open_database(settings: Settings) -> None:
    """Connect, apply pending migrations and make sure provinces and themes are present."""
    await connect(settings)
    await migrate()
    await _load_reference_data()


async def connect(settings: Settings) -> None:
    if settings.effective_database_url.startswith("sqlite://"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def migrate() -> list[str]:
    """Apply the migrations this database lacks, each in its own transaction; return their names.

    A database made before there were migrations (by ``generate_schemas``) is adopted: the tables
    it lacks are created and the initial migration is recorded as applied.
    """
    connection = connections.get("default")
    executor = MigrationExecutor(connection, {APP: tortoise_config_apps()})
    if await _predates_migrations(executor):
        await Tortoise.generate_schemas(safe=True)
        await executor.migrate(fake=True)
        return []
    applied: list[str] = []

    def progress(event: str, _app: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)

    await executor.migrate(progress=progress)
    return applied


async def pending_model_changes() -> list[str]:
    """What ``makemigrations`` would write: the model changes no migration covers yet (empty when in step)."""
    autodetector = MigrationAutodetector(Tortoise.apps, {APP: tortoise_config_apps()})
    return [operation.describe() for writer in await autodetector.changes() for operation in writer.operations]


def tortoise_config_apps() -> dict[str, Any]:
    return MIGRATIONS_CONFIG["apps"][APP]


async def _predates_migrations(executor: MigrationExecutor) -> bool:
    if await executor.recorder.applied_migrations():
        return False
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'initiative'"
    else:
        query = "SELECT 1 FROM information_schema.tables WHERE table_name = 'initiative' AND table_schema = current_schema()"
    _, rows = await connection.execute_query(query)
    return bool(rows)


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate_database(settings: Settings) -> list[str]:
    """Connect, apply pending migrations, close: ``kennisbank migrate``."""
    async with _connected(settings):
        return await migrate()


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    async with _connected(settings):
        await migrate()
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
