"""A database of a test's own, migrated: for tests that change the schema or run a worker
that must not see what other tests registered."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from expensicat.config import Settings
from expensicat.db.migrate import upgrade
from tests.conftest import make_settings
from tests.support.postgres import PostgresServer


def own_database(kind: str, request: pytest.FixtureRequest, folder: Path, **env: str) -> Settings:
    """A fresh SQLite file in `folder`, or a fresh database on the test PostgreSQL server."""
    if kind == "sqlite":
        settings = make_settings(f"sqlite:///{folder / 'expensicat.db'}", folder, **env)
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = f"own_{uuid.uuid4().hex[:12]}"
        server.create_database(name)
        settings = make_settings(server.url(name), folder, **env)
    upgrade(settings.database)
    return settings
