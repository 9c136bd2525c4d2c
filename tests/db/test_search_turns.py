"""Name searches on PostgreSQL take turns, a few per worker at once, while other statements
go on on the rest of the pool."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from expensicat.config import DatabaseSettings
from expensicat.db.migrate import upgrade
from expensicat.db.postgres import PostgresDriver
from expensicat.db.store import PageRequest, Store
from tests.conftest import make_settings
from tests.support.load import until_load

pytestmark = pytest.mark.anyio

ORG = "org-search-turns"
SEARCH = PageRequest(ORG, 21, None, "acme")


@pytest.fixture
def database(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> DatabaseSettings:
    settings = make_settings(
        postgres_url, tmp_path_factory.mktemp("turns"), db_pool_size="4", db_searches="1"
    )
    upgrade(settings.database)
    return settings.database


async def test_a_second_search_waits_for_the_turn_while_a_read_by_id_goes_ahead(
    driver: PostgresDriver, database: DatabaseSettings
) -> None:
    # A table lock held elsewhere keeps the first search running, holding its turn.
    blocker = await asyncpg.connect(database.url)
    lock = blocker.transaction()
    await lock.start()
    await blocker.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
    try:
        first = asyncio.create_task(driver.page(SEARCH))
        await until_load((1, 0), driver.load, "the first search runs")
        second = asyncio.create_task(driver.page(SEARCH))
        await until_load((1, 1), driver.load, "the second search waits for the turn")
        # A read by id takes a connection of its own (and meets the lock too).
        read = asyncio.create_task(Store(driver).fetch(ORG, str(uuid.uuid4())))
        await until_load((2, 1), driver.load, "the read runs beside it")
    finally:
        await lock.rollback()
        await blocker.close()

    assert await first == await second
    assert await read is None
    assert driver.load() == (0, 0)
