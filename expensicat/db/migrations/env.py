"""Alembic's entry point: runs migrations on the configured connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

# Held for the whole migration so that concurrent starts apply it once, one after another.
_MIGRATION_LOCK = 727_100_001


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()
        else:
            # WAL lets readers and a writer work at once across worker processes.
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


run_migrations()
