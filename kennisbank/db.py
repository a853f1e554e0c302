"""Opening the database: connect, create or upgrade the schema, and load the reference data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import Tortoise

from . import models
from .settings import Settings
from .taxonomy import PROVINCES, THEMES


def tortoise_config(settings: Settings) -> dict:
    return {
        "connections": {"default": settings.effective_database_url},
        "apps": {"models": {"models": ["kennisbank.models"], "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(settings: Settings) -> None:
    """Connect, create any missing tables and make sure provinces and themes are present."""
    if settings.effective_database_url.startswith("sqlite://"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    await Tortoise.generate_schemas(safe=True)
    await _load_reference_data()


async def close_database() -> None:
    await Tortoise.close_connections()


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    await open_database(settings)
    try:
        yield
    finally:
        await close_database()


async def _load_reference_data() -> None:
    for province in PROVINCES:
        await models.Province.update_or_create(code=province.code, defaults={"name": province.name})
    for theme in THEMES:
        await models.Theme.update_or_create(slug=theme.slug, defaults={"name": theme.name})
