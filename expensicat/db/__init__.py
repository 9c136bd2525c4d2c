"""Storage: schema migrations and the SQLite and PostgreSQL customer stores."""

from __future__ import annotations

from expensicat.config import Settings
from expensicat.customers.store import CustomerStore


async def open_store(settings: Settings) -> CustomerStore:
    """The store for the configured database, ready to serve."""
    if settings.is_sqlite:
        from expensicat.db.sqlite import SqliteStore

        return SqliteStore(settings.sqlite_path, timeout=settings.statement_timeout_ms / 1000)
    from expensicat.db.postgres import PostgresStore

    return await PostgresStore.connect(settings)
