"""Fixtures for request budgets: a real redis-server, and apps with a small budget."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from expensicat.api.app import create_app
from expensicat.config import Settings
from expensicat.db.migrate import upgrade
from tests.conftest import Api, make_settings
from tests.support.redis import RedisServer, find_redis_server
from tests.support.required import required

# Slow enough that a handful of requests never sees a token come back mid-test.
PER_SECOND = 1
BURST = 5


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    executable = required(
        find_redis_server(), "redis-server not found (apt-get install redis-server)"
    )
    server = RedisServer(executable)
    server.start()
    yield server
    server.stop()


def limited_settings(data_dir: Path) -> Settings:
    """The app on an SQLite file in `data_dir`, with a budget of BURST refilled at PER_SECOND."""
    return make_settings(
        f"sqlite:///{data_dir / 'expensicat.db'}",
        data_dir,
        rate_limit_per_second=str(PER_SECOND),
        rate_limit_burst=str(BURST),
    )


@pytest.fixture(scope="session")
def limited_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = limited_settings(tmp_path_factory.mktemp("limited"))
    upgrade(settings.database)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def limited_api(limited_client: TestClient, org: str) -> Api:
    return Api(limited_client, org)
