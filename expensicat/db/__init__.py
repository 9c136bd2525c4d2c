"""Storage: schema migrations and the SQLite and PostgreSQL stores."""

from __future__ import annotations

from expensicat.config import DatabaseSettings
from expensicat.db.store import Store


async def open_store(database: DatabaseSettings) -> Store:
    """The store for the configured database, ready to serve: customers, their idempotency
    keys and their changes."""
    if database.is_sqlite:
        from expensicat.db.sqlite import SqliteStore

        return SqliteStore(database.sqlite_path, timeout=database.statement_timeout_ms / 1000)
    from expensicat.db.postgres import PostgresStore

    return await PostgresStore.connect(database)
