"""The customer store on PostgreSQL, through an asyncpg connection pool.

Every request is one statement and one round trip: no transaction wrapper around reads,
timestamps formatted by the server, no ORM objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from expensicat.config import DatabaseSettings
from expensicat.customers.fields import PUBLIC_FIELDS, Customer, customer_from, field_values
from expensicat.customers.store import KeyClaim, KeyHold, StoredCustomer
from expensicat.db.errors import unavailable
from expensicat.paging import Position

_RFC3339 = """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"""
_EXPRESSIONS = {
    "id": "id::text",
    "created_at": f"to_char(created_at AT TIME ZONE 'UTC', {_RFC3339})",
    "updated_at": f"to_char(updated_at AT TIME ZONE 'UTC', {_RFC3339})",
}
COLUMNS = ", ".join(
    f"{_EXPRESSIONS[field]} AS {field}" if field in _EXPRESSIONS else field
    for field in PUBLIC_FIELDS
)

_INSERT_FIELDS = (*PUBLIC_FIELDS, "name_search")
# Explicit types, so the same list works as VALUES and as the SELECT list below.
_CASTS = {"id": "::uuid", "created_at": "::text::timestamptz", "updated_at": "::text::timestamptz"}
_INSERT_VALUES = ", ".join(
    f"${n}{_CASTS.get(field, '::text')}" for n, field in enumerate(_INSERT_FIELDS, start=1)
)
INSERT = f"INSERT INTO customers ({', '.join(_INSERT_FIELDS)}) VALUES ({_INSERT_VALUES})"
_KEY = len(_INSERT_FIELDS) + 1  # parameters after the customer's: key, lease, response
# The customer is inserted only if this request still holds its idempotency key, and the
# key's response is recorded in the same statement: both happen, or neither.
INSERT_HOLDING_KEY = (
    f"WITH held AS (UPDATE idempotency_keys SET response = ${_KEY + 2} "
    f"WHERE organization_id = $2 AND key = ${_KEY} "
    f"AND locked_until = ${_KEY + 1}::text::timestamptz AND response IS NULL RETURNING 1) "
    f"INSERT INTO customers ({', '.join(_INSERT_FIELDS)}) "
    f"SELECT {_INSERT_VALUES} WHERE EXISTS (SELECT 1 FROM held)"
)
CLAIM_KEY = (
    "INSERT INTO idempotency_keys AS k "
    "(organization_id, key, request_hash, created_at, locked_until) "
    "VALUES ($1, $2, $3, $4::text::timestamptz, $5::text::timestamptz) "
    "ON CONFLICT (organization_id, key) DO UPDATE SET request_hash = excluded.request_hash, "
    "response = NULL, created_at = excluded.created_at, locked_until = excluded.locked_until "
    "WHERE (k.response IS NULL AND k.locked_until < excluded.created_at) "
    "OR k.created_at < $6::text::timestamptz "
    "RETURNING true"
)
FIND_KEY = (
    "SELECT request_hash, response FROM idempotency_keys WHERE organization_id = $1 AND key = $2"
)

# Qualified ORDER BY: the bare names would mean the formatted output columns, which no index
# delivers in order, and every page would sort the whole organization.
_PAGE_ORDER = "ORDER BY customers.created_at DESC, customers.id DESC"
_LIST = f"SELECT {COLUMNS} FROM customers WHERE organization_id = $1"
LIST_FIRST_PAGE = f"{_LIST} {_PAGE_ORDER} LIMIT $2"
# A row comparison is an index bound; the equivalent OR form is only a filter.
LIST_PAGE_AFTER = (
    f"{_LIST} AND (created_at, id) < ($3::text::timestamptz, $4::uuid) {_PAGE_ORDER} LIMIT $2"
)
# search_customers (migration 0005) finds the page's ids, planned for this very term: the
# trigram index for a rare term, the page order for a common one. This statement's own plan
# is the same for every term, so it is prepared once and cached like any other.
SEARCH_PAGE = (
    f"SELECT {COLUMNS} FROM search_customers($1, $2, $3, $4::text::timestamptz, $5::uuid) "
    "AS page (page_id) JOIN customers ON customers.organization_id = $1 "
    f"AND customers.id = page.page_id {_PAGE_ORDER}"
)

FETCH = f"SELECT {COLUMNS}, version FROM customers WHERE organization_id = $1 AND id = $2::uuid"

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

# How long giving a connection back may wait for the server to confirm a cancelled statement.
# A live server answers in milliseconds; a silent one costs this much, then the connection is
# dropped and the pool opens a new one when the server is back.
RELEASE_GRACE_SECONDS = 0.5


def is_unavailable(error: BaseException) -> bool:
    """True for a database that cannot serve us now; false for a bug (bad SQL, bad argument)."""
    # Invalid query arguments are InterfaceErrors too, and ValueErrors: those are bugs.
    return isinstance(error, _UNAVAILABLE) and not isinstance(error, ValueError)


class PostgresStore:
    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    @classmethod
    async def connect(cls, database: DatabaseSettings) -> PostgresStore:
        timeout = database.statement_timeout_ms / 1000
        pool = asyncpg.create_pool(
            database.url,
            min_size=0,
            max_size=database.pool_size,
            # With caching off, statements stay unnamed, as PgBouncer's transaction mode needs.
            statement_cache_size=100 if database.statement_cache else 0,
            # Enforced by the client (it cancels the statement on the server), so the bound
            # holds through PgBouncer too, which refuses unknown startup parameters.
            command_timeout=timeout,
            timeout=timeout,
            server_settings={"application_name": "expensicat"},
            # Sessions are never altered (no SET, LISTEN or advisory locks), so handing a
            # connection back needs only the rollback asyncpg does anyway, not a reset query
            # and a second round trip per request.
            reset=_keep_session,
        )
        try:
            await pool
        except Exception as error:
            if is_unavailable(error):
                raise unavailable(error) from error
            raise
        return cls(pool, timeout)

    async def insert(
        self, customer: Customer, name_search: str, hold: KeyHold | None = None
    ) -> bool:
        values = [*_in_order(customer), name_search]
        async with self._connection() as connection:
            if hold is None:
                await connection.execute(INSERT, *values)
                return True
            status = await connection.execute(
                INSERT_HOLDING_KEY, *values, hold.key, hold.lease_until, hold.response
            )
        return bool(status == "INSERT 0 1")

    async def claim_key(
        self,
        organization_id: str,
        key: str,
        request_hash: str,
        now: str,
        lease_until: str,
        expired_before: str,
    ) -> KeyClaim:
        async with self._connection() as connection:
            claimed = await connection.fetchval(
                CLAIM_KEY, organization_id, key, request_hash, now, lease_until, expired_before
            )
            if claimed:
                return KeyClaim(claimed=True)
            row = await connection.fetchrow(FIND_KEY, organization_id, key)
        if row is None:  # purged a moment ago: as good as in flight, the retry will claim it
            return KeyClaim(claimed=False)
        return KeyClaim(claimed=False, request_hash=row[0], response=row[1])

    async def release_key(self, organization_id: str, key: str) -> None:
        async with self._connection() as connection:
            await connection.execute(
                "DELETE FROM idempotency_keys "
                "WHERE organization_id = $1 AND key = $2 AND response IS NULL",
                organization_id,
                key,
            )

    async def purge_keys(self, created_before: str) -> None:
        async with self._connection() as connection:
            await connection.execute(
                "DELETE FROM idempotency_keys WHERE created_at < $1::text::timestamptz",
                created_before,
            )

    async def fetch(self, organization_id: str, customer_id: str) -> StoredCustomer | None:
        async with self._connection() as connection:
            row = await connection.fetchrow(FETCH, organization_id, customer_id)
        return None if row is None else _stored(row)

    async def update(
        self,
        organization_id: str,
        customer_id: str,
        changes: dict[str, str | None],
        now: str,
        expected_version: int | None,
    ) -> StoredCustomer | None:
        assignments = [f"{field} = ${n}" for n, field in enumerate(changes, start=4)]
        sql = (
            f"UPDATE customers SET {', '.join(assignments)}, version = version + 1, "
            "updated_at = greatest($3::text::timestamptz, updated_at + interval '1 microsecond') "
            "WHERE organization_id = $1 AND id = $2::uuid"
        )
        args: list[Any] = [organization_id, customer_id, now, *changes.values()]
        if expected_version is not None:
            args.append(expected_version)
            sql += f" AND version = ${len(args)}"
        async with self._connection() as connection:
            row = await connection.fetchrow(f"{sql} RETURNING {COLUMNS}, version", *args)
        return None if row is None else _stored(row)

    async def list_page(
        self, organization_id: str, limit: int, after: Position | None, search: str
    ) -> list[Customer]:
        after_key: list[str | None] = [] if after is None else [after.created_at, after.id]
        if search:
            sql = SEARCH_PAGE
            pattern = f"%{_escape_like(search)}%"
            args = [organization_id, pattern, limit, *(after_key or [None, None])]
        else:
            sql = LIST_FIRST_PAGE if after is None else LIST_PAGE_AFTER
            args = [organization_id, limit, *after_key]
        async with self._connection() as connection:
            rows = await connection.fetch(sql, *args)
        return [customer_from(row) for row in rows]

    async def ping(self) -> None:
        async with self._connection() as connection:
            await connection.fetchval("SELECT 1")

    async def close(self) -> None:
        """Close every connection once it is given back; drop them if that takes too long."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._pool.close()
        except Exception as error:
            if not is_unavailable(error):
                raise
            self._pool.terminate()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, acquired and used within the statement timeout as a whole.

        Waiting for a free connection, connecting and the statement share one deadline, so a
        full pool or a silent server answers as unavailable in time, never hangs.
        """
        connection = None
        try:
            async with asyncio.timeout(self._timeout):
                connection = await self._pool.acquire()
                yield connection
        except Exception as error:
            if not is_unavailable(error):
                raise
            raise unavailable(error) from error
        finally:
            if connection is not None:
                await self._release(connection)

    async def _release(self, connection: asyncpg.Connection) -> None:
        """Give the connection back. One that fails to reset is dropped by the pool, and
        that does not undo a statement that has already completed."""
        try:
            await self._pool.release(connection, timeout=RELEASE_GRACE_SECONDS)
        except Exception as error:
            if not is_unavailable(error):
                raise


async def _keep_session(connection: asyncpg.Connection) -> None:
    return None


def _stored(row: asyncpg.Record) -> StoredCustomer:
    fields = dict(row)
    version = fields.pop("version")
    return StoredCustomer(customer=customer_from(fields), version=version)


def _escape_like(text: str) -> str:
    """Make %, _ and the escape character itself match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in_order(customer: Customer) -> list[object]:
    return field_values(customer)
