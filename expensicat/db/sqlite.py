"""The customer store on an embedded SQLite file: its driver.

sqlite3 calls block. A read that stays small (a lookup, a page) runs on the event loop's
own connection, which costs less than handing it to a thread; one that outgrows a budget
of steps, or would wait for a lock, is abandoned and run again on a small thread pool,
each thread with its own connection. Writes queue for one writer thread. WAL mode (set by
the migrations) lets every worker process read while one writes; a busy writer is waited
for up to the statement timeout, which also bounds every read on a thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypedDict, TypeVar

from expensicat.customers.fields import Customer
from expensicat.db.compiled import SQLITE, Compiled
from expensicat.db.errors import DatabaseUnavailable, unavailable
from expensicat.db.sqlite_connections import ThreadConnections
from expensicat.db.sqlite_search import read_page
from expensicat.db.store import PageRequest, Row, Store, Values
from expensicat.db.unit_of_work import Plan, run_in_transaction

if TYPE_CHECKING:
    from typing_extensions import Unpack

# UPSERT ... RETURNING, which claiming an idempotency key and every write rely on.
if sqlite3.sqlite_version_info < (3, 35):
    raise ImportError(f"SQLite 3.35 or later is needed; this is {sqlite3.sqlite_version}")

# How far a read may go on the event loop, in SQLite VM steps: a lookup or a page takes a
# few hundred to a few tens of thousands, this many take a few milliseconds. Progress
# handlers look at the budget, and at the clock on threads, once per thousand steps.
INLINE_STEPS = 100_000
_STEPS_PER_CHECK = 1000

# Errors of the file rather than of the statement: damaged, or not a database at all.
# Locked past the busy timeout, unreadable, read-only or full are OperationalErrors.
_BROKEN_FILE = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}

T = TypeVar("T")


class SqliteDriver:
    """Runs the store's statements on a SQLite file, reads inline or on threads, writes on
    the one writer thread."""

    dialect = SQLITE

    def __init__(
        self,
        path: Path,
        timeout: float = 5.0,
        threads: int = 4,
        inline_steps: int = INLINE_STEPS,
    ) -> None:
        self._timeout = timeout
        self._inline_checks = max(inline_steps // _STEPS_PER_CHECK, 1)
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="sqlite")
        # SQLite takes one writer at a time: a process's writes queue here, in order, rather
        # than in SQLite's busy handler, whose growing sleeps make the slowest write wait long.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._write_turns = WriteTurns(path)
        self._connections = ThreadConnections(path, timeout)
        self._threads = threads + 1  # the readers and the writer
        self._on_threads = 0  # work handed to a thread and not yet done, for the metrics

    async def read(self, query: Compiled, values: Values) -> list[Row]:
        args = query.args(values)
        return await self._read_small_first(lambda db: db.execute(query.sql, args).fetchall())

    async def write(self, plan: Plan, values: Values) -> list[Row]:
        return await self._on_thread(lambda db: run_in_transaction(db, plan, values), writes=True)

    async def write_each(self, plan: Plan, values: Sequence[Values]) -> None:
        def run_each(db: sqlite3.Connection) -> None:
            for one in values:
                run_in_transaction(db, plan, one)

        await self._on_thread(run_each, writes=True)

    async def page(self, request: PageRequest) -> list[Customer]:
        return await self._read_small_first(lambda db: read_page(db, request))

    def load(self) -> tuple[int, int]:
        """Threads busy, and work queued for one."""
        return min(self._on_threads, self._threads), max(self._on_threads - self._threads, 0)

    async def ping(self) -> None:
        await self._read_small_first(
            lambda db: db.execute("SELECT 1 FROM customers LIMIT 1").fetchall()
        )

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        self._write_turns.close()
        self._connections.close()

    async def _read_small_first(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on the event loop's own connection if it fits the budget; otherwise
        again on a thread, within the statement timeout."""
        try:
            return self._read_on_loop(work)
        except _OverBudget:
            return await self._on_thread(work)

    def _read_on_loop(self, work: Callable[[sqlite3.Connection], T]) -> T:
        steps = _Budget(self._inline_checks)
        try:
            # The loop must never sleep in SQLite's busy handler: a lock goes to a thread.
            connection = self._connections.get(0)
            connection.set_progress_handler(steps.spend, _STEPS_PER_CHECK)
            return work(connection)
        except sqlite3.Error as error:
            if steps.spent or _error_code(error) == sqlite3.SQLITE_BUSY:
                raise _OverBudget from error
            raise self._failed(error) from error

    async def _on_thread(
        self, work: Callable[[sqlite3.Connection], T], *, writes: bool = False
    ) -> T:
        executor = self._writer if writes else self._executor
        loop = asyncio.get_running_loop()
        self._on_threads += 1
        try:
            return await loop.run_in_executor(
                executor, self._within_deadline, work, time.monotonic(), not writes
            )
        finally:
            self._on_threads -= 1

    def _within_deadline(
        self, work: Callable[[sqlite3.Connection], T], queued_at: float, reads: bool
    ) -> T:
        # Behind a long lock every thread is busy waiting, and requests queue for a thread:
        # the queue, the turn to write and the lock share one timeout, so none waits longer
        # than that in all.
        deadline = queued_at + self._timeout
        with nullcontext() if reads else self._write_turns.taken():
            left = deadline - time.monotonic()
            if left <= 0:
                raise unavailable(TimeoutError("no database thread was free in time"))
            try:
                connection = self._connections.get(left)
                if reads:
                    # A read that runs past the timeout is interrupted (a write only ever
                    # waits for the lock, which the busy timeout bounds).
                    connection.set_progress_handler(
                        lambda: time.monotonic() > deadline, _STEPS_PER_CHECK
                    )
                return work(connection)
            except sqlite3.Error as error:
                raise self._failed(error) from error

    def _failed(self, error: sqlite3.Error) -> DatabaseUnavailable:
        """The 503 for an error of the file, a lock or a timeout; any other error (a
        constraint, a bug) is raised as it is."""
        if not (isinstance(error, sqlite3.OperationalError) or _broken_file(error)):
            raise error
        # Open the file afresh next time: it may be restored or remounted meanwhile.
        self._connections.forget()
        return unavailable(error)


