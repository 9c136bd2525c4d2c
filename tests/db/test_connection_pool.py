"""The PostgreSQL connection pool: bounded, fair to waiters, and never loses a connection,
on a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from expensicat.db.connection_pool import ConnectionPool, PoolClosed

pytestmark = pytest.mark.anyio

MAX_SIZE = 2


@pytest.fixture
async def pool(postgres_url: str) -> AsyncIterator[ConnectionPool]:
    opened: list[asyncpg.Connection] = []

    async def connect() -> asyncpg.Connection:
        connection = await asyncpg.connect(postgres_url)
        opened.append(connection)
        return connection

    pool = ConnectionPool(connect, MAX_SIZE, close_timeout=1)
    yield pool
    await pool.close()
    assert all(connection.is_closed() for connection in opened)


async def backend_pid(connection: asyncpg.Connection) -> int:
    pid: int = await connection.fetchval("SELECT pg_backend_pid()")
    return pid


async def test_a_connection_given_back_is_the_next_one_handed_out(pool: ConnectionPool) -> None:
    first = await pool.acquire()
    pid = await backend_pid(first)
    pool.release(first)

    again = await pool.acquire()

    assert await backend_pid(again) == pid
    assert (pool.size, pool.idle) == (1, 0)
    pool.release(again)


async def test_no_more_than_max_size_are_opened_and_waiters_are_served_in_order(
    pool: ConnectionPool,
) -> None:
    held = [await pool.acquire() for _ in range(MAX_SIZE)]
    served: list[int] = []

    async def wait(n: int) -> None:
        connection = await pool.acquire()
        served.append(n)
        pool.release(connection)

    waiting = [asyncio.create_task(wait(n)) for n in range(5)]
    await asyncio.sleep(0.05)
    assert served == []
    assert pool.size == MAX_SIZE

    for connection in held:
        pool.release(connection)
    await asyncio.gather(*waiting)

    assert served == [0, 1, 2, 3, 4]
    assert pool.size == MAX_SIZE


async def test_a_waiter_cancelled_by_its_deadline_loses_no_connection(
    pool: ConnectionPool,
) -> None:
    held = [await pool.acquire() for _ in range(MAX_SIZE)]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await pool.acquire()
    for connection in held:
        pool.release(connection)

    again = [await pool.acquire() for _ in range(MAX_SIZE)]

    assert pool.size == MAX_SIZE
    for connection in again:
        pool.release(connection)


async def test_each_waiter_fails_at_its_own_deadline_and_the_rest_are_served(
    pool: ConnectionPool,
) -> None:
    held = [await pool.acquire() for _ in range(MAX_SIZE)]
    now = asyncio.get_running_loop().time()
    # The third comes last with the earliest deadline: the one timer is moved up for it.
    deadlines = [now + 0.3, now + 10, now + 0.1]
    waiting = []
    for deadline in deadlines:
        waiting.append(asyncio.create_task(pool.acquire(deadline)))
        await asyncio.sleep(0)

    await asyncio.sleep(0.2)
    assert [task.done() for task in waiting] == [False, False, True]
    assert isinstance(waiting[2].exception(), TimeoutError)
    await asyncio.sleep(0.2)
    assert [task.done() for task in waiting] == [True, False, True]
    assert isinstance(waiting[0].exception(), TimeoutError)

    pool.release(held[0])
    served = await waiting[1]
    assert served is held[0]
    for connection in (served, held[1]):
        pool.release(connection)
    assert (pool.size, pool.idle) == (MAX_SIZE, MAX_SIZE)


async def test_a_write_cancelled_by_its_deadline_never_applies_once_discarded(
    pool: ConnectionPool, postgres_url: str
) -> None:
    setup = await asyncpg.connect(postgres_url)
    await setup.execute(
        "DROP TABLE IF EXISTS pool_probe; CREATE TABLE pool_probe (id int PRIMARY KEY, v text);"
        "INSERT INTO pool_probe VALUES (1, 'before')"
    )
    locker = await asyncpg.connect(postgres_url)
    await locker.execute("BEGIN; SELECT * FROM pool_probe WHERE id = 1 FOR UPDATE")
    connection = await pool.acquire()
    pid = await backend_pid(connection)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await connection.execute("UPDATE pool_probe SET v = 'after' WHERE id = 1")

    await pool.discard(connection)
    # The lock goes at once: the update was stopped on the server before discard returned,
    # not left waiting behind a closed socket to apply now.
    await locker.execute("ROLLBACK")

    await asyncio.sleep(0.2)
    assert await setup.fetchval("SELECT v FROM pool_probe WHERE id = 1") == "before"
    assert connection.is_closed()
    replacement = await pool.acquire()
    assert await backend_pid(replacement) != pid
    pool.release(replacement)
    await setup.execute("DROP TABLE pool_probe")
    await asyncio.gather(setup.close(), locker.close())


async def test_a_connection_left_in_a_transaction_is_not_reused(pool: ConnectionPool) -> None:
    connection = await pool.acquire()
    pid = await backend_pid(connection)
    await connection.execute("BEGIN")
    pool.release(connection)

    again = await pool.acquire()

    assert not again.is_in_transaction()
    assert await backend_pid(again) != pid
    pool.release(again)


async def test_a_closed_pool_refuses_new_requests(pool: ConnectionPool) -> None:
    connection = await pool.acquire()
    pool.release(connection)
    await pool.close()

    with pytest.raises(PoolClosed):
        await pool.acquire()
    assert pool.size == 0
