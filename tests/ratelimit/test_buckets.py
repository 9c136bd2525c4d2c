"""Where the buckets live: a file every process of a host maps, and Redis for many hosts.

Two limiters on the same store stand for two processes (or two hosts) sharing it.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import anyio
import pytest
import redis

from expensicat.ratelimit import Limiter
from expensicat.ratelimit import shared_file as shared_file_module
from expensicat.ratelimit.gcra import Policy
from expensicat.ratelimit.redis_limiter import FALLBACK_SECONDS, KEY_PREFIX, RedisLimiter
from expensicat.ratelimit.shared_file import SharedFileLimiter
from tests.support.redis import RedisServer

pytestmark = pytest.mark.anyio

OpenLimiter = Callable[[Policy], Awaitable[Limiter]]
SLOW = Policy.of(per_second=1, burst=3)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["file", "redis"])
async def open_limiter(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[OpenLimiter]:
    """Opens limiters that all share one store: the same file, or the same Redis."""
    opened: list[Limiter] = []
    fallbacks = itertools.count()

    async def open_one(policy: Policy) -> Limiter:
        limiter: Limiter = SharedFileLimiter(tmp_path / "buckets", policy)
        if request.param == "redis":
            server: RedisServer = request.getfixturevalue("redis_server")
            own_file = SharedFileLimiter(tmp_path / f"fallback-{next(fallbacks)}", policy)
            limiter = RedisLimiter(server.url, policy, fallback=own_file)
        await limiter.open()
        opened.append(limiter)
        return limiter

    yield open_one
    for limiter in opened:
        await limiter.close()


def new_key() -> str:
    return f"org-{uuid.uuid4().hex[:12]}"


class TestBuckets:
    async def test_the_burst_passes_then_requests_are_refused(
        self, open_limiter: OpenLimiter
    ) -> None:
        limiter, key = await open_limiter(SLOW), new_key()
        decisions = [await limiter.take(key) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert {d.limit for d in decisions} == {3}
        assert decisions[-1].reset == 3
        assert decisions[-1].retry_after == 1

    async def test_each_key_has_a_budget_of_its_own(self, open_limiter: OpenLimiter) -> None:
        limiter, spent, fresh = await open_limiter(SLOW), new_key(), new_key()
        for _ in range(4):
            await limiter.take(spent)
        assert (await limiter.take(fresh)).remaining == 2

    async def test_limiters_on_one_store_share_one_budget(self, open_limiter: OpenLimiter) -> None:
        first, second, key = await open_limiter(SLOW), await open_limiter(SLOW), new_key()
        answers = [(await limiter.take(key)).allowed for limiter in [first, second] * 3]
        assert answers == [True, True, True, False, False, False]

    async def test_a_token_comes_back_after_its_interval(self, open_limiter: OpenLimiter) -> None:
        limiter, key = await open_limiter(Policy.of(per_second=4, burst=1)), new_key()
        assert (await limiter.take(key)).allowed
        assert not (await limiter.take(key)).allowed
        await anyio.sleep(0.3)
        assert (await limiter.take(key)).allowed


class TestSharedFile:
    async def test_a_full_window_gives_up_the_bucket_that_fills_soonest(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # One window more than the table: every key lands in the same window.
        monkeypatch.setattr(shared_file_module, "SLOTS", shared_file_module.WINDOW + 1)
        limiter = SharedFileLimiter(tmp_path / "buckets", SLOW)
        await limiter.open()
        emptied = [new_key() for _ in range(shared_file_module.WINDOW - 1)]
        for key in emptied:
            for _ in range(3):
                await limiter.take(key)
        nearly_full = new_key()
        await limiter.take(nearly_full)

        assert (await limiter.take(new_key())).remaining == 2
        assert not any([(await limiter.take(key)).allowed for key in emptied])
        await limiter.close()


class TestRedis:
    async def test_buckets_expire_once_full_again(
        self, tmp_path: Path, redis_server: RedisServer
    ) -> None:
        limiter, key = await open_redis_limiter(redis_server, tmp_path), new_key()
        await limiter.take(key)
        await limiter.close()
        with redis.Redis(port=redis_server.port) as client:
            assert 0 < client.pttl(KEY_PREFIX + key) <= 1000

    async def test_while_redis_is_down_each_host_limits_on_its_own(
        self, tmp_path: Path, own_redis_server: RedisServer
    ) -> None:
        limiter, key = await open_redis_limiter(own_redis_server, tmp_path), new_key()
        assert (await limiter.take(key)).remaining == 2
        own_redis_server.stop()
        with anyio.fail_after(1):
            answers = [(await limiter.take(key)).allowed for _ in range(4)]
        assert answers == [True, True, True, False]
        await limiter.close()

    async def test_redis_is_used_again_once_it_is_back(
        self, tmp_path: Path, own_redis_server: RedisServer
    ) -> None:
        limiter, key = await open_redis_limiter(own_redis_server, tmp_path), new_key()
        own_redis_server.stop()
        await limiter.take(key)
        own_redis_server.start()
        await limiter.take(key)
        assert not stored_in_redis(own_redis_server, key)
        await anyio.sleep(FALLBACK_SECONDS + 0.1)
        await limiter.take(key)
        assert stored_in_redis(own_redis_server, key)
        await limiter.close()


@pytest.fixture
def own_redis_server(redis_server: RedisServer) -> Iterator[RedisServer]:
    """A redis-server this test alone may stop and start."""
    server = RedisServer(redis_server.executable)
    server.start()
    yield server
    server.stop()


async def open_redis_limiter(server: RedisServer, directory: Path) -> RedisLimiter:
    limiter = RedisLimiter(server.url, SLOW, SharedFileLimiter(directory / "fallback", SLOW))
    await limiter.open()
    return limiter


def stored_in_redis(server: RedisServer, key: str) -> bool:
    with redis.Redis(port=server.port) as client:
        return bool(client.exists(KEY_PREFIX + key))


RACE = Policy.of(per_second=1, burst=20_000)


def spend_from_another_process(path: Path, key: str, start_at: float) -> int:
    """Try to spend the whole budget, starting at the same moment as the other processes."""
    limiter = SharedFileLimiter(path, RACE)
    anyio.run(limiter.open)
    while time.time() < start_at:
        pass
    allowed = sum(limiter.take_now(key, time.time_ns() // 1000).allowed for _ in range(RACE.burst))
    anyio.run(limiter.close)
    return allowed


class TestSharedFileAcrossProcesses:
    def test_processes_racing_for_one_bucket_never_overspend(self, tmp_path: Path) -> None:
        spawn = multiprocessing.get_context("spawn")
        start_at = time.time() + 2
        with ProcessPoolExecutor(2, mp_context=spawn) as pool:
            runs = [
                pool.submit(spend_from_another_process, tmp_path / "buckets", "org-1", start_at)
                for _ in range(2)
            ]
            allowed = [run.result(timeout=60) for run in runs]
        refilled = math.ceil(time.time() - start_at)
        assert RACE.burst <= sum(allowed) <= RACE.burst + refilled, allowed
