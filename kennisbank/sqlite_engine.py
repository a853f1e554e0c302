"""Tortoise's SQLite backend, with every transaction begun ``IMMEDIATE``.

Tortoise begins a transaction with a plain (deferred) ``BEGIN``: it takes the write lock only at its
first write. A transaction that reads first and then writes (``update_or_create``, an import that
looks up existing rows, a job claim) then needs to *upgrade* its read to a write, and SQLite does not
wait for that: when another process holds the write lock at that moment, the upgrade fails at once
with "database is locked", whatever the busy timeout says (waiting could deadlock). The server, the
worker and the command line share one database file, so this happened at start-up whenever another
process was writing. ``BEGIN IMMEDIATE`` takes the write lock when the transaction begins, where the
busy timeout does apply: the transaction waits its turn instead of failing. (Django and Rails made
the same choice for SQLite.)

Waiting can now end at the ``BEGIN`` itself, which Tortoise's own transaction context does not
survive: it would keep the process's transaction lock, and every later transaction of the process
would wait for ever. `ImmediateTransactionContext` gives the lock back, after ending a ``BEGIN``
that may still succeed in aiosqlite's thread (the waiting task was cancelled), and a timeout raises
the same ``OperationalError`` a locked statement raises.

Named as the engine in the connection config (``db.tortoise_config``); Tortoise imports it and reads
``client_class``. Tortoise's migration executor recognises SQLite by "sqlite" in the client's module
name, so this module's name must keep the word.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import suppress

from tortoise.backends.base.client import TransactionalDBClient, TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc


class ImmediateTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                # Queued behind the BEGIN on the connection's one thread: ends it if it did begin.
                with suppress(Exception):
                    await asyncio.shield(self.connection._connection.rollback())
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection  # type: ignore[no-any-return]


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return ImmediateTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
