"""Buckets every host shares: one Redis key per organization, spent by an atomic Lua script.

The script reads Redis's own clock, so hosts whose clocks disagree still share one budget.
If Redis cannot be reached, each host falls back to its own shared file for a while: the
API stays up and every organization stays limited, only per host instead of in total.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from expensicat.ratelimit.gcra import Decision, Policy
from expensicat.ratelimit.shared_file import SharedFileLimiter

log = logging.getLogger("expensicat.ratelimit")

KEY_PREFIX = "expensicat:ratelimit:"
TIMEOUT_SECONDS = 0.5
# After a failure, requests skip Redis this long rather than each waiting for a timeout.
FALLBACK_SECONDS = 1.0

# The same arithmetic as gcra.spend. KEYS[1]: the bucket; ARGV: interval, tolerance (µs).
SPEND = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
tat = math.min(math.max(tat, now), now + tolerance)
if tat + interval - now > tolerance then
  return {0, tat - now}
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
return {1, tat - now}
"""


class RedisLimiter:
    def __init__(self, url: str, policy: Policy, fallback: SharedFileLimiter) -> None:
        self.policy = policy
        self._fallback = fallback
        self._redis = Redis.from_url(
            url,
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
            # One retry replaces a pooled connection Redis closed; more would only add delay.
            retry=Retry(NoBackoff(), 1),
        )
        self._spend = self._redis.register_script(SPEND)
        self._args = (policy.interval, policy.tolerance)
        self._redis_down_until = 0.0

    async def open(self) -> None:
        await self._fallback.open()

    async def take(self, key: str) -> Decision:
        if time.monotonic() < self._redis_down_until:
            return await self._fallback.take(key)
        try:
            allowed, debt = await self._spend(keys=[KEY_PREFIX + key], args=self._args)
        except RedisError as error:
            log.warning("Redis unreachable, limiting per host for now: %s", error)
            self._redis_down_until = time.monotonic() + FALLBACK_SECONDS
            return await self._fallback.take(key)
        return Decision.from_debt(self.policy, allowed == 1, int(debt))

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()
