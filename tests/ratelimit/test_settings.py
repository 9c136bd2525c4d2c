"""EXPENSICAT_RATE_LIMIT_PER_SECOND, EXPENSICAT_RATE_LIMIT_BURST and EXPENSICAT_REDIS_URL."""

from __future__ import annotations

import pytest

from expensicat.config import ConfigError, Settings


def settings(**variables: str) -> Settings:
    return Settings.from_env({f"EXPENSICAT_{name}": value for name, value in variables.items()})


class TestRateLimitSettings:
    def test_the_default_is_100_per_second_with_bursts_of_200_on_this_host(self) -> None:
        defaults = settings()
        assert (defaults.rate_limit.per_second, defaults.rate_limit.burst) == (100, 200)
        assert defaults.rate_limit.redis_url is None

    def test_zero_turns_limiting_off(self) -> None:
        assert settings(RATE_LIMIT_PER_SECOND="0").rate_limit.per_second == 0

    def test_a_deployment_sets_its_own_budget(self) -> None:
        custom = settings(RATE_LIMIT_PER_SECOND="5000", RATE_LIMIT_BURST="10000")
        assert (custom.rate_limit.per_second, custom.rate_limit.burst) == (5000, 10000)

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("RATE_LIMIT_PER_SECOND", "-1"),
            ("RATE_LIMIT_PER_SECOND", "fast"),
            ("RATE_LIMIT_PER_SECOND", "1.5"),
            ("RATE_LIMIT_PER_SECOND", "1000001"),
            ("RATE_LIMIT_BURST", "0"),
            ("RATE_LIMIT_BURST", "many"),
            ("REDIS_URL", "localhost:6379"),
            ("REDIS_URL", "http://127.0.0.1:6379"),
        ],
    )
    def test_nonsense_is_refused_at_start(self, name: str, value: str) -> None:
        with pytest.raises(ConfigError, match=f"EXPENSICAT_{name}"):
            settings(**{name: value})

    def test_a_negative_rate_says_that_zero_turns_the_limit_off(self) -> None:
        with pytest.raises(ConfigError, match="or 0 to turn it off"):
            settings(RATE_LIMIT_PER_SECOND="-1")

    @pytest.mark.parametrize(
        "url",
        ["redis://127.0.0.1:6379/0", "rediss://cache.internal:6380", "unix:///run/redis.sock"],
    )
    def test_redis_urls_are_accepted(self, url: str) -> None:
        assert settings(REDIS_URL=url).rate_limit.redis_url == url
