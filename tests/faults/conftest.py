"""Fixtures for fault tests: a PostgreSQL server of their own that they may kill, and the
real app on whatever database URL a test points it at."""

from __future__ import annotations

import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import psycopg
import pytest
from starlette.testclient import TestClient

from expensicat.api.app import create_app
from expensicat.db.migrate import upgrade
from expensicat.db.postgres import RELEASE_GRACE_SECONDS
from tests.conftest import Api, make_settings
from tests.support.postgres import PostgresServer, find_bindir
from tests.support.required import required
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET

T = TypeVar("T")

# Fault tests run with a short statement timeout, so that waiting one out costs a second.
TIMEOUT_SECONDS = 1.0


def answer_bound(timeout: float = TIMEOUT_SECONDS) -> float:
    """How long a request may take when the database does not answer: the timeout, the
    grace for a cancelled statement to be acknowledged, and what a loaded machine adds."""
    return timeout + RELEASE_GRACE_SECONDS + 0.75


ANSWER_BOUND_SECONDS = answer_bound()


@pytest.fixture(scope="session")
def crash_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the fault tests' own, durable (fsync on) like production,
    which they kill and restart without disturbing the server every other test shares."""
    bindir = required(find_bindir(), "PostgreSQL server binaries not found (set PG_BINDIR)")
    server = PostgresServer(bindir, fsync=True)
    server.init()
    server.start()
    server.create_database("faults")
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def crash_database(crash_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = crash_server.url("faults")
    upgrade(make_settings(url, tmp_path_factory.mktemp("crash")).database)
    return url


@pytest.fixture
def crashable(crash_server: PostgresServer, crash_database: str) -> Iterator[PostgresServer]:
    """The crash server, brought back after the test whatever state it left it in."""
    yield crash_server
    if not accepts_connections(crash_server.port):
        crash_server.kill()
        crash_server.start()


@pytest.fixture(scope="session")
def shared_database(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database on the shared server, migrated (a no-op when already at head)."""
    upgrade(make_settings(postgres_url, tmp_path_factory.mktemp("shared")).database)
    return postgres_url


def via_port(url: str, port: int) -> str:
    """The same database URL, reached through another local port."""
    head, _, tail = url.rpartition("@127.0.0.1:")
    return f"{head}@127.0.0.1:{port}/{tail.split('/', 1)[1]}"


def accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def service_on(
    database_url: str, data_dir: Path, env: Mapping[str, str] | None = None, workers: int = 1
) -> ApiServer:
    """`expensicat serve` on this database, with its data and its log in `data_dir`."""
    own = {"database_url": database_url, "data_dir": str(data_dir), "session_secret": TEST_SECRET}
    return ApiServer(data_dir / "serve.log", env={**own, **(env or {})}, workers=workers)


ServeApp = Callable[..., AbstractContextManager[Api]]


@pytest.fixture
def serve_app(tmp_path: Path) -> ServeApp:
    """The real app in this process on a database URL, with the short statement timeout."""

    @contextmanager
    def serve(database_url: str, **overrides: str) -> Iterator[Api]:
        overrides.setdefault("statement_timeout_ms", str(int(TIMEOUT_SECONDS * 1000)))
        settings = make_settings(database_url, tmp_path, **overrides)
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield Api(client, f"org-{uuid.uuid4().hex[:12]}")

    return serve


# Runs a call on another thread: what the `background` fixture gives a test.
Background = Callable[[Callable[[], Any]], Future[Any]]


@pytest.fixture
def background() -> Iterator[Callable[[Callable[[], T]], Future[T]]]:
    """Run calls on other threads, for requests that must be in flight together."""
    with ThreadPoolExecutor(16) as pool:
        yield pool.submit


def waiting_statements(database_url: str) -> int:
    """How many of the service's statements are waiting for a lock on the server."""
    with psycopg.connect(database_url, autocommit=True) as db:
        row = db.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'expensicat' AND wait_event_type = 'Lock'"
        ).fetchone()
    assert row is not None
    return int(row[0])


@contextmanager
def row_locked(database_url: str, customer_id: str) -> Iterator[psycopg.Connection[Any]]:
    """Another client holds the customer's row, as a long transaction elsewhere would."""
    with psycopg.connect(database_url) as other:
        other.execute("SELECT 1 FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
        yield other
        other.rollback()


@contextmanager
def sqlite_write_locked(path: Path) -> Iterator[None]:
    """Another process holds SQLite's write lock, as a long write or a backup would."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def assert_unavailable(response: httpx2.Response) -> None:
    """The contract's answer while the database cannot be reached."""
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["Retry-After"]) > 0
