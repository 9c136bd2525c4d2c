"""A pool of asyncpg connections for statements that leave no session state behind.

asyncpg's own pool gives every connection back through a shielded task and a timed reset:
per request, that cost about as much CPU as the statement itself (measured on a read by id,
64 requests in flight: 128 against 85 µs). Our statements never SET, LISTEN, lock for the
session or leave a transaction open, so a connection whose statement finished can go
straight back; one whose statement failed midway is discarded: closed gracefully, which
lets asyncpg finish cancelling that statement on the server before the caller answers.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

import asyncpg

# An idle connection is closed after this long, so a quiet service holds no backends.
IDLE_LIFETIME_SECONDS = 300.0
# How often idle connections are looked over.
SWEEP_SECONDS = 60.0


class PoolClosed(asyncpg.InterfaceError):  # type: ignore[misc]
    """Asked for a connection after the pool began to close."""


Connect = Callable[[], Awaitable[asyncpg.Connection]]


class ConnectionPool:
    """At most `max_size` connections, opened when first needed, handed out most recently
    used first, and to waiting requests in the order they came."""

    def __init__(self, connect: Connect, max_size: int, close_timeout: float) -> None:
        self._connect = connect
        self._max_size = max_size
        self._close_timeout = close_timeout
        self._opening = 0
        self._connections: set[asyncpg.Connection] = set()
        # (connection, when it was given back): the newest on the right.
        self._idle: deque[tuple[asyncpg.Connection, float]] = deque()
        # A waiter gets a connection, or None: a place came free, try again. Each waits until
        # its deadline, on the event loop's clock.
        self._waiters: deque[tuple[asyncio.Future[asyncpg.Connection | None], float]] = deque()
        # One timer for every waiter's deadline, set for the earliest: see _wait.
        self._expiry: asyncio.TimerHandle | None = None
        self._closing_ones: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def size(self) -> int:
        """Connections open."""
        return len(self._connections)

    @property
    def idle(self) -> int:
        """Connections open and not in use."""
        return len(self._idle)

    async def acquire(self, deadline: float = math.inf) -> asyncpg.Connection:
        """A connection; TimeoutError when none came by `deadline`, on the event loop's
        clock."""
        while True:
            if self._closed:
                raise PoolClosed("the connection pool is closed")
            if self._idle:
                return self._idle.pop()[0]
            if len(self._connections) + self._opening < self._max_size:
                async with asyncio.timeout_at(None if deadline == math.inf else deadline):
                    return await self._open()
            connection = await self._wait(deadline)
            if connection is not None:
                return connection

    def release(self, connection: asyncpg.Connection) -> None:
        """Take back a connection. One that closed under us or is still in a transaction is
        closed."""
        if self._closed or connection.is_closed() or connection.is_in_transaction():
            self._close(connection)
            return
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append((connection, time.monotonic()))

    async def discard(self, connection: asyncpg.Connection) -> None:
        """Close a connection whose statement failed midway (a timeout, a lost connection),
        returning once the server has acknowledged the statement's cancellation or the grace
        ran out: a write that was answered as failed must not apply afterwards."""
        # Shielded: a caller cancelled meanwhile leaves the closing to finish on its own.
        await asyncio.shield(self._close(connection))

    async def close(self) -> None:
        """Refuse new requests, wait for connections in use to come back, close them all."""
        self._closed = True
        for timer in (self._sweeper, self._expiry):
            if timer is not None:
                timer.cancel()
        self._expiry = None
        for waiter, _ in self._waiters:
            if not waiter.done():
                waiter.set_exception(PoolClosed("the connection pool is closing"))
        while self._idle:
            self._close(self._idle.popleft()[0])
        while self._connections or self._closing_ones:
            await asyncio.sleep(0.01)

    def terminate(self) -> None:
        """Drop every connection at once, in use or not."""
        self._closed = True
        for connection in list(self._connections):
            connection.terminate()
        self._connections.clear()
        self._idle.clear()

    async def _open(self) -> asyncpg.Connection:
        self._opening += 1
        try:
            connection = await self._connect()
        except BaseException:
            self._wake_one()
            raise
        finally:
            self._opening -= 1
        self._connections.add(connection)
        if self._sweeper is None:
            self._arm_sweeper()
        return connection

    async def _wait(self, deadline: float) -> asyncpg.Connection | None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[asyncpg.Connection | None] = loop.create_future()
        self._waiters.append((waiter, deadline))
        # A timer per waiter would cost about as much CPU as handing it a connection (uvloop
        # arms and cancels one in 3 µs, asyncio.timeout takes 7): one timer stands for the
        # earliest deadline, and when it fires it fails the late and is set for the next.
        if deadline < self._next_expiry():
            self._expire_at(deadline)
        try:
            return await waiter
        except BaseException:
            # Cancelled (the request's deadline) after a connection was handed over: give it
            # to the next in line rather than lose it.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()
                if handed is not None:
                    self.release(handed)
                else:
                    self._wake_one()
            else:
                self._forget(waiter)
            raise

    def _forget(self, waiter: asyncio.Future[asyncpg.Connection | None]) -> None:
        for entry in self._waiters:
            if entry[0] is waiter:
                self._waiters.remove(entry)
                return

    def _expire(self) -> None:
        """Fail the waiters whose deadline passed, and arm the timer for the earliest left."""
        self._expiry = None
        now = asyncio.get_running_loop().time()
        waiting = self._waiters
        self._waiters = deque(entry for entry in waiting if entry[1] > now)
        for waiter, deadline in waiting:
            if deadline <= now and not waiter.done():
                waiter.set_exception(TimeoutError("no connection came free in time"))
        earliest = min((deadline for _, deadline in self._waiters), default=math.inf)
        if earliest != math.inf:
            self._expire_at(earliest)

    def _next_expiry(self) -> float:
        return math.inf if self._expiry is None else self._expiry.when()

    def _expire_at(self, deadline: float) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = asyncio.get_running_loop().call_at(deadline, self._expire)

    def _wake_one(self) -> None:
        """Tell the first waiter that a place came free."""
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _close(self, connection: asyncpg.Connection) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._close_gracefully(connection))
        self._closing_ones.add(task)
        task.add_done_callback(self._closing_ones.discard)
        return task

    async def _close_gracefully(self, connection: asyncpg.Connection) -> None:
        try:
            # Waits for a cancelled statement's cancellation to reach the server.
            await connection.close(timeout=self._close_timeout)
        except Exception:
            connection.terminate()
        finally:
            self._connections.discard(connection)
            self._wake_one()

    def _arm_sweeper(self) -> None:
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP_SECONDS, self._sweep)

    def _sweep(self) -> None:
        """Close the connections idle for longer than their lifetime (the oldest are left)."""
        too_old = time.monotonic() - IDLE_LIFETIME_SECONDS
        while self._idle and self._idle[0][1] < too_old:
            self._close(self._idle.popleft()[0])
        self._sweeper = None
        if self._connections and not self._closed:
            self._arm_sweeper()
