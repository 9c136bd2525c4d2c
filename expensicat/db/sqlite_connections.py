"""Each thread's own connection to the SQLite file, and how long it waits for a lock.

sqlite3 connections are not shared between threads here: the event loop's thread, every
reader thread and the writer thread each open their own on first use, and drop it when the
file fails under them, to open it afresh next time.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from expensicat.db.spelling import LATER_THAN, later_than


class ThreadConnections:
    def __init__(self, path: Path, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._local = threading.local()
        self._connections: set[sqlite3.Connection] = set()
        self._lock = threading.Lock()

    def get(self, left: float) -> sqlite3.Connection:
        """This thread's connection, waiting for another writer's lock `left` seconds at most."""
        connection = self._connection(left)
        self._limit_busy_wait(connection, left)
        return connection

    def forget(self) -> None:
        """Close this thread's connection: the next statement opens the file afresh."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            return
        self._local.connection = None
        with self._lock:
            self._connections.discard(connection)
        connection.close()

    def close(self) -> None:
        """Close every thread's connection, once no thread uses them any more."""
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def _connection(self, wait: float) -> sqlite3.Connection:
        """This thread's connection, opened if need be. Opening reads the schema, which may
        wait for a lock like any statement: for `wait` seconds at most."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self._path, timeout=wait, isolation_level=None, check_same_thread=False
            )
            self._local.connection = connection
            self._local.busy_tenths = None
            with self._lock:
                self._connections.add(connection)
            connection.execute("PRAGMA synchronous = FULL")
            # Freed pages are overwritten with zeros, so an erased customer's values do not
            # linger in the file's free space.
            connection.execute("PRAGMA secure_delete = ON")
            # What JustAfter calls on SQLite: the updated_at bump.
            connection.create_function(LATER_THAN, 2, later_than, deterministic=True)
        return connection

    def _limit_busy_wait(self, connection: sqlite3.Connection, left: float) -> None:
        """Wait for another writer's lock only as long as the timeout has left, counted in
        tenths of it so that few distinct statements ever reach the statement cache."""
        tenths = round(10 * left / self._timeout)
        if tenths != self._local.busy_tenths:
            connection.execute(f"PRAGMA busy_timeout = {int(self._timeout * 100 * tenths)}")
            self._local.busy_tenths = tenths
