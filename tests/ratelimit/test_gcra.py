"""The bucket math alone, on explicit clocks: a budget of 5 refilled at 2 per second."""

from __future__ import annotations

from expensicat.ratelimit.gcra import Decision, Policy, spend

POLICY = Policy.of(per_second=2, burst=5)
SECOND = 1_000_000
NOW = 1_700_000_000 * SECOND


def spend_many(count: int, tat: int = 0, now: int = NOW) -> tuple[list[bool], int]:
    answers = []
    for _ in range(count):
        allowed, tat = spend(POLICY, tat, now)
        answers.append(allowed)
    return answers, tat


class TestSpend:
    def test_a_full_bucket_lets_the_burst_through_then_refuses(self) -> None:
        answers, _ = spend_many(7)
        assert answers == [True] * 5 + [False] * 2

    def test_a_refusal_costs_nothing(self) -> None:
        _, tat = spend_many(5)
        assert spend(POLICY, tat, NOW) == (False, tat)

    def test_one_token_comes_back_per_interval(self) -> None:
        _, tat = spend_many(5)
        assert spend(POLICY, tat, NOW + SECOND // 2 - 1)[0] is False
        allowed, tat = spend(POLICY, tat, NOW + SECOND // 2)
        assert allowed
        assert spend(POLICY, tat, NOW + SECOND // 2)[0] is False

    def test_an_idle_bucket_fills_up_to_the_burst_and_no_further(self) -> None:
        _, tat = spend_many(5)
        answers, _ = spend_many(7, tat, NOW + 60 * SECOND)
        assert answers == [True] * 5 + [False] * 2

    def test_a_clock_that_went_back_delays_no_more_than_a_full_refill(self) -> None:
        far_future = NOW + 3600 * SECOND
        allowed, tat = spend(POLICY, far_future, NOW)
        assert not allowed
        assert tat == NOW + POLICY.tolerance
        assert spend(POLICY, tat, NOW + POLICY.interval)[0]


class TestDecision:
    def test_remaining_counts_down_to_zero(self) -> None:
        tat, remaining = 0, []
        for _ in range(5):
            _, tat = spend(POLICY, tat, NOW)
            remaining.append(Decision.from_debt(POLICY, True, tat - NOW).remaining)
        assert remaining == [4, 3, 2, 1, 0]

    def test_reset_is_the_whole_seconds_until_the_bucket_is_full(self) -> None:
        assert Decision.from_debt(POLICY, True, POLICY.interval).reset == 1
        assert Decision.from_debt(POLICY, True, POLICY.tolerance).reset == 3  # 2.5 s, rounded up

    def test_a_refusal_asks_to_retry_after_the_next_token_never_after_zero_seconds(self) -> None:
        refused = Decision.from_debt(POLICY, False, POLICY.tolerance)
        assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 1)
        almost = Decision.from_debt(POLICY, False, POLICY.tolerance - POLICY.interval + 1)
        assert almost.retry_after == 1

    def test_limit_is_the_burst(self) -> None:
        assert Decision.from_debt(POLICY, True, 0).limit == 5


class TestPolicy:
    def test_interval_and_tolerance_are_exact_microseconds(self) -> None:
        assert Policy.of(per_second=100, burst=200) == Policy(200, 10_000, 2_000_000)
        assert Policy.of(per_second=3, burst=1).interval == 333_333
        assert Policy.of(per_second=1_000_000, burst=1).interval == 1
