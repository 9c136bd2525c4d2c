"""Statement timeouts bound every query: a statement stuck behind a lock is cancelled on the
server and answered 503 in time, and leaves the data as it was."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from expensicat.db.migrate import upgrade
from tests.conftest import make_settings
from tests.faults.conftest import (
    ANSWER_BOUND_SECONDS,
    TIMEOUT_SECONDS,
    Background,
    ServeApp,
    answer_bound,
    assert_unavailable,
    row_locked,
    sqlite_write_locked,
    timed,
    waiting_statements,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    upgrade(make_settings(url, tmp_path).database)
    return url


class TestPostgresStatementTimeout:
    def test_update_behind_a_locked_row_is_cancelled_and_changes_nothing(
        self, serve_app: ServeApp, shared_database: str, background: Background
    ) -> None:
        with serve_app(shared_database) as api:
            customer = api.create(name="Locked Ltd", notes="before")
            url = f"/api/v1/customers/{customer['id']}"
            with row_locked(shared_database, customer["id"]):
                patch = partial(api.patch, url, json={"notes": "after"})
                # Bounded here too: without a timeout the update would wait for the lock.
                response, seconds = background(partial(timed, patch)).result(
                    timeout=ANSWER_BOUND_SECONDS + 1
                )
                assert_unavailable(response)
                assert TIMEOUT_SECONDS * 0.9 <= seconds < ANSWER_BOUND_SECONDS
                # Cancelled on the server, not only abandoned by the client: nothing is left
                # waiting to apply the change once the lock goes.
                assert waiting_statements(shared_database) == 0
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
        # Two seconds, so that one timeout is told apart from a wait in the queue plus another.
        with serve_app(sqlite_url, statement_timeout_ms="2000") as api:
            create = partial(api.post, "/api/v1/customers", json={"name": "Queued"})
            with sqlite_write_locked(Path(sqlite_url.removeprefix("sqlite:///"))):
                # Three times as many writes as the store has threads.
                futures = [background(partial(timed, create)) for _ in range(12)]
                answers = [future.result(timeout=30) for future in futures]
            for response, seconds in answers:
                assert_unavailable(response)
                assert seconds < answer_bound(2.0)
            assert api.list()["data"] == []
