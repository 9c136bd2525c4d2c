"""What every command shares: the settings `serve` reads, its secret, its database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from expensicat.config import ConfigError, Settings
from expensicat.db import open_store
from expensicat.db.errors import DatabaseUnavailable
from expensicat.db.migrate import upgrade
from expensicat.db.store import Store
from expensicat.errors import NotFound, ValidationFailed

T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def session_secret(settings: Settings, create: bool = True) -> str:
    """The session secret, configured or generated; a clear error when neither can be."""
    try:
        return settings.resolve_session_secret(create)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"Cannot keep the session secret: {error}") from None


def migrate_database(settings: Settings) -> None:
    """Apply migrations; a database that cannot be reached or written is a one-line error."""
    try:
        upgrade(settings.database)
    except (SQLAlchemyError, OSError) as error:
        reason = str(error).strip().splitlines()[0]
        raise click.ClickException(f"Cannot migrate the database: {reason}") from None


def with_store(work: Callable[[Store], Awaitable[T]]) -> T:
    """Run `work` on the database `serve` uses, its schema brought up to date first; a
    refusal of the input, or an unreachable database, is a one-line error."""
    settings = load_settings()
    migrate_database(settings)

    async def run() -> T:
        try:
            store = await open_store(settings.database)
        except DatabaseUnavailable as error:
            raise click.ClickException(f"Cannot reach the database: {error}") from None
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except ValidationFailed as error:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.details.items()
        )
        raise click.ClickException(problems) from None
    except NotFound as error:
        raise click.ClickException(f"No such {error.resource}.") from None
