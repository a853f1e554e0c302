"""One write for many callers: threads that write at the same time share one commit.

A commit of the embedded index costs the same ~10 ms for one document as for a hundred (an fsync,
a reload). Under load many saves arrive together, each in its own thread, and one commit each made
them queue behind each other's fsyncs. `GroupCommit.submit` instead puts the caller's items in a
batch: the first caller to find no write running becomes the leader and writes every item that
arrived so far in one go; the others wait until a write that holds their items is done. Every
caller returns only after its own items are written, or raises the error of the write that held
them, so a caller sees exactly what it would have seen writing alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclass
class _Ticket(Generic[Item]):
    items: Sequence[Item]
    done: bool = False
    error: BaseException | None = None


class GroupCommit(Generic[Item]):
    """Calls `write` with the items of every caller waiting at that moment, one call at a time."""

    def __init__(self, write: Callable[[list[Item]], None]) -> None:
        self._write = write
        self._changed = threading.Condition()
        self._waiting: list[_Ticket[Item]] = []
        self._leading = False

    def submit(self, items: Sequence[Item]) -> None:
        """Write `items` (with whatever else is waiting); return once written, or raise why not."""
        ticket = _Ticket(items)
        with self._changed:
            self._waiting.append(ticket)
            while self._leading and not ticket.done:
                self._changed.wait()
            if ticket.done:
                return self._outcome(ticket)
            self._leading = True
            batch, self._waiting = self._waiting, []
        error: BaseException | None = None
        try:
            self._write([item for waiting in batch for item in waiting.items])
        except BaseException as exc:  # handed to every caller in the batch, this one included
            error = exc
        with self._changed:
            for waiting in batch:
                waiting.done, waiting.error = True, error
            self._leading = False
            self._changed.notify_all()
        return self._outcome(ticket)

    @staticmethod
    def _outcome(ticket: _Ticket[Item]) -> None:
        if ticket.error is not None:
            raise ticket.error
