"""One budget per organization across the worker processes of a host, and across hosts.

Each burst asks for three times the budget at once; exactly the budget gets through,
plus the tokens that came back while the burst was being answered.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET, bearer, session_token

pytestmark = pytest.mark.slow

PER_SECOND = 1
BURST = 20
REQUESTS = 3 * BURST
BUDGET = {"rate_limit_per_second": str(PER_SECOND), "rate_limit_burst": str(BURST)}


def assert_one_budget(statuses: Counter[int], seconds: float) -> None:
    assert set(statuses) == {200, 429}, statuses
    refilled = math.ceil(seconds * PER_SECOND)
    assert BURST <= statuses[200] <= BURST + refilled, (statuses, seconds)


def new_org() -> str:
    return f"org-{uuid.uuid4().hex[:12]}"


def host(
    data_dir: Path, log: Path, shared: Mapping[str, str] | None = None, workers: int = 1
) -> ApiServer:
    """A server with a data directory of its own, on the budget under test."""
    env = {"data_dir": str(data_dir), "session_secret": TEST_SECRET, **BUDGET, **(shared or {})}
    return ApiServer(log, env=env, workers=workers)


def fire(urls: list[str], organization: str, count: int) -> tuple[Counter[int], float]:
    """`count` reads at once for one organization, spread over `urls` on fresh connections.

    Returns how many of each status came back, and the seconds the burst took.
    """

    async def burst() -> list[int]:
        headers = bearer(session_token(organization))
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
        async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
            requests = [
                client.get(f"{urls[index % len(urls)]}/api/v1/customers") for index in range(count)
            ]
            return [response.status_code for response in await asyncio.gather(*requests)]

    started = time.monotonic()
    statuses = asyncio.run(burst())
    return Counter(statuses), time.monotonic() - started


class TestOneHost:
    def test_workers_of_one_server_share_the_budget(self, tmp_path: Path) -> None:
        with host(tmp_path, tmp_path / "serve.log", workers=2) as server:
            statuses, seconds = fire([server.url], new_org(), REQUESTS)
        assert_one_budget(statuses, seconds)


class TestSeveralHosts:
    def test_servers_sharing_redis_share_the_budget(
        self, tmp_path: Path, postgres_server: PostgresServer, redis_server: RedisServer
    ) -> None:
        database = f"ratelimit_{uuid.uuid4().hex[:8]}"
        postgres_server.create_database(database)
        shared = {"database_url": postgres_server.url(database), "redis_url": redis_server.url}
        with (
            host(tmp_path / "host-a", tmp_path / "a.log", shared) as first,
            host(tmp_path / "host-b", tmp_path / "b.log", shared) as second,
        ):
            statuses, seconds = fire([first.url, second.url], new_org(), REQUESTS)
        assert_one_budget(statuses, seconds)
