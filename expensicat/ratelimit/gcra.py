"""A token bucket as the generic cell rate algorithm (GCRA): one timestamp per bucket.

A bucket of `burst` tokens refilled at `per_second` is stored as its theoretical arrival
time (TAT): the moment it will be full again. Times are whole microseconds since the
epoch, so the arithmetic is exact here and in Redis's Lua, whose numbers are doubles.
"""

from __future__ import annotations

from typing import NamedTuple

MICROSECONDS = 1_000_000


class Policy(NamedTuple):
    burst: int
    interval: int  # microseconds between two tokens
    tolerance: int  # microseconds an empty bucket takes to fill up

    @classmethod
    def of(cls, per_second: int, burst: int) -> Policy:
        interval = max(1, round(MICROSECONDS / per_second))
        return cls(burst, interval, burst * interval)


class Decision(NamedTuple):
    """One request's answer, in the integers the RateLimit header fields carry."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    @classmethod
    def from_debt(cls, policy: Policy, allowed: bool, debt: int) -> Decision:
        """The answer when the bucket, after this request, is `debt` microseconds from full."""
        burst, interval, tolerance = policy
        return cls(
            allowed,
            burst,
            (tolerance - debt) // interval,
            _seconds(debt),
            max(1, _seconds(debt + interval - tolerance)),
        )


def spend(policy: Policy, tat: int, now: int) -> tuple[bool, int]:
    """Take one token if there is one: whether it was taken, and the bucket's new TAT.

    A TAT further ahead than a full bucket's worth can only come from a clock that went
    backwards; it is pulled back so that such a jump delays no one for longer than that.
    """
    _, interval, tolerance = policy
    tat = min(max(tat, now), now + tolerance)
    if tat + interval - now > tolerance:
        return False, tat
    return True, tat + interval


def _seconds(microseconds: int) -> int:
    """Whole seconds, rounded up: a client that waits this long is never too early."""
    return -(-microseconds // MICROSECONDS)
