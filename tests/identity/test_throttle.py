"""The sign-in throttle on its own, on a clock the test moves: waits grow, are capped, are
forgotten, and one address cannot guess across many accounts."""

from __future__ import annotations

import pytest

from expensicat.identity import throttle
from expensicat.identity.throttle import MAX_DELAY_SECONDS, SignInThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def fail_after_waiting(guard: SignInThrottle, clock: Clock, account: str, address: str) -> float:
    """Wait out the current delay, fail once more; the delay that failure set."""
    clock.now += guard.wait(account, address)
    guard.failed(account, address)
    return guard.wait(account, address)


class TestSignInThrottle:
    def test_the_first_mistakes_are_free_then_waits_double_up_to_a_cap(self, clock: Clock) -> None:
        guard = SignInThrottle(clock)

        waits = [fail_after_waiting(guard, clock, "alice", f"10.0.0.{n}") for n in range(12)]

        assert waits[:3] == [0, 0, 0]
        assert waits[3:8] == [1, 2, 4, 8, 16]
        assert waits[-1] == MAX_DELAY_SECONDS

    def test_a_success_clears_the_account_s_count(self, clock: Clock) -> None:
        guard = SignInThrottle(clock)
        for _ in range(5):
            fail_after_waiting(guard, clock, "alice", "10.0.0.1")

        guard.succeeded("alice")

        assert guard.wait("alice", "10.0.0.1") == 0
        assert fail_after_waiting(guard, clock, "alice", "10.0.0.1") == 0

    def test_old_mistakes_are_forgotten(self, clock: Clock) -> None:
        guard = SignInThrottle(clock)
        for _ in range(6):
            fail_after_waiting(guard, clock, "alice", "10.0.0.1")

        clock.now += throttle.FORGET_AFTER_SECONDS + 1

        assert fail_after_waiting(guard, clock, "alice", "10.0.0.2") == 0

    def test_one_address_guessing_across_accounts_is_slowed(self, clock: Clock) -> None:
        guard = SignInThrottle(clock)

        for n in range(throttle.ADDRESS_POLICY.burst):
            guard.failed(f"user-{n}", "10.0.0.9")

        assert guard.wait("someone-new", "10.0.0.9") > 0
        assert guard.wait("someone-new", "10.0.0.10") == 0
