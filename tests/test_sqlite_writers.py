"""Several processes write one SQLite file (the server, the worker, the command line): a transaction
waits for another process's write to end instead of failing with "database is locked"."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
import time
from collections.abc import Awaitable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import pytest
from tortoise.exceptions import OperationalError

from kennisbank.db import database, sqlite_file
from kennisbank.models import Theme
from kennisbank.settings import Settings
from kennisbank.taxonomy import THEMES
from tests.databases import on_postgres

T = TypeVar("T")

pytestmark = pytest.mark.skipif(on_postgres(), reason="SQLite's write lock; PostgreSQL locks rows and waits by itself")


def test_a_transaction_that_reads_before_it_writes_waits_for_another_writer(settings):
    """``update_or_create`` reads, then writes, in one transaction (start-up loads the reference data
    that way). Begun deferred, it could not wait for the write lock it needs halfway, whatever the busy
    timeout: it failed at once while another process was writing. This is what killed a CLI run
    started while another process held the lock."""
    theme = THEMES[0]

    async def main() -> float:
        async with database(settings):
            path = sqlite_file(settings)
            assert path is not None
            other_process = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
            other_process.execute("BEGIN IMMEDIATE")
            threading.Timer(0.5, other_process.rollback).start()
            started = time.monotonic()
            await Theme.update_or_create(slug=theme.slug, defaults={"name": "Een nieuwe naam"})
            waited = time.monotonic() - started
            other_process.close()
            assert (await Theme.get(slug=theme.slug)).name == "Een nieuwe naam"
            return waited

    assert asyncio.run(main()) >= 0.4


def test_a_transaction_that_waited_in_vain_gives_the_lock_back(data_dir):
    """When the other writer outlasts the busy timeout, the transaction fails as a locked statement
    does, and the process's next transaction runs: Tortoise's own context kept its lock after a
    failed BEGIN, and every later transaction of the process waited for ever."""
    settings = waiting_at_most(200, data_dir)
    theme = THEMES[0]

    async def main() -> None:
        async with database(settings):
            path = sqlite_file(settings)
            assert path is not None
            other_process = sqlite3.connect(path, timeout=0, isolation_level=None)
            other_process.execute("BEGIN IMMEDIATE")
            with pytest.raises(OperationalError, match="database is locked"):
                await Theme.update_or_create(slug=theme.slug, defaults={"name": "Te vroeg"})
            other_process.rollback()
            other_process.close()
            await in_another_task(Theme.update_or_create(slug=theme.slug, defaults={"name": "Op tijd"}))
            assert (await Theme.get(slug=theme.slug)).name == "Op tijd"

    asyncio.run(main())


def test_a_transaction_cancelled_while_it_waits_leaves_no_transaction_open(data_dir):
    """A request cancelled while its transaction waits for the lock (the client went away): the BEGIN
    still runs in the database thread and succeeds once the other writer is done. Left open, it would
    swallow the process's later autocommit writes and lock out every other process."""
    settings = waiting_at_most(2000, data_dir)
    theme = THEMES[0]

    async def main() -> None:
        async with database(settings):
            path = sqlite_file(settings)
            assert path is not None
            other_process = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
            other_process.execute("BEGIN IMMEDIATE")
            waiting = asyncio.create_task(Theme.update_or_create(slug=theme.slug, defaults={"name": "Geannuleerd"}))
            await asyncio.sleep(0.2)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            other_process.rollback()
            await in_another_task(Theme.filter(slug=theme.slug).update(name="Zonder transactie"))
            with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as third_process:
                assert third_process.execute("SELECT name FROM theme WHERE slug = ?", (theme.slug,)).fetchall() == [
                    ("Zonder transactie",)
                ]
                third_process.execute("BEGIN IMMEDIATE")
                third_process.rollback()
            other_process.close()

    asyncio.run(main())


def waiting_at_most(milliseconds: int, data_dir: Path) -> Settings:
    """Settings for the data dir's SQLite file with a busy timeout of `milliseconds`."""
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite://{data_dir / 'kennisbank.sqlite3'}?busy_timeout={milliseconds}",
        embedding_model="none",
    )


async def in_another_task(work: Awaitable[T]) -> T:
    """`work` as another request would run it: a task of its own, in a fresh context, so a transaction
    this task left behind in its context is not found there (it waits for the process's lock)."""
    return await asyncio.wait_for(asyncio.create_task(_run(work), context=contextvars.Context()), 5)


async def _run(work: Awaitable[T]) -> T:
    return await work
