"""The two databases the service runs on, started empty and bulk-loaded behind its back.

Loading goes straight to the tables, as fast as each engine allows, and leaves exactly
what the service would have written itself: the same columns, the same search index.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from bench.dataset import API_TIME, COLUMNS
from expensicat.db.migrate import revision_module
from tests.support.postgres import PostgresServer, find_bindir

SQLITE_INSERT = (
    f"INSERT INTO customers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
)
# The search index's own statements, so that loaded rows are indexed as the trigger would.
SQLITE_SEARCH = revision_module("0014_search_by_month_on_sqlite.py")
# The customers table's indexes that no constraint owns (all but the primary key), each with
# the statements that make it again: its definition, then the statistics targets set on its
# columns, which the definition leaves out.
SECONDARY_INDEXES = """
SELECT indexname, array_to_string(indexdef || ARRAY(
    SELECT format('ALTER INDEX %I ALTER COLUMN %s SET STATISTICS %s', indexname, attnum,
        attstattarget)
    FROM pg_attribute
    WHERE attrelid = format('%I.%I', schemaname, indexname)::regclass AND attstattarget >= 0
), '; ')
FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = 'customers'
    AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'customers'::regclass)
"""
# Memory for each index build: the search index's keys of a million names fit in it.
INDEX_BUILD_MEMORY = "512MB"


class BenchError(Exception):
    """The benchmark cannot go on: a server did not start, or a check failed."""


class Database(Protocol):
    name: str
    url: str

    def stamp(self, moment: datetime) -> Any:
        """A timestamp as this database's column takes it."""

    def load(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Append rows in `COLUMNS` order, then refresh the planner's statistics."""

    def checkpoint(self) -> None:
        """Write out what earlier writes left pending, so that the next run does not pay."""

    def analyze(self) -> None:
        """Refresh the planner's statistics of every table, as the database's own upkeep
        would have done by now on a service in use."""

    def close(self) -> None:
        """Stop the database and remove its files."""


class PostgresDatabase:
    """A throwaway server with fsync on: creates in the benchmark must be durable."""

    name = "postgres"

    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise BenchError("PostgreSQL server binaries not found (set PG_BINDIR)")
        self._server = PostgresServer(bindir, fsync=True)
        self._server.init()
        self._server.start()
        self._server.create_database("expensicat_bench")
        self.url = self._server.url("expensicat_bench")

    def stamp(self, moment: datetime) -> datetime:
        return moment

    def load(self, rows: Iterable[tuple[Any, ...]]) -> None:
        asyncio.run(self._load(rows))

    async def _load(self, rows: Iterable[tuple[Any, ...]]) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            # Into an empty table, as pg_restore does: the rows first, then each secondary
            # index built from them, two builds at a time. Rows added to a full table go in
            # with the indexes in place, as live inserts shape them.
            deferred: list[str] = []
            if await connection.fetchval("SELECT NOT EXISTS (SELECT FROM customers)"):
                for name, definition in await connection.fetch(SECONDARY_INDEXES):
                    await connection.execute(f"DROP INDEX {name}")
                    deferred.append(definition)
            await connection.copy_records_to_table("customers", records=rows, columns=COLUMNS)
            # VACUUM flushes the trigram index's pending list and sets the visibility map,
            # as autovacuum would have long done on a table this old; before the indexes
            # are built, it reads the rows alone. ANALYZE then describes every index's
            # expressions too.
            await connection.execute("VACUUM customers")
            await _build_indexes(self.url, deferred)
            await connection.execute("ANALYZE customers")
        finally:
            await connection.close()

    def checkpoint(self) -> None:
        asyncio.run(self._execute("CHECKPOINT"))

    def analyze(self) -> None:
        asyncio.run(self._execute("ANALYZE"))

    async def _execute(self, statement: str) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def close(self) -> None:
        self._server.destroy()


async def _build_indexes(url: str, definitions: list[str]) -> None:
    """Build the indexes on two connections at once, one per core: the search index (GIN)
    takes about as long as all the others together."""
    search = [definition for definition in definitions if " USING gin " in definition]
    others = [definition for definition in definitions if definition not in search]
    await asyncio.gather(*(_create_indexes(url, group) for group in (search, others) if group))


async def _create_indexes(url: str, definitions: list[str]) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"SET maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
        for definition in definitions:
            await connection.execute(definition)
    finally:
        await connection.close()


class SqliteDatabase:
    """An embedded database file in the benchmark's folder."""

    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self._path = folder / "expensicat.db"
        self.url = f"sqlite:///{self._path}"

    def stamp(self, moment: datetime) -> str:
        return moment.strftime(API_TIME)

    def load(self, rows: Iterable[tuple[Any, ...]]) -> None:
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            db.execute("PRAGMA cache_size = -1000000")
            # Indexing row by row, through the search trigger and into the page-order index,
            # is slower than building each index once from the table: both are dropped for
            # the load and put back exactly as they were (the rule triggers still check each
            # row), and the new rows are added to the search index in its own order.
            deferred = db.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'customers' "
                "AND ((type = 'index' AND sql IS NOT NULL) OR name = ?)",
                (SQLITE_SEARCH.INSERT_TRIGGER,),
            ).fetchall()
            db.execute("BEGIN")
            (indexed,) = db.execute("SELECT coalesce(max(seq), 0) FROM customers").fetchone()
            for kind, name, _ in deferred:
                db.execute(f"DROP {kind} {name}")
            db.executemany(SQLITE_INSERT, rows)
            for statement in SQLITE_SEARCH.INDEX_ROWS:
                db.execute(statement, (indexed,))
            for _, _, sql in deferred:
                db.execute(sql)
            db.execute("COMMIT")
            db.execute("ANALYZE")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()

    def checkpoint(self) -> None:
        self._execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def analyze(self) -> None:
        # Sampled, as SQLite's own PRAGMA optimize does, rather than every row of every index.
        self._execute("PRAGMA analysis_limit = 1000", "ANALYZE")

    def _execute(self, *statements: str) -> None:
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            for statement in statements:
                db.execute(statement)
        finally:
            db.close()

    def close(self) -> None:
        """Nothing to stop; the file goes with the benchmark's folder."""


def open_database(kind: str, folder: Path) -> Database:
    """A fresh, empty database: "postgres" or "sqlite" (a file in `folder`)."""
    return PostgresDatabase() if kind == "postgres" else SqliteDatabase(folder)
