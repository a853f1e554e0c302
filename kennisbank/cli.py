"""The ``kennisbank`` command. Every command opens (and creates or upgrades) the database first."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from search import SearchUnavailable
from search.matching.types import MATCH_TYPE_LABELS

from . import audit
from .accounts import demo_accounts
from .accounts import service as accounts
from .backup import BackupError, make_backup, restore_backup
from .db import MigrationFailed, database, migrate_database
from .digest import mail
from .digest import service as digest
from .initiatives.exporting import export
from .initiatives.importing import ImportFailed, import_file
from .initiatives.validation import FIELD_LABELS, InputError
from .logs import logging_config
from .matching import service as matches
from .matching.seed_collaborations import seed_collaborations
from .models import MatchSuggestion, User
from .resources import resource_dir
from .searching import embedding_jobs
from .searching import query as searching
from .searching.indexing import ReindexReport, open_embedder, open_search_index, reindex
from .searching.job_consumer import JobConsumer
from .settings import Settings, SettingsError
from .taxonomy import MatchStatus, Role

SEED_DIR = resource_dir("seed")
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

    try:
        return asyncio.run(main())
    except MigrationFailed as exc:
        raise click.ClickException(str(exc)) from None


def _progress(label: str, unit: str) -> Callable[[Iterable[T]], Iterable[T]]:
    """A progress bar on a terminal; silence when output goes to a file or pipe."""

    def wrap(items: Iterable[T]) -> Iterable[T]:
        return tqdm(items, desc=label, unit=unit, disable=not sys.stderr.isatty(), leave=False)

    return wrap


def _count(number: int, one: str, many: str) -> str:
    """ "1 probleem", "3 problemen"."""
    return f"{number} {one if number == 1 else many}"


@click.group()
def main() -> None:
    """Kennisbank: initiatieven van de provincies delen en matchen."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Start the web server."""
    import uvicorn

    from .web.app import create_app

    settings = _served_at(_settings(), host, port)
    click.echo(f"Kennisbank draait op http://{host}:{port}")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=logging_config(settings.log_level),
        access_log=False,
        **proxy_options(settings),
    )


