"""Storage: schema migrations and the SQLite and PostgreSQL customer stores."""

from __future__ import annotations

from expensicat.config import DatabaseSettings
from expensicat.customers.store import CustomerStore


async def open_store(database: DatabaseSettings) -> CustomerStore:
    """The store for the configured database, ready to serve."""
    if database.is_sqlite:
        from expensicat.db.sqlite import SqliteStore

        return SqliteStore(database.sqlite_path, timeout=database.statement_timeout_ms / 1000)
    from expensicat.db.postgres import PostgresStore

    return await PostgresStore.connect(database)
