"""Slowing down password and code guessing without letting anyone lock a user out.

Failures are counted per (account, client address) and per client address. After a few free
attempts each further failure doubles the wait before the next attempt is heard, up to a cap. Keying
on the address as well as the account means an attacker elsewhere cannot lock the real user out:
the user's own address has its own count. A success clears the count for that account and address,
and a failure more than `forget_after` after the previous one starts counting afresh.

Counts live in memory: one process serves the app (uvicorn with one worker); a restart forgets them,
which only ever helps the user.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0


@dataclass
class LoginThrottle:
    free_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 900.0
    per_address_free_attempts: int = 50  # many accounts from one address: credential stuffing
    forget_after: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _records: dict[tuple[str, str], _Record] = field(default_factory=dict)

    def retry_after(self, account: str, address: str) -> int:
        """Seconds to wait before another attempt for this account from this address is heard (0: go ahead)."""
        now = self.clock()
        waits = [self._wait(self._records.get((account.lower(), address)), self.free_attempts, now),
                 self._wait(self._records.get(("*", address)), self.per_address_free_attempts, now)]
        return math.ceil(max(waits))

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        self._forget_old(now)
        for key in ((account.lower(), address), ("*", address)):
            record = self._records.setdefault(key, _Record())
            if now - record.last_failure > self.forget_after:  # a new burst: old typos do not add up
                record.failures = 0
            record.failures += 1
            record.last_failure = now

    def succeeded(self, account: str, address: str) -> None:
        self._records.pop((account.lower(), address), None)

    def _wait(self, record: _Record | None, free: int, now: float) -> float:
        if record is None or record.failures < free:
            return 0.0
        delay = min(self.max_delay, self.base_delay * 2 ** (record.failures - free))
        return max(0.0, record.last_failure + delay - now)

    def _forget_old(self, now: float) -> None:
        if len(self._records) < 10_000:
            return
        for key in [k for k, r in self._records.items() if now - r.last_failure > self.forget_after]:
            del self._records[key]
