"""Shared fixtures: a real SQLite file and a real PostgreSQL server, each migrated once.

Every test works in an organization of its own, so tests never see each other's data
and no database needs wiping between them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from expensicat.api.app import create_app
from expensicat.config import Settings
from expensicat.db.migrate import upgrade
from tests.support.pgbouncer import PgBouncer, find_pgbouncer
from tests.support.postgres import PostgresServer, find_bindir
from tests.support.required import required
from tests.support.tokens import TEST_SECRET, bearer, session_token

BACKENDS = ["sqlite", "postgres", "pgbouncer"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = required(find_bindir(), "PostgreSQL server binaries not found (set PG_BINDIR)")
    server = PostgresServer(bindir)
    server.init()
    server.start()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    postgres_server.create_database("expensicat_test")
    return postgres_server.url("expensicat_test")


@pytest.fixture(scope="session")
def pgbouncer_url(postgres_server: PostgresServer, postgres_url: str) -> Iterator[str]:
    """The test database through PgBouncer in transaction pooling mode."""
    binary = required(find_pgbouncer(), "pgbouncer not found (apt-get install pgbouncer)")
    bouncer = PgBouncer(binary, postgres_server.port)
    bouncer.start()
    yield bouncer.url(postgres_url.rpartition("/")[2])
    bouncer.destroy()


def make_settings(database_url: str, data_dir: Path, **overrides: str) -> Settings:
    env = {
        "EXPENSICAT_DATABASE_URL": database_url,
        "EXPENSICAT_DATA_DIR": str(data_dir),
        "EXPENSICAT_SESSION_SECRET": TEST_SECRET,
        # Tests that are not about budgets must never meet one; theirs override this.
        "EXPENSICAT_RATE_LIMIT_PER_SECOND": "0",
        # Endpoints registered by API tests name hosts that must never be contacted; the
        # delivery tests start a worker of their own.
        "EXPENSICAT_WEBHOOK_WORKER": "false",
        **{f"EXPENSICAT_{key.upper()}": value for key, value in overrides.items()},
    }
    return Settings.from_env(env)


def statement_cache(settings: Settings) -> str:
    """The backend's statement cache setting, as an override for `make_settings`: an app
    built on the same database URL must keep it (off behind PgBouncer's transaction mode,
    which has no named statements)."""
    return str(settings.database.statement_cache).lower()


@pytest.fixture(scope="session", params=BACKENDS)
def backend_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'expensicat.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    settings = make_settings(url, data_dir)
    upgrade(settings.database)
    if request.param == "pgbouncer":
        # Migrated directly; the service then talks through the pooler, with unnamed
        # statements only, as transaction pooling needs.
        url = request.getfixturevalue("pgbouncer_url")
        settings = make_settings(url, data_dir, db_statement_cache="false")
    return settings


@pytest.fixture(scope="session")
def client(backend_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(backend_settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def org() -> str:
    return f"org-{uuid.uuid4().hex[:12]}"


class Api:
    """A client signed in to one organization, speaking the contract's JSON."""

    def __init__(self, client: TestClient, org: str) -> None:
        self.client = client
        self.org = org
        self.headers = bearer(session_token(org))

    def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx2.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx2.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx2.Response:
        return self.request("PATCH", url, **kwargs)

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/api/v1/customers", json=fields)
        assert response.status_code == 201, response.text
        customer: dict[str, Any] = response.json()["data"]
        return customer

    def list(self, **params: Any) -> dict[str, Any]:
        response = self.get("/api/v1/customers", params=params)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page


@pytest.fixture
def api(client: TestClient, org: str) -> Api:
    return Api(client, org)


@pytest.fixture
def other_api(client: TestClient) -> Api:
    """Someone in another organization, using the same server."""
    return Api(client, f"org-{uuid.uuid4().hex[:12]}")