class _OverBudget(Exception):
    """A read left the event loop: past its budget of steps, or meeting a lock."""


class _Budget:
    """A progress handler that stops a statement once it has been called `checks` times."""

    def __init__(self, checks: int) -> None:
        self._left = checks

    def spend(self) -> bool:
        self._left -= 1
        return self._left < 0

    @property
    def spent(self) -> bool:
        return self._left < 0


def _error_code(error: sqlite3.Error) -> int:
    """The primary result code (extended codes carry it in their low byte)."""
    return int(getattr(error, "sqlite_errorcode", 0)) & 0xFF


def _broken_file(error: sqlite3.Error) -> bool:
    return _error_code(error) in _BROKEN_FILE


class SqliteOptions(TypedDict, total=False):
    """How a SQLite store bounds its work; see SqliteDriver."""

    timeout: float
    threads: int
    inline_steps: int


class SqliteStore(Store):
    """The customer store on an embedded SQLite file."""

    def __init__(self, path: Path, **options: Unpack[SqliteOptions]) -> None:
        super().__init__(SqliteDriver(path, **options))


class WriteTurns:
    """Processes writing to one file take turns through a lock file beside it. SQLite's own
    busy handler polls with sleeps that grow to 100 ms, so a process that just committed
    takes the lock again before a waiting one wakes, over and over: under a steady load of
    creates from two workers, some waited seconds (p99 1.5 s, and now and then past the
    statement timeout). A process waiting here sleeps in the kernel, which wakes it as soon
    as the lock is let go (p99 65 ms at the same rate)."""

    def __init__(self, database: Path) -> None:
        self._path = database.with_name(database.name + ".write-turns")
        self._file: TextIO | None = None  # opened by the first write

    @contextmanager
    def taken(self) -> Iterator[None]:
        try:
            if self._file is None:
                self._file = open(self._path, "a")  # noqa: SIM115 (kept open)
            fcntl.flock(self._file, fcntl.LOCK_EX)
        except OSError as error:
            raise unavailable(error) from error
        try:
            yield
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
