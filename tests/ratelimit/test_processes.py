"""One budget per organization across the worker processes of a host, and across hosts.

Each burst asks for three times the budget at once; exactly the budget gets through,
plus the tokens that came back while the burst was being answered.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.ratelimit.servers import Server, fire, serve_env
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer

pytestmark = pytest.mark.slow

PER_SECOND = 1
BURST = 20
REQUESTS = 3 * BURST
BUDGET = {"RATE_LIMIT_PER_SECOND": str(PER_SECOND), "RATE_LIMIT_BURST": str(BURST)}


def assert_one_budget(statuses: Counter[int], seconds: float) -> None:
    assert set(statuses) == {200, 429}, statuses
    refilled = math.ceil(seconds * PER_SECOND)
    assert BURST <= statuses[200] <= BURST + refilled, (statuses, seconds)


def new_org() -> str:
    return f"org-{uuid.uuid4().hex[:12]}"


class TestOneHost:
    def test_workers_of_one_server_share_the_budget(self, tmp_path: Path) -> None:
        env = serve_env(tmp_path, **BUDGET)
        with Server(env, tmp_path / "serve.log", workers=2) as server:
            statuses, seconds = fire([server.url], new_org(), REQUESTS)
        assert_one_budget(statuses, seconds)


class TestSeveralHosts:
    def test_servers_sharing_redis_share_the_budget(
        self, tmp_path: Path, postgres_server: PostgresServer, redis_server: RedisServer
    ) -> None:
        database = f"ratelimit_{uuid.uuid4().hex[:8]}"
        postgres_server.create_database(database)
        shared = {"DATABASE_URL": postgres_server.url(database), "REDIS_URL": redis_server.url}
        hosts = [tmp_path / "host-a", tmp_path / "host-b"]
        envs = [serve_env(host, **shared, **BUDGET) for host in hosts]
        with (
            Server(envs[0], tmp_path / "a.log") as first,
            Server(envs[1], tmp_path / "b.log") as second,
        ):
            statuses, seconds = fire([first.url, second.url], new_org(), REQUESTS)
        assert_one_budget(statuses, seconds)