def _served_at(settings: Settings, host: str, port: int) -> Settings:
    """Without KENNISBANK_BASE_URL the links in feeds and mails point where this server listens, not at
    the default port 8000 (a wildcard host is reached as localhost)."""
    if os.environ.get("KENNISBANK_BASE_URL", "").strip():
        return settings
    shown = "localhost" if host in {"0.0.0.0", "::", ""} else f"[{host}]" if ":" in host else host
    return dataclasses.replace(settings, base_url=f"http://{shown}:{port}")


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For only from KENNISBANK_TRUSTED_PROXIES; by default from nobody
    (uvicorn's own default trusts 127.0.0.1, and so whoever reaches the port through a local proxy)."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": []}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


def _import_files(paths: list[Path], label: str, wait: bool = True) -> None:
    """Commit the rows, make them keyword-searchable, then (unless `wait` is off) work off the queued
    embeddings and matches with a progress bar; without waiting the server or `kennisbank worker` does."""
    settings = _settings()

    async def work() -> list[Any]:
        reports = [
            await import_file(path, _progress(f"{label} {path.name}", " rijen"), settings.import_max_rows)
            for path in paths
        ]
        await _reindex(settings, embed=False)  # keyword-searchable now; embeddings are queued
        if wait:
            await _work_off_queue(settings)
        else:
            waiting = await embedding_jobs.pending_count()
            click.echo(
                f"Doorzoekbaar op woorden. {_count(waiting, 'initiatief wacht', 'initiatieven wachten')} op embedding en "
                "matches; "
                "de server of kennisbank worker verwerkt ze."
            )
        return reports

    try:
        reports = _run(settings, work)
    except ImportFailed as exc:
        if exc.about_file:
            click.echo(f"Niets geïmporteerd: {exc.problems[0]}.", err=True)
            sys.exit(1)
        click.echo(f"Niets geïmporteerd: {_count(exc.total, 'probleem', 'problemen')} gevonden.", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        if exc.more:
            click.echo(
                f"  … en nog {_count(exc.more, 'probleem', 'problemen')} (alleen de eerste {len(exc.problems)} staan hier).",
                err=True,
            )
        if exc.column_summary:
            columns = ", ".join(f"{FIELD_LABELS.get(c, c)} ({c}) {n}×" for c, n in exc.column_summary.items())
            click.echo(f"Per kolom: {columns}", err=True)
        sys.exit(1)
    for path, report in zip(paths, reports, strict=True):
        click.echo(f"{path.name}: {report.created} nieuw, {report.updated} bijgewerkt, {report.unchanged} ongewijzigd")


@main.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--no-wait",
    is_flag=True,
    help="Return once the rows are saved and keyword-searchable; embeddings and matches follow "
    "from the job queue (the server or kennisbank worker).",
)
def import_command(file: Path, no_wait: bool) -> None:
    """Import initiatives from a .jsonl, .csv or .xlsx file (all rows or none)."""
    _import_files([file], "Importeren", wait=not no_wait)


@main.command()
def seed() -> None:
    """Load the example initiatives from seed/ (safe to run again: it updates, never duplicates)."""
    _import_files(sorted(SEED_DIR.glob("*.jsonl")), "Voorbeelddata")
    created = _run(_settings(), seed_collaborations)
    if created:
        click.echo(f"Voorbeeldsamenwerkingen: {created} nieuw")


async def _reindex(settings: Settings, full: bool = False, embed: bool = True) -> ReindexReport:
    index = open_search_index(settings)
    try:
        return await reindex(
            index,
            open_embedder(settings),
            full=full,
            progress=_progress("Index bijwerken", " initiatieven"),
            embed=embed,
        )
    finally:
        index.close()


async def _work_off_queue(settings: Settings) -> int:
    """Embed, index and match what the job queue holds, in batches, with a progress bar on a terminal
    and a closing line; returns the number of jobs done."""
    embedder = open_embedder(settings)
    index = open_search_index(settings)
    try:
        consumer = JobConsumer.from_settings(
            settings, embedder, index, matches.Matcher(embedder), rematch_when_idle=True
        )
        total = await embedding_jobs.pending_count()
        with tqdm(
            total=total,
            desc="Embeddings en matches",
            unit=" initiatieven",
            leave=False,
            disable=not sys.stderr.isatty(),
        ) as bar:
            done = await consumer.drain(bar.update, on_settle=lambda: bar.set_description("Matches berekenen"))
        await consumer.matcher.ensure_prepared()  # derived, like the index: a full rematch when none ran
    finally:
        index.close()
    left = await embedding_jobs.pending_count()
    click.echo(f"Embeddings en matches: {done} verwerkt" + (f", {left} nog in de wachtrij" if left else ""))
    return done


@main.command(name="reindex")
@click.option("--full", is_flag=True, help="Empty the index first instead of only fixing what differs.")
def reindex_command(full: bool) -> None:
    """Rebuild the search index from the database (the source of truth)."""
    settings = _settings()

    async def work() -> ReindexReport:
        report = await _reindex(settings, full, embed=False)
        click.echo(
            f"Zoekindex: {report.indexed} bijgewerkt, {report.removed} verwijderd, {report.unchanged} ongewijzigd"
        )
        if report.queued:
            click.echo(f"{report.queued} initiatieven zonder embedding in de wachtrij gezet")
        if await embedding_jobs.pending_count():
            await _work_off_queue(settings)
        return report

    try:
        _run(settings, work)
    except SearchUnavailable as exc:
        raise click.ClickException(
            f"Zoekindex niet bijgewerkt, de zoekserver is niet bereikbaar ({exc}). "
            "Draai kennisbank reindex opnieuw zodra hij weer draait."
        ) from None


@main.command(name="search")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON, like GET /api/v1/search.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
def search_command(query: str, as_json: bool, limit: int) -> None:
    """Search published initiatives."""
    settings = _settings()

    async def work() -> dict[str, Any]:
        embedder = open_embedder(settings)
        index = open_search_index(settings, embedder)
        try:
            parsed = searching.parse_query({"q": [query], "per_page": [str(limit)]})
            result = await searching.run_search(index, parsed, embedder, settings.semantic_ratio)
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
    click.echo(_count(result["total"], "resultaat", "resultaten") if result["total"] else "Niets gevonden.")
    for hit in result["hits"]:
        click.echo(f"{hit['province_name']:<14} {hit['external_id']:<14} {hit['title']}")
    if result["related"]:
        click.echo("Misschien verwant (geen zoekresultaten, maar dichtbij in betekenis):")
        for other in result["related"]:
            click.echo(f"{other['province_name']:<14} {other['external_id']:<14} {other['title']}")


@main.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="File to write; standard output when left out.",
)
def export_command(fmt: str, output: Path | None) -> None:
    """Export all initiatives (JSON Lines re-imports without loss)."""
    settings = _settings()
    if output is None:
        count = _run(settings, lambda: export(sys.stdout, fmt))
    else:
        try:
            handle = output.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise click.ClickException(f"kan {output} niet schrijven: {exc.strerror or exc}") from None
        with handle:
            count = _run(settings, lambda: export(handle, fmt))
    click.echo(f"{count} initiatieven geëxporteerd", err=True)


