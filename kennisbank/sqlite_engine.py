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

Named as the engine in the connection config (``db.tortoise_config``); Tortoise imports it and reads
``client_class``.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
