"""The customer store on an embedded SQLite file.

sqlite3 calls block, so they run on a small thread pool, each thread with its own
connection. WAL mode (set by the migrations) lets every worker process read while one
writes; a busy writer is waited for up to the statement timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from expensicat.customers.cursor import Position
from expensicat.customers.fields import PUBLIC_FIELDS, Customer
from expensicat.customers.store import KeyClaim, KeyHold, StoredCustomer
from expensicat.db.errors import unavailable

_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
# Trigrams need three characters; shorter terms are matched by scanning the page order.
_MIN_INDEXED_SEARCH = 3
# Fewer names than this containing a term (over all organizations) make it rare.
_RARE_MATCHES = 1000

COLUMNS = ", ".join(PUBLIC_FIELDS)
INSERT_FIELDS = (*PUBLIC_FIELDS, "name_search")
INSERT = (
    f"INSERT INTO customers ({', '.join(INSERT_FIELDS)}) "
    f"VALUES ({', '.join('?' for _ in INSERT_FIELDS)})"
)
FETCH = f"SELECT {COLUMNS}, version FROM customers WHERE organization_id = ? AND id = ?"
FETCH_VERSION = "SELECT updated_at, version FROM customers WHERE organization_id = ? AND id = ?"
RECORD_RESPONSE = (
    "UPDATE idempotency_keys SET response = ? WHERE organization_id = ? AND key = ? "
    "AND locked_until = ? AND response IS NULL"
)
FIND_KEY = (
    "SELECT request_hash, response, created_at, locked_until FROM idempotency_keys "
    "WHERE organization_id = ? AND key = ?"
)
CLAIM_KEY = (
    "INSERT OR REPLACE INTO idempotency_keys "
    "(organization_id, key, request_hash, response, created_at, locked_until) "
    "VALUES (?, ?, ?, NULL, ?, ?)"
)

# Errors of the file rather than of the statement: damaged, or not a database at all.
# Locked past the busy timeout, unreadable, read-only or full are OperationalErrors.
_BROKEN_FILE = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}

T = TypeVar("T")


class SqliteStore:
    def __init__(self, path: Path, timeout: float = 5.0, threads: int = 4) -> None:
        self._path = path
        self._timeout = timeout
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="sqlite")
        # SQLite takes one writer at a time: a process's writes queue here, in order, rather
        # than in SQLite's busy handler, whose growing sleeps make the slowest write wait long.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._local = threading.local()
        self._connections: set[sqlite3.Connection] = set()
        self._lock = threading.Lock()

    async def insert(
        self, customer: Customer, name_search: str, hold: KeyHold | None = None
    ) -> bool:
        values = (*[customer[field] for field in PUBLIC_FIELDS], name_search)
        if hold is None:
            await self._run(lambda db: db.execute(INSERT, values), writes=True)
            return True
        organization_id = customer["organization_id"]

        def insert_holding_key(db: sqlite3.Connection) -> bool:
            with _transaction(db):
                held = db.execute(
                    RECORD_RESPONSE, (hold.response, organization_id, hold.key, hold.lease_until)
                )
                if held.rowcount != 1:
                    return False
                db.execute(INSERT, values)
                return True

        return await self._run(insert_holding_key, writes=True)

    async def claim_key(
        self,
        organization_id: str,
        key: str,
        request_hash: str,
        now: str,
        lease_until: str,
        expired_before: str,
    ) -> KeyClaim:
        def claim(db: sqlite3.Connection) -> KeyClaim:
            with _transaction(db):
                row = db.execute(FIND_KEY, (organization_id, key)).fetchone()
                if row is not None:
                    stored_hash, response, created_at, locked_until = row
                    abandoned = response is None and locked_until < now
                    if not (abandoned or created_at < expired_before):
                        return KeyClaim(claimed=False, request_hash=stored_hash, response=response)
                db.execute(CLAIM_KEY, (organization_id, key, request_hash, now, lease_until))
                return KeyClaim(claimed=True)

        return await self._run(claim, writes=True)

    async def release_key(self, organization_id: str, key: str) -> None:
        await self._run(
            lambda db: db.execute(
                "DELETE FROM idempotency_keys "
                "WHERE organization_id = ? AND key = ? AND response IS NULL",
                (organization_id, key),
            ),
            writes=True,
        )

    async def purge_keys(self, created_before: str) -> None:
        await self._run(
            lambda db: db.execute(
                "DELETE FROM idempotency_keys WHERE created_at < ?", (created_before,)
            ),
            writes=True,
        )

    async def fetch(self, organization_id: str, customer_id: str) -> StoredCustomer | None:
        row = await self._run(
            lambda db: db.execute(FETCH, (organization_id, customer_id)).fetchone()
        )
        return None if row is None else _stored(row)

    async def update(
        self,
        organization_id: str,
        customer_id: str,
        changes: dict[str, str | None],
        now: str,
        expected_version: int | None,
    ) -> StoredCustomer | None:
        assignments = "".join(f"{field} = ?, " for field in changes)
        sql = (
            f"UPDATE customers SET {assignments}version = version + 1, updated_at = ? "
            f"WHERE organization_id = ? AND id = ? RETURNING {COLUMNS}, version"
        )

        def write(db: sqlite3.Connection) -> StoredCustomer | None:
            with _transaction(db):
                current = db.execute(FETCH_VERSION, (organization_id, customer_id)).fetchone()
                if current is None or expected_version not in (None, current[1]):
                    return None
                updated_at = _later_than(current[0], now)
                row = db.execute(
                    sql, (*changes.values(), updated_at, organization_id, customer_id)
                ).fetchone()
                return _stored(row)

        return await self._run(write, writes=True)

    async def list_page(
        self, organization_id: str, limit: int, after: Position | None, search: str
    ) -> list[Customer]:
        def page(db: sqlite3.Connection) -> list[Customer]:
            conditions = ["organization_id = ?"]
            args: list[Any] = [organization_id]
            if after is not None:
                conditions.append("(created_at, id) < (?, ?)")
                args += [after.created_at, after.id]
            if _is_rare(db, search):
                conditions.append(
                    "seq IN (SELECT rowid FROM customer_names WHERE customer_names MATCH ?)"
                )
                args.append(_phrase(search))
            if search:
                conditions.append("instr(name_search, ?) > 0")
                args.append(search)
            # The page's rows are picked from the page-order index alone (it carries the
            # folded name), or among a rare term's few matches, then fetched by rowid.
            sql = (
                f"SELECT {COLUMNS} FROM customers WHERE seq IN (SELECT seq FROM customers "
                f"WHERE {' AND '.join(conditions)} ORDER BY created_at DESC, id DESC LIMIT ?) "
                "ORDER BY created_at DESC, id DESC"
            )
            return [
                dict(zip(PUBLIC_FIELDS, row, strict=True))
                for row in db.execute(sql, (*args, limit))
            ]

        return await self._run(page)

    async def ping(self) -> None:
        await self._run(lambda db: db.execute("SELECT 1 FROM customers LIMIT 1").fetchall())

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    async def _run(self, work: Callable[[sqlite3.Connection], T], *, writes: bool = False) -> T:
        executor = self._writer if writes else self._executor
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self._work, work, time.monotonic())

    def _work(self, work: Callable[[sqlite3.Connection], T], queued_at: float) -> T:
        # Behind a long lock every thread is busy waiting, and requests queue for a thread:
        # the queue and the lock share one timeout, so none waits longer than that in all.
        left = self._timeout - (time.monotonic() - queued_at)
        if left <= 0:
            raise unavailable(TimeoutError("no database thread was free in time"))
        try:
            connection = self._connection()
            self._limit_busy_wait(connection, left)
            return work(connection)
        except sqlite3.Error as error:
            if not (isinstance(error, sqlite3.OperationalError) or _broken_file(error)):
                raise
            # Open the file afresh next time: it may be restored or remounted meanwhile.
            self._forget_connection()
            raise unavailable(error) from error

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._local.connection = connection
            self._local.busy_tenths = None
            with self._lock:
                self._connections.add(connection)
            connection.execute("PRAGMA synchronous = FULL")
        return connection

    def _limit_busy_wait(self, connection: sqlite3.Connection, left: float) -> None:
        """Wait for another writer's lock only as long as the timeout has left, counted in
        tenths of it so that few distinct statements ever reach the statement cache."""
        tenths = round(10 * left / self._timeout)
        if tenths != self._local.busy_tenths:
            connection.execute(f"PRAGMA busy_timeout = {int(self._timeout * 100 * tenths)}")
            self._local.busy_tenths = tenths

    def _forget_connection(self) -> None:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            return
        self._local.connection = None
        with self._lock:
            self._connections.discard(connection)
        connection.close()


def _broken_file(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in _BROKEN_FILE


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the write lock up front, committed unless it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _stored(row: tuple[Any, ...]) -> StoredCustomer:
    return StoredCustomer(customer=dict(zip(PUBLIC_FIELDS, row[:-1], strict=True)), version=row[-1])


def _later_than(previous: str, now: str) -> str:
    """`now`, or a microsecond after `previous` if the clock has not moved past it."""
    if now > previous:
        return now
    return (datetime.strptime(previous, _TIMESTAMP) + timedelta(microseconds=1)).strftime(
        _TIMESTAMP
    )


def _is_rare(db: sqlite3.Connection, search: str) -> bool:
    """Whether the trigram index beats walking the page order: few names contain the term.

    A common term fills a page within the first few hundred customers in page order, at a
    cost that does not grow with the organization; a rare one is found among its few
    matches in the trigram index instead of by reading the whole organization.
    """
    if len(search) < _MIN_INDEXED_SEARCH:
        return False
    (matches,) = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM customer_names WHERE customer_names MATCH ? LIMIT ?)",
        (_phrase(search), _RARE_MATCHES),
    ).fetchone()
    return bool(matches < _RARE_MATCHES)


def _phrase(search: str) -> str:
    """An FTS5 phrase query: with the trigram tokenizer, a substring match."""
    return '"' + search.replace('"', '""') + '"'