@main.group(name="user")
def user_group() -> None:
    """Manage accounts (there is no built-in admin: create the first beheerder here)."""


@user_group.command(name="create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--province", default=None, help="Name or ISO code; required for a medewerker.")
@click.option("--name", default="", help="Display name.")
@click.option("--password", default=None, help="Prompted for (hidden, twice) when left out.")
def user_create(email: str, role: str, province: str | None, name: str, password: str | None) -> None:
    """Create an account."""
    settings = _settings()
    if password is None:
        password = click.prompt("Wachtwoord", hide_input=True, confirmation_prompt="Herhaal het wachtwoord")
    try:
        user = _run(
            settings,
            lambda: accounts.create_user(
                audit.SYSTEM, email=email, role=role, province=province, name=name, password=password
            ),
        )
    except InputError as exc:
        raise click.ClickException(_dutch_errors(exc)) from None
    click.echo(f"Account {user.email} ({role}) aangemaakt.")


@user_group.command(name="set-password")
@click.option("--email", required=True)
@click.option("--password", default=None, help="Prompted for (hidden, twice) when left out.")
def user_set_password(email: str, password: str | None) -> None:
    """Set a new password for an account, end its sessions and revoke its API tokens."""
    settings = _settings()
    if password is None:
        password = click.prompt("Nieuw wachtwoord", hide_input=True, confirmation_prompt="Herhaal het wachtwoord")

    async def work() -> None:
        user = await User.get_or_none(email=accounts.normalise_email(email))
        if user is None:
            raise click.ClickException(f"Er is geen account met e-mailadres {email}.")
        await accounts.set_password(audit.SYSTEM, user.id, password)

    try:
        _run(settings, work)
    except InputError as exc:
        raise click.ClickException(_dutch_errors(exc)) from None
    click.echo("Wachtwoord gewijzigd; bestaande sessies zijn beëindigd en API-tokens ingetrokken.")


@user_group.command(name="list")
def user_list() -> None:
    """List accounts with role, province and state."""
    settings = _settings()
    for user in _run(settings, accounts.list_users):
        state = "actief" if user.active else "geblokkeerd"
        click.echo(f"{user.email:<40} {user.role:<12} {user.province_id or '-':<6} {state}")


@main.command(name="demo-accounts")
def demo_accounts_command() -> None:
    """Create demo accounts for trying the platform locally, with random passwords (never fixed ones)."""
    settings = _settings()
    created = _run(settings, lambda: demo_accounts.create(settings.data_dir))
    for account in created:
        click.echo(f"  {account.role:<12} {account.email:<38} wachtwoord: {account.password}")
    path = demo_accounts.passwords_file(settings.data_dir)
    if created:
        click.echo(f"Demo-accounts aangemaakt; de wachtwoorden staan ook in {path}")
    else:
        click.echo(f"Demo-accounts bestaan al; de wachtwoorden staan in {path}")


def _dutch_errors(exc: InputError) -> str:
    return "\n".join(f"{field or 'algemeen'}: {' '.join(messages)}" for field, messages in exc.errors.items())


@main.command(name="match")
def match_command() -> None:
    """Recompute every match suggestion (decisions are kept)."""
    settings = _settings()

    async def work() -> matches.RematchReport:
        return await matches.Matcher(open_embedder(settings)).rematch_all()

    report = _run(settings, work)
    click.echo(
        f"Matches: {report.suggested} voorgesteld of bijgewerkt, {report.reopened} heropend, "
        f"{report.withdrawn} ingetrokken. {report.learning.message}"
    )


#: How many matches `kennisbank matches` shows on the terminal without --limit, and how many it reads per page.
MATCHES_SHOWN = 20
MATCHES_PAGE = 1000


async def _all_matches(filters: matches.MatchFilters, limit: int | None) -> tuple[int, list[MatchSuggestion]]:
    """The first `limit` matches best first (every one without a limit), and how many there are."""
    per_page = min(limit, MATCHES_PAGE) if limit is not None else MATCHES_PAGE
    listed: list[MatchSuggestion] = []
    number = 1
    while True:
        page = await matches.list_matches(filters, page=number, per_page=per_page)
        listed.extend(page.items)
        if len(page.items) < per_page or (limit is not None and len(listed) >= limit):
            return page.total, listed[:limit]
        number += 1


