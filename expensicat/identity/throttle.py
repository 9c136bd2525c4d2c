"""Slowing down password guessing, per account and per client address, without ever
locking anyone out.

Each failed sign-in for an account makes the next try wait longer (1 s, 2 s, 4 s, ... up to
a minute) once a few free mistakes are spent; a try during the wait is refused with its
Retry-After and neither checks the password nor adds to the count. The wait is capped and
a correct password after it signs in (and clears the count), so an attacker can slow an
account down but never shut its owner out. Each client address gets a budget of failures
as a token bucket (ratelimit.gcra), so one address cannot guess across many accounts.

The counts live in each server process: several processes multiply an attacker's tries by
their number, and argon2id's cost keeps each try dear anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from expensicat.ratelimit.gcra import MICROSECONDS, Policy, spend

FREE_FAILURES = 3
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
# Failures older than this are forgotten.
FORGET_AFTER_SECONDS = 15 * 60.0
# Per address: 100 failures at once (an office behind one NAT address), then one every 3 s.
ADDRESS_POLICY = Policy(100, 3 * MICROSECONDS, 100 * 3 * MICROSECONDS)
MAX_ENTRIES = 100_000


@dataclass(slots=True)
class _Account:
    failures: int = 0
    last_failure: float = 0.0
    wait_until: float = 0.0


class SignInThrottle:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._accounts: dict[str, _Account] = {}
        self._addresses: dict[str, int] = {}  # gcra's TAT per address

    def wait(self, account: str, address: str) -> float:
        """Seconds to wait before this account may try again from this address (0: now)."""
        now = self._clock()
        state = self._accounts.get(account)
        account_wait = 0.0 if state is None else max(0.0, state.wait_until - now)
        tat = self._addresses.get(address, 0)
        address_wait = max(0, tat + ADDRESS_POLICY.interval - ADDRESS_POLICY.tolerance - _us(now))
        return max(account_wait, address_wait / MICROSECONDS)

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        self._prune(now)
        state = self._accounts.setdefault(account, _Account())
        if now - state.last_failure > FORGET_AFTER_SECONDS:
            state.failures = 0
        state.failures += 1
        state.last_failure = now
        beyond = state.failures - FREE_FAILURES
        if beyond > 0:
            delay = min(FIRST_DELAY_SECONDS * 2 ** (beyond - 1), MAX_DELAY_SECONDS)
            state.wait_until = now + delay
        _, self._addresses[address] = spend(
            ADDRESS_POLICY, self._addresses.get(address, 0), _us(now)
        )

    def succeeded(self, account: str) -> None:
        self._accounts.pop(account, None)

    def _prune(self, now: float) -> None:
        """Forget what no longer slows anyone, so that the maps stay bounded."""
        if len(self._accounts) + len(self._addresses) < MAX_ENTRIES:
            return
        self._accounts = {
            key: state
            for key, state in self._accounts.items()
            if now - state.last_failure <= FORGET_AFTER_SECONDS
        }
        self._addresses = {key: tat for key, tat in self._addresses.items() if tat > _us(now)}


def _us(seconds: float) -> int:
    return int(seconds * MICROSECONDS)
