"""Databases for the store's own tests: a SQLite file and the PostgreSQL test database,
each migrated like production."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from expensicat.config import DatabaseSettings, Settings
from expensicat.db.migrate import upgrade
from expensicat.db.postgres import PostgresDriver
from tests.conftest import make_settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def migrated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for a migrated database of each kind; tests keep to organizations of their own."""
    data_dir = tmp_path_factory.mktemp("store")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'expensicat.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    settings = make_settings(url, data_dir)
    upgrade(settings.database)
    return settings


@pytest.fixture
async def driver(database: DatabaseSettings) -> AsyncIterator[PostgresDriver]:
    """A PostgreSQL driver on the test module's own `database`."""
    driver = await PostgresDriver.connect(database)
    try:
        yield driver
    finally:
        await driver.close()
