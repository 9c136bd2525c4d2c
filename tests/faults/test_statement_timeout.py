"""Statement timeouts bound every query: a statement stuck behind a lock is cancelled on the
server and answered 503 in time, and leaves the data as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest

from expensicat.db.migrate import upgrade
from tests.conftest import make_settings
from tests.faults.conftest import (
    ANSWER_BOUND_SECONDS,
    TIMEOUT_SECONDS,
    ServeApp,
    assert_unavailable,
    timed,
)

pytestmark = pytest.mark.slow

Background = Callable[[Callable[[], Any]], Future[Any]]

# Statements the app has left waiting for a lock on the server.
WAITING = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE application_name = 'expensicat' AND wait_event_type = 'Lock'"
)


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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    upgrade(make_settings(url, tmp_path))
    return url


class TestPostgresStatementTimeout:
    def test_update_behind_a_locked_row_is_cancelled_and_changes_nothing(
        self, serve_app: ServeApp, shared_database: str, background: Background
    ) -> None:
        with serve_app(shared_database) as api:
            customer = api.create(name="Locked Ltd", notes="before")
            url = f"/api/v1/customers/{customer['id']}"
            with row_locked(shared_database, customer["id"]) as other:
                patch = partial(api.patch, url, json={"notes": "after"})
                # Bounded here too: without a timeout the update would wait for the lock.
                response, seconds = background(partial(timed, patch)).result(
                    timeout=ANSWER_BOUND_SECONDS + 1
                )
                assert_unavailable(response)
                assert TIMEOUT_SECONDS * 0.9 <= seconds < ANSWER_BOUND_SECONDS
                # Cancelled on the server, not only abandoned by the client: nothing is left
                # waiting to apply the change once the lock goes.
                assert other.execute(WAITING).fetchone() == (0,)
            assert api.get(url).json()["data"] == customer
            after = api.patch(url, json={"notes": "after"})
            assert after.status_code == 200
            assert after.json()["data"]["notes"] == "after"

    def test_requests_queued_for_a_busy_pool_answer_within_the_timeout(
        self, serve_app: ServeApp, shared_database: str, background: Background
    ) -> None:
        with serve_app(shared_database, db_pool_size="1") as api:
            customer = api.create(name="Queue Ltd")
            url = f"/api/v1/customers/{customer['id']}"
            with row_locked(shared_database, customer["id"]):
                calls = [partial(api.patch, url, json={"notes": "queued"})] * 4
                calls += [partial(api.get, url)] * 4
                futures = [background(partial(timed, call)) for call in calls]
                answers = [future.result(timeout=30) for future in futures]
            statuses = [response.status_code for response, _ in answers]
            assert 503 in statuses
            assert set(statuses) <= {200, 503}
            for response, seconds in answers:
                assert seconds < ANSWER_BOUND_SECONDS, response.text
            assert api.get(url).json()["data"] == customer


class TestSqliteBusyTimeout:
    def test_write_behind_another_writer_is_unavailable_after_the_timeout(
        self, serve_app: ServeApp, sqlite_url: str
    ) -> None:
        with serve_app(sqlite_url) as api:
            customer = api.create(name="Before the lock")
            url = f"/api/v1/customers/{customer['id']}"
            with sqlite_write_locked(Path(sqlite_url.removeprefix("sqlite:///"))):
                for write in (
                    partial(api.post, "/api/v1/customers", json={"name": "Behind the lock"}),
                    partial(api.patch, url, json={"notes": "behind the lock"}),
                ):
                    response, seconds = timed(write)
                    assert_unavailable(response)
                    assert TIMEOUT_SECONDS * 0.9 <= seconds < ANSWER_BOUND_SECONDS
                # Readers are not blocked by a writer.
                assert api.get(url).status_code == 200
            assert [c["name"] for c in api.list()["data"]] == ["Before the lock"]
            assert api.get(url).json()["data"] == customer
            assert api.post("/api/v1/customers", json={"name": "After"}).status_code == 201

    def test_writes_queued_behind_a_lock_all_answer_within_the_timeout(
        self, serve_app: ServeApp, sqlite_url: str, background: Background
    ) -> None:
        with serve_app(sqlite_url) as api:
            create = partial(api.post, "/api/v1/customers", json={"name": "Queued"})
            with sqlite_write_locked(Path(sqlite_url.removeprefix("sqlite:///"))):
                # Three times as many writes as the store has threads.
                futures = [background(partial(timed, create)) for _ in range(12)]
                answers = [future.result(timeout=30) for future in futures]
            for response, seconds in answers:
                assert_unavailable(response)
                assert seconds < ANSWER_BOUND_SECONDS
            assert api.list()["data"] == []
