"""Reads by id on PostgreSQL that wait for a connection are answered together: one statement
per organization's batch, each reader its own row, on a real server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from expensicat.config import DatabaseSettings
from expensicat.customers.store import StoredCustomer
from expensicat.db.compiled import POSTGRES
from expensicat.db.errors import DatabaseUnavailable
from expensicat.db.migrate import upgrade
from expensicat.db.postgres import PostgresDriver, PostgresStore
from expensicat.db.queries import queries_for
from expensicat.db.reads_by_id import MAX_BATCH, ReadsById, Statement
from expensicat.db.store import Row
from tests.conftest import make_settings
from tests.db.test_store_contract import insert, new_customer
from tests.support.load import until_load

pytestmark = pytest.mark.anyio

ORG = "org-reads-by-id"
OTHER_ORG = "org-reads-by-id-other"
TIMEOUT_MS = 400


@pytest.fixture(params=["postgres", "pgbouncer"])
def database(
    request: pytest.FixtureRequest, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> DatabaseSettings:
    """The test database, straight or through PgBouncer in transaction mode (unnamed
    statements only); one connection, so that every read after the first waits for it."""
    data_dir = tmp_path_factory.mktemp("reads")
    upgrade(make_settings(postgres_url, data_dir).database)
    url, cache = postgres_url, "true"
    if request.param == "pgbouncer":
        url, cache = request.getfixturevalue("pgbouncer_url"), "false"
    settings = make_settings(
        url,
        data_dir,
        db_pool_size="1",
        db_statement_cache=cache,
        statement_timeout_ms=str(TIMEOUT_MS),
    )
    return settings.database


@pytest.fixture
def store(driver: PostgresDriver) -> PostgresStore:
    """The store on the module's driver (which the driver fixture closes)."""
    return PostgresStore(driver)


@pytest.fixture
async def ids(store: PostgresStore) -> dict[str, list[str]]:
    """Three customers in the organization, one in another."""
    made: dict[str, list[str]] = {ORG: [], OTHER_ORG: []}
    for org, count in ((ORG, 3), (OTHER_ORG, 1)):
        for n in range(count):
            customer = new_customer(org, f"Reader {n}")
            await insert(store, customer)
            made[org].append(customer["id"])
    return made


class Blocked:
    """Reads of customers wait behind a table lock held on the server until `release`."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def __aenter__(self) -> Blocked:
        self._holder = await asyncpg.connect(self._url)
        self._lock = self._holder.transaction()
        await self._lock.start()
        await self._holder.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
        return self

    async def release(self) -> None:
        if not self._holder.is_closed():
            await self._lock.rollback()
            await self._holder.close()

    async def __aexit__(self, *_: object) -> None:
        await self.release()


def recording(driver: PostgresDriver, sizes: list[int]) -> ReadsById:
    """Reads by id on `driver` that note how many ids each statement reads."""

    async def read_when_ready(statement: Statement) -> list[Row]:
        def noted() -> tuple[str, Sequence[Any]]:
            sql, args = statement()
            sizes.append(len(args[1]) if isinstance(args[1], list) else 1)
            return sql, args

        return await driver.read_when_ready(noted)

    return ReadsById(read_when_ready, queries_for(POSTGRES).fetch)


def row_id(row: Row | None) -> str | None:
    return None if row is None else str(row[0])


def found_id(found: StoredCustomer | None) -> str | None:
    return None if found is None else found.customer["id"]


async def test_reads_waiting_for_the_connection_take_one_statement_per_organization(
    store: PostgresStore, postgres_url: str, ids: dict[str, list[str]]
) -> None:
    first, second, third = ids[ORG]
    (others,) = ids[OTHER_ORG]
    unknown = str(uuid.uuid4())
    # Per reader: the organization asking and the id; an id of another organization is
    # nobody's to read, even in a batch beside its owner's reads.
    wanted = [
        (ORG, second), (ORG, third), (ORG, second), (ORG, unknown), (ORG, others),
        (OTHER_ORG, others), (OTHER_ORG, first),
    ]  # fmt: skip
    async with Blocked(postgres_url) as blocked:
        busy = asyncio.create_task(store.fetch(ORG, first))
        await until_load((1, 0), store.load)
        reads = [asyncio.create_task(store.fetch(org, id)) for org, id in wanted]
        await until_load((1, len(wanted)), store.load)
        await blocked.release()
        answers = await asyncio.gather(*reads)

    assert found_id(await busy) == first
    assert [found_id(found) for found in answers] == [
        second, third, second, None, None, others, None,
    ]  # fmt: skip
    assert [found.customer["organization_id"] for found in answers if found is not None] == [
        ORG,
        ORG,
        ORG,
        OTHER_ORG,
    ]
    assert store.load() == (0, 0)


async def test_a_full_batch_starts_the_next_and_each_statement_reads_its_own_batch(
    driver: PostgresDriver, postgres_url: str, ids: dict[str, list[str]]
) -> None:
    sizes: list[int] = []
    reads_by_id = recording(driver, sizes)

    def load() -> tuple[int, int]:
        in_use, waiting = driver.load()
        return in_use, waiting + reads_by_id.riding

    wanted = [ids[ORG][n % 3] for n in range(MAX_BATCH + 50)]
    async with Blocked(postgres_url) as blocked:
        busy = asyncio.create_task(reads_by_id.read(ORG, ids[ORG][0]))
        await until_load((1, 0), load)
        reads = [asyncio.create_task(reads_by_id.read(ORG, id)) for id in wanted]
        await until_load((1, len(wanted)), load)
        await blocked.release()
        rows = await asyncio.gather(*reads)

    assert row_id(await busy) == ids[ORG][0]
    assert [row_id(row) for row in rows] == wanted
    assert sizes == [1, MAX_BATCH, 50]


async def test_a_leader_cancelled_while_it_waits_leaves_its_riders_answered(
    store: PostgresStore, postgres_url: str, ids: dict[str, list[str]]
) -> None:
    first, second, third = ids[ORG]
    async with Blocked(postgres_url) as blocked:
        busy = asyncio.create_task(store.fetch(ORG, first))
        await until_load((1, 0), store.load)
        leader = asyncio.create_task(store.fetch(ORG, first))
        riders = [asyncio.create_task(store.fetch(ORG, id)) for id in (second, third)]
        given_up = asyncio.create_task(store.fetch(ORG, second))
        await until_load((1, 4), store.load)
        leader.cancel()
        given_up.cancel()
        await blocked.release()
        # Left behind, the riders would wait for ever.
        async with asyncio.timeout(5):
            answers = await asyncio.gather(*riders)

    assert [found_id(found) for found in answers] == [second, third]
    assert leader.cancelled()
    assert given_up.cancelled()
    assert found_id(await busy) == first
    assert store.load() == (0, 0)


async def test_every_reader_of_a_batch_is_told_the_database_is_unavailable_in_time(
    store: PostgresStore, postgres_url: str, ids: dict[str, list[str]]
) -> None:
    loop = asyncio.get_running_loop()
    async with Blocked(postgres_url):
        started = loop.time()
        reads = [asyncio.create_task(store.fetch(ORG, id)) for id in ids[ORG] * 2]
        answers = await asyncio.gather(*reads, return_exceptions=True)
        took = loop.time() - started

    assert all(isinstance(answer, DatabaseUnavailable) for answer in answers)
    # The first read's timeout, then the batch's own: every reader answered by then.
    assert took < 2 * TIMEOUT_MS / 1000 + 0.5
    assert store.load() == (0, 0)
    assert found_id(await store.fetch(ORG, ids[ORG][0])) == ids[ORG][0]
