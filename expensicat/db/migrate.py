"""Applying schema migrations with Alembic, to SQLite and PostgreSQL alike."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config

from expensicat.config import DatabaseSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def revision_module(file_name: str) -> ModuleType:
    """A migration's module, loaded from its file (their names are no Python names), for a
    later migration that builds on what it wrote."""
    path = MIGRATIONS / "versions" / file_name
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sqlalchemy_url(database_url: str) -> str:
    """The same database, addressed through the synchronous driver migrations run on."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url.removeprefix(prefix)
    return database_url


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for our migrations on that database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url))
    return config


def upgrade(database: DatabaseSettings, revision: str = "head") -> None:
    """Bring the schema up to `revision`; safe to run from several processes at once."""
    if database.is_sqlite:
        database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database.url), revision)
