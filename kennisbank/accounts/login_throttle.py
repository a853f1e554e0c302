"""Slowing down password and code guessing without letting anyone lock a user out.

Failures are counted per (account, client address) and per client address, in the database (table
``login_throttle``), so every process of the app and every concurrent request sees the same count.

- **Account from an address.** An attempt is *claimed* before the password is checked: the claim
  counts it as a failure at once, by a compare-and-set on the row's ``version``, so 40 concurrent
  wrong passwords cannot all slip through before the first failure is recorded. After a few free
  attempts each further one waits twice as long as the one before (up to a cap): while that wait
  runs, the attempt is refused (429) without looking at the password. A success removes the claim.
  Keying on the address as well as the account means an attacker elsewhere cannot lock the real
  user out: the user's own address has its own count.
- **An address, whatever the account** (credential stuffing, or an office behind one NAT). This
  count only ever *slows* an attempt (a short wait before the password is checked, at most
  ``per_address_max_delay``), it never refuses one: a correct password for an account that is not
  itself under attack still gets in, also from the address an attacker shares with the user.

A failure more than ``forget_after`` after the previous one starts counting afresh, so ordinary
typos over weeks do not add up.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from ..models import LoginThrottleEntry

MAX_CLAIM_ROUNDS = 200  # each round at least one concurrent claim wins, so this is never reached in practice


def _key(kind: str, account: str, address: str) -> str:
    return hashlib.sha256(f"{kind}\0{account.lower()}\0{address}".encode()).hexdigest()


@dataclass
class LoginThrottle:
    free_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 900.0
    per_address_free_attempts: int = 50  # many accounts from one address: credential stuffing
    per_address_max_delay: float = 3.0  # slow, never block: the address may be a whole office's NAT
    forget_after: float = 3600.0
    clock: Callable[[], float] = time.time  # wall-clock seconds: shared by every process
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep

    async def claim(self, account: str, address: str) -> int:
        """Claim one attempt for this account from this address.

        0: go ahead; the attempt counts as a failure until `succeeded` is called. Otherwise the seconds to
        wait (nothing was counted). A wait the address has earned is slept here, before the answer."""
        key = _key("account", account, address)
        for _ in range(MAX_CLAIM_ROUNDS):
            now = self.clock()
            row = await LoginThrottleEntry.get_or_none(key=key)
            if row is None:
                try:
                    await LoginThrottleEntry.create(key=key, failures=1, last_failure=now, version=1)
                except IntegrityError:  # a concurrent claim created it first: read it again
                    continue
                if random.random() < 0.01:  # now and then, drop what an attacker left behind long ago
                    await self.forget_old()
                break
            wait = self._wait(row.failures, row.last_failure, self.free_attempts, now)
            if wait > 0:
                return math.ceil(wait)
            failures = 1 if now - row.last_failure > self.forget_after else row.failures + 1
            claimed = await LoginThrottleEntry.filter(key=key, version=row.version).update(
                failures=failures, last_failure=now, version=row.version + 1
            )
            if claimed:
                break
        else:
            return math.ceil(self.base_delay)
        await self._slow_down(address)
        return 0

    async def failed(self, account: str, address: str) -> None:
        """The claimed attempt failed: it stays counted for the account; the address counts one more."""
        key = _key("address", "*", address)
        now = self.clock()
        stale = now - self.forget_after
        if await LoginThrottleEntry.filter(key=key, last_failure__lt=stale).update(
            failures=1, last_failure=now, version=F("version") + 1
        ):
            return
        if await LoginThrottleEntry.filter(key=key).update(
            failures=F("failures") + 1, last_failure=now, version=F("version") + 1
        ):
            return
        try:
            await LoginThrottleEntry.create(key=key, failures=1, last_failure=now, version=1)
        except IntegrityError:  # created concurrently: count on it
            await LoginThrottleEntry.filter(key=key).update(
                failures=F("failures") + 1, last_failure=now, version=F("version") + 1
            )

    async def succeeded(self, account: str, address: str) -> None:
        await LoginThrottleEntry.filter(key=_key("account", account, address)).delete()

    async def retry_after(self, account: str, address: str) -> int:
        """Seconds before another attempt for this account from this address is heard (0: go ahead)."""
        row = await LoginThrottleEntry.get_or_none(key=_key("account", account, address))
        if row is None:
            return 0
        return math.ceil(self._wait(row.failures, row.last_failure, self.free_attempts, self.clock()))

    async def address_delay(self, address: str) -> float:
        """Seconds an attempt from this address is slowed by before its password is checked."""
        row = await LoginThrottleEntry.get_or_none(key=_key("address", "*", address))
        now = self.clock()
        if row is None or now - row.last_failure > self.forget_after or row.failures < self.per_address_free_attempts:
            return 0.0
        return min(
            self.per_address_max_delay, self.base_delay * 2 ** min(row.failures - self.per_address_free_attempts, 30)
        )

    async def forget_old(self) -> int:
        """Remove rows whose last failure is long past (they count as nothing any more)."""
        return await LoginThrottleEntry.filter(last_failure__lt=self.clock() - self.forget_after).delete()

    async def _slow_down(self, address: str) -> None:
        delay = await self.address_delay(address)
        if delay > 0:
            await self.sleep(delay)

    def _wait(self, failures: int, last_failure: float, free: int, now: float) -> float:
        if failures < free or now - last_failure > self.forget_after:
            return 0.0
        delay = min(self.max_delay, self.base_delay * 2 ** min(failures - free, 30))
        return max(0.0, last_failure + delay - now)