@main.command(name="matches")
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON, like GET /api/v1/matches.")
@click.option("--min-score", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in MatchStatus]),
    help="Repeat for several; default: voorgesteld.",
)
@click.option(
    "--limit",
    default=None,
    type=click.IntRange(1, None),
    help=f"At most this many; default: {MATCHES_SHOWN} on the terminal, every match with --json.",
)
def matches_command(as_json: bool, min_score: float, statuses: tuple[str, ...], limit: int | None) -> None:
    """List match suggestions, best first."""
    settings = _settings()
    filters = matches.MatchFilters(status=statuses or (MatchStatus.VOORGESTELD,), min_score=min_score)
    if as_json:
        # A script reads the whole queue (the figures of issue 11 are measured on it), a page at a time.
        total, listed = _run(settings, lambda: _all_matches(filters, limit))
        click.echo(
            json.dumps({"total": total, "items": [matches.as_json(m) for m in listed]}, ensure_ascii=False, indent=2)
        )
        return
    page = _run(settings, lambda: matches.list_matches(filters, per_page=limit or MATCHES_SHOWN))
    click.echo(f"{page.total} {'suggestie' if page.total == 1 else 'suggesties'}")
    for match in page.items:
        click.echo(
            f"{match.score:.2f} {MATCH_TYPE_LABELS.get(match.type, match.type)}: "
            f"{match.a.province.name} ↔ {match.b.province.name}: {match.a.title} | {match.b.title}"
        )
        for reason in match.reasons:
            click.echo(f"     - {reason}")


@main.command(name="migrate")
def migrate_command() -> None:
    """Apply pending database migrations (the server and every command also do this when they start)."""
    try:
        applied = asyncio.run(migrate_database(_settings()))
    except MigrationFailed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Migraties toegepast: {', '.join(applied)}" if applied else "De database is bij: geen migraties open.")


@main.command(name="backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup_command(file: Path) -> None:
    """Write a backup of the database to FILE (safe while the server runs)."""
    try:
        make_backup(_settings(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Reservekopie geschreven naar {file}")


@main.command(name="restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Restore a backup into an empty database, then rebuild the search index from it."""
    settings = _settings()
    try:
        restore_backup(settings, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    report = _run(settings, lambda: _reindex(settings, full=True))
    click.echo(f"Hersteld uit {file}; zoekindex: {report.indexed} initiatieven geïndexeerd")


@main.command(name="digest")
@click.option("--week", default=None, help="ISO week such as 2026-W47; default: the last complete week.")
@click.option("--dry-run", is_flag=True, help="Only show who would get how many items (the default).")
@click.option("--send", is_flag=True, help="Send the digests over SMTP (each user at most once per week).")
def digest_command(week: str | None, dry_run: bool, send: bool) -> None:
    """Compose, and with --send deliver, the weekly digest."""
    settings = _settings()
    if send and dry_run:
        raise click.UsageError("Kies --send of --dry-run, niet allebei.")
    try:
        period = digest.Period.parse(week) if week else digest.Period.last_complete()
    except InputError as exc:
        raise click.ClickException(_dutch_errors(exc)) from None

    async def work() -> None:
        index = open_search_index(settings)
        try:
            if send:
                sender = mail.SMTPSender(settings)
                try:
                    report = await digest.send_digests(settings, period, index, sender)
                except InputError as exc:  # a week too long past to send
                    raise click.ClickException(_dutch_errors(exc)) from None
                finally:
                    sender.close()
                click.echo(
                    f"Overzicht {period.key}: {report.sent} verzonden, {report.empty} leeg, "
                    f"{report.skipped} al gedaan of bezig, {report.failed} mislukt"
                )
                for failure in report.failures:
                    click.echo(f"  mislukt: {failure}", err=True)
                return
            for user in await digest.recipients():
                composed = await digest.compose(user, period, index)
                click.echo(f"{user.email:<40} {composed.item_count} items")
        finally:
            index.close()

    _run(settings, work)


@main.command(name="worker")
def worker_command() -> None:
    """Run the job queue (embeddings and matches of saves) and the scheduled jobs: the weekly digest on
    Monday morning and the nightly rematch and reindex."""
    from .worker import run_worker

    settings = _settings()
    click.echo(
        "Kennisbank-worker: verwerkt de wachtrij van embeddings en matches; overzicht op maandag 07:00, "
        "matches en zoekindex elke nacht om 02:30 (Europe/Amsterdam)"
    )
    asyncio.run(run_worker(settings))
