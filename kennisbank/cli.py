"""The ``kennisbank`` command. Every command opens (and creates or upgrades) the database first."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from . import searching
from .db import database
from .exporting import export
from .importing import ImportFailed, import_file
from .indexing import ReindexReport, open_embedder, open_search_index, reindex
from .settings import Settings, SettingsError
from .validation import InputError

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        async with database(settings):
            return await work()

    return asyncio.run(main())


def _progress(label: str, unit: str) -> Callable[[Iterable[T]], Iterable[T]]:
    """A progress bar on a terminal; silence when output goes to a file or pipe."""
    def wrap(items: Iterable[T]) -> Iterable[T]:
        return tqdm(items, desc=label, unit=unit, disable=not sys.stderr.isatty(), leave=False)

    return wrap


@click.group()
def main() -> None:
    """Kennisbank: initiatieven van de provincies delen en matchen."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Start the web server."""
    import uvicorn

    from .web.app import create_app

    settings = _settings()
    click.echo(f"Kennisbank draait op http://{host}:{port}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())


def _import_files(paths: list[Path], label: str) -> None:
    settings = _settings()

    async def work() -> list[Any]:
        reports = [await import_file(path, _progress(f"{label} {path.name}", " rijen")) for path in paths]
        await _reindex(settings)
        return reports

    try:
        reports = _run(settings, work)
    except ImportFailed as exc:
        click.echo(f"Niets geïmporteerd: {len(exc.problems)} probleem/problemen gevonden.", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    for path, report in zip(paths, reports, strict=True):
        click.echo(f"{path.name}: {report.created} nieuw, {report.updated} bijgewerkt, {report.unchanged} ongewijzigd")


@main.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import initiatives from a .jsonl, .csv or .xlsx file (all rows or none)."""
    _import_files([file], "Importeren")


@main.command()
def seed() -> None:
    """Load the example initiatives from seed/ (safe to run again: it updates, never duplicates)."""
    _import_files(sorted(SEED_DIR.glob("*.jsonl")), "Voorbeelddata")


async def _reindex(settings: Settings, full: bool = False) -> ReindexReport:
    index = open_search_index(settings)
    try:
        return await reindex(index, open_embedder(settings), full=full,
                             progress=_progress("Index bijwerken", " initiatieven"))
    finally:
        index.close()


@main.command(name="reindex")
@click.option("--full", is_flag=True, help="Empty the index first instead of only fixing what differs.")
def reindex_command(full: bool) -> None:
    """Rebuild the search index from the database (the source of truth)."""
    settings = _settings()
    report = _run(settings, lambda: _reindex(settings, full))
    click.echo(f"Zoekindex: {report.indexed} bijgewerkt, {report.removed} verwijderd, {report.unchanged} ongewijzigd")


@main.command(name="search")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON, like GET /api/v1/search.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
def search_command(query: str, as_json: bool, limit: int) -> None:
    """Search published initiatives."""
    settings = _settings()

    async def work() -> dict[str, Any]:
        index = open_search_index(settings)
        try:
            parsed = searching.parse_query({"q": [query], "per_page": [str(limit)]})
            result = await searching.run_search(index, parsed, open_embedder(settings), settings.semantic_ratio)
            return searching.as_json(result)
        finally:
            index.close()

    try:
        result = _run(settings, work)
    except InputError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"{result['total']} resultaten")
    for hit in result["hits"]:
        click.echo(f"{hit['province_name']:<14} {hit['external_id']:<14} {hit['title']}")


@main.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="File to write; standard output when left out.")
def export_command(fmt: str, output: Path | None) -> None:
    """Export all initiatives (JSON Lines re-imports without loss)."""
    settings = _settings()
    if output is None:
        count = _run(settings, lambda: export(sys.stdout, fmt))
    else:
        with output.open("w", encoding="utf-8", newline="") as handle:
            count = _run(settings, lambda: export(handle, fmt))
    click.echo(f"{count} initiatieven geëxporteerd", err=True)
