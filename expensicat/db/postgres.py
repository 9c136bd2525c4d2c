"""The customer store on PostgreSQL, through an asyncpg connection pool.

Every request is one statement and one round trip: no transaction wrapper around reads,
timestamps formatted by the server, a unit of work compiled into one statement; and reads
by id waiting for a connection share one (reads_by_id.py). Statement texts are fixed (an
update's per set of fields), so the prepared-statement cache keeps them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg

from expensicat.config import DatabaseSettings
from expensicat.customers.fields import Customer
from expensicat.db.compiled import POSTGRES, Compiled
from expensicat.db.connection_pool import ConnectionPool
from expensicat.db.errors import unavailable
from expensicat.db.filtered_pages import like_pattern
from expensicat.db.postgres_pages import FIRST_PAGE, PAGE_AFTER, SEARCH
from expensicat.db.reads_by_id import ReadsById, Statement
from expensicat.db.store import PageRequest, Row, Store, Values, customers_in_order
from expensicat.db.unit_of_work import Plan

# The search statement's text as the server sees it, where its plans can be looked up.
SEARCH_PAGE = SEARCH.sql

# Errors that mean the server is gone, refusing us or too slow, as opposed to a bad statement:
# refused or reset connections and unresolvable hosts (OSError), timeouts, class 08
# (connection lost), class 57 (cancelled, shutting down, starting up, crashed), class 53 (too
# many connections, disk full), a standby that refuses writes, a connection closed under us,
# and the client's own protocol state broken by a server that went away mid-conversation.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

# Set on every connection that caches its statements: see PostgresDriver.connect.
ONE_PLAN_FOR_ALL = "SET plan_cache_mode = force_generic_plan"

# How long closing a connection whose statement failed may wait for the server to confirm
# the statement's cancellation. A live server answers in milliseconds; a silent one costs this
# much, then the connection is dropped and the pool opens a new one when the server is back.
RELEASE_GRACE_SECONDS = 0.5


def is_unavailable(error: BaseException) -> bool:
    """True for a database that cannot serve us now; false for a bug (bad SQL, bad argument)."""
    # Invalid query arguments are InterfaceErrors too, and ValueErrors: those are bugs.
    return isinstance(error, _UNAVAILABLE) and not isinstance(error, ValueError)


class PostgresDriver:
    """Runs the store's statements on a pool of connections, each within the timeout."""

    dialect = POSTGRES

    def __init__(self, pool: ConnectionPool, timeout: float, searches: int) -> None:
        self._pool = pool
        self._timeout = timeout
        # Turns for name searches, taken before a connection: see DatabaseSettings.searches.
        self._search_turns = asyncio.Semaphore(searches)
        self._waiting = 0  # requests waiting for a turn or a connection, for the metrics

    @classmethod
    async def connect(cls, database: DatabaseSettings) -> PostgresDriver:
        timeout = database.statement_timeout_ms / 1000

        async def connect() -> asyncpg.Connection:
            connection = await asyncpg.connect(
                database.url,
                # With caching off, statements stay unnamed, as PgBouncer's transaction mode
                # needs.
                statement_cache_size=100 if database.statement_cache else 0,
                # Enforced by the client (it cancels the statement on the server), so the
                # bound holds through PgBouncer too, which refuses unknown startup parameters.
                command_timeout=timeout,
                timeout=timeout,
                server_settings={"application_name": "expensicat"},
            )
            if database.statement_cache:
                # Every statement's indexes lead with the organization, so one plan serves
                # every organization; left to choose, the server planned a list page afresh
                # on each call for the largest one (its cost model favours a LIMIT over many
                # rows), which doubled the server's time per page, and so it did the search
                # function's statements. Without the cache (PgBouncer in transaction mode)
                # the session is shared, and nothing is set in it.
                await connection.execute(ONE_PLAN_FOR_ALL)
            return connection

        pool = ConnectionPool(connect, database.pool_size, RELEASE_GRACE_SECONDS)
        return cls(pool, timeout, database.searches)

    async def read(self, query: Compiled, values: Values) -> list[Row]:
        return await self._fetch(query, values)

    async def write(self, plan: Plan, values: Values) -> list[Row]:
        # Compiled for PostgreSQL, a unit of work is one statement: atomic on its own.
        assert plan.one_statement
        return await self._fetch(plan.write, values)

    async def write_each(self, plan: Plan, values: Sequence[Values]) -> None:
        assert plan.one_statement
        args = [plan.write.args(one) for one in values]
        async with _Lease(self) as lease:
            # Sent as one pipelined batch, and atomic as a whole.
            await lease.connection.executemany(plan.write.sql, args, timeout=lease.remaining())

    async def page(self, request: PageRequest) -> list[Customer]:
        after = request.after
        values: dict[str, Any] = {
            "organization_id": request.organization_id,
            "limit": request.limit,
            "archived": request.archived,
            "after_created_at": None if after is None else after.value,
            "after_id": None if after is None else after.id,
        }
        if not request.search:
            query = FIRST_PAGE if after is None else PAGE_AFTER
            return customers_in_order(await self.read(query, values))
        values["pattern"] = like_pattern(request.search)
        return customers_in_order(await self._fetch(SEARCH, values, self._search_turns))

    async def read_when_ready(
        self, statement: Statement, turns: asyncio.Semaphore | None = None
    ) -> list[Row]:
        """Run the statement `statement()` gives once a connection is in hand: what it reads
        may grow while the request waits (see reads_by_id)."""
        async with _Lease(self, turns) as lease:
            sql, args = statement()
            rows: list[Row] = await lease.connection.fetch(sql, *args, timeout=lease.remaining())
        return rows

    def load(self) -> tuple[int, int]:
        """Connections in use, and requests waiting for one."""
        return self._pool.size - self._pool.idle, self._waiting

    async def ping(self) -> None:
        async with _Lease(self) as lease:
            await lease.connection.fetchval("SELECT 1", timeout=lease.remaining())

    async def close(self) -> None:
        """Close every connection once it is given back; drop them if that takes too long."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._pool.close()
        except Exception as error:
            if not is_unavailable(error):
                raise
            self._pool.terminate()

    async def _fetch(
        self, query: Compiled, values: Values, turns: asyncio.Semaphore | None = None
    ) -> list[Row]:
        return await self.read_when_ready(lambda: (query.sql, query.args(values)), turns)


class _Lease:
    """A pooled connection for one statement, taken and used within the statement timeout
    as a whole; with `turns`, only once one of them is free.

    Waiting for a turn or a free connection, connecting and the statement share one
    deadline, so a full pool or a silent server answers as unavailable in time, never hangs.
    A plain class rather than asynccontextmanager, and asyncpg's own timer on the statement
    rather than asyncio.timeout around it: on a read by id they cost 3 and 7 µs of CPU.
    """

    __slots__ = ("_driver", "_loop", "_taken", "_turns", "connection", "deadline")

    def __init__(self, driver: PostgresDriver, turns: asyncio.Semaphore | None = None) -> None:
        self._driver = driver
        self._turns = turns
        self._taken: asyncio.Semaphore | None = None  # the turns one was taken from
        self._loop = asyncio.get_running_loop()
        self.deadline = self._loop.time() + driver._timeout
        self.connection: asyncpg.Connection

    def remaining(self) -> float:
        """Seconds left before the deadline (asyncpg refuses to start a statement at 0)."""
        return self.deadline - self._loop.time()

    async def __aenter__(self) -> _Lease:
        driver = self._driver
        driver._waiting += 1
        try:
            if self._turns is not None:
                async with asyncio.timeout_at(self.deadline):
                    await self._turns.acquire()
                self._taken = self._turns
            self.connection = await driver._pool.acquire(self.deadline)
        except BaseException as error:
            self._give_turn_back()
            if is_unavailable(error):
                raise unavailable(error) from error
            raise
        finally:
            driver._waiting -= 1
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> None:
        try:
            if error is None:
                self._driver._pool.release(self.connection)
                return
            lost = is_unavailable(error)
            # The server refused the statement (a constraint, say) and is ready for the next
            # one; anything else (a timeout, a lost connection) leaves the connection in a
            # state not worth reusing.
            if lost or not isinstance(error, asyncpg.PostgresError):
                await self._driver._pool.discard(self.connection)
            else:
                self._driver._pool.release(self.connection)
            if lost:
                raise unavailable(error) from error
        finally:
            self._give_turn_back()

    def _give_turn_back(self) -> None:
        if self._taken is not None:
            self._taken.release()
            self._taken = None


class PostgresStore(Store):
    """The customer store on PostgreSQL."""

    def __init__(self, driver: PostgresDriver) -> None:
        super().__init__(driver)
        self._reads = ReadsById(driver.read_when_ready, self._queries.fetch)

    @classmethod
    async def connect(cls, database: DatabaseSettings) -> PostgresStore:
        return cls(await PostgresDriver.connect(database))

    async def _fetch_row(self, organization_id: str, customer_id: str) -> Row | None:
        return await self._reads.read(organization_id, customer_id)

    def load(self) -> tuple[int, int]:
        in_use, waiting = super().load()
        return in_use, waiting + self._reads.riding
