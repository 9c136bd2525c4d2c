"""Request budgets per organization: the bucket math, and where the buckets live."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from expensicat.config import RateLimitSettings
from expensicat.ratelimit.gcra import Decision, Policy

BUCKETS_FILE_NAME = "ratelimit-buckets"

__all__ = ["Decision", "Limiter", "Policy", "build_limiter"]


class Limiter(Protocol):
    """Spends one request of a key's budget and says whether it was there to spend."""

    async def open(self) -> None: ...

    async def take(self, key: str) -> Decision: ...

    async def close(self) -> None: ...


def build_limiter(settings: RateLimitSettings, buckets_file: Path) -> Limiter | None:
    """The configured limiter, not yet open; None when limiting is off.

    Every process of one host shares a file of buckets in the data directory; with a
    Redis URL, every host shares Redis instead, and the file takes over while Redis is down.
    """
    if settings.per_second == 0:
        return None
    from expensicat.ratelimit.shared_file import SharedFileLimiter

    policy = Policy.of(settings.per_second, settings.burst)
    local = SharedFileLimiter(buckets_file, policy)
    if settings.redis_url is None:
        return local
    from expensicat.ratelimit.redis_limiter import RedisLimiter

    return RedisLimiter(settings.redis_url, policy, fallback=local)
