"""On SIGTERM the service stops taking connections at once, lets the requests it has already
taken finish with their 2xx, writes nothing by halves, and exits cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.faults.conftest import (
    Background,
    row_locked,
    service_on,
    sqlite_write_locked,
    waiting_statements,
)
from tests.faults.load import CreateLoad, Outcome, assert_acknowledged_are_stored, stored_customers
from tests.support.processes import alive, children
from tests.support.server import CLEAN_EXIT, ApiServer
from tests.support.tokens import bearer, session_token

pytestmark = pytest.mark.slow

IN_FLIGHT = 4
EXIT_SECONDS = 15
# In-flight requests here wait on a lock the test holds; they must not time out meanwhile.
PATIENT = {"statement_timeout_ms": "15000"}


def client(service: ApiServer, org: str) -> httpx.Client:
    return httpx.Client(base_url=service.url, headers=bearer(session_token(org)), timeout=20)


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def requests_sent(count: int) -> tuple[Callable[[], bool], dict[str, Any]]:
    """An httpx trace hook that counts requests written out in full, and a check on it."""
    sent: list[None] = []

    def trace(event: str, info: dict[str, Any]) -> None:
        if event == "http11.send_request_body.complete":
            sent.append(None)

    return (lambda: len(sent) >= count), {"trace": trace}


def stop_and_check_in_flight(service: ApiServer, in_flight: list[Future[httpx.Response]]) -> None:
    """SIGTERM while requests are in flight: new connections are refused at once, and the
    requests already taken are still being served."""
    service.terminate()
    wait_until(lambda: refuses_connections(service.port), 5, "still accepting connections")
    assert not any(future.done() for future in in_flight)


class TestInFlightRequests:
    def test_postgres_updates_in_flight_finish_after_sigterm(
        self, shared_database: str, tmp_path: Path, background: Background
    ) -> None:
        org = f"org-{uuid.uuid4().hex[:12]}"
        with (
            service_on(shared_database, tmp_path, PATIENT) as service,
            client(service, org) as api,
        ):
            customer = api.post("/api/v1/customers", json={"name": "Busy Ltd"}).json()["data"]
            url = f"/api/v1/customers/{customer['id']}"
            with row_locked(shared_database, customer["id"]):
                in_flight = [
                    background(partial(api.patch, url, json={"notes": f"update {n}"}))
                    for n in range(IN_FLIGHT)
                ]
                wait_until(
                    lambda: waiting_statements(shared_database) == IN_FLIGHT, 10, "not waiting"
                )
                stop_and_check_in_flight(service, in_flight)
            responses = [future.result(timeout=20) for future in in_flight]
            assert [response.status_code for response in responses] == [200] * IN_FLIGHT
            assert service.wait(EXIT_SECONDS) == CLEAN_EXIT
        with psycopg.connect(shared_database) as db:
            row = db.execute(
                "SELECT version, notes FROM customers WHERE id = %s", (customer["id"],)
            ).fetchone()
        assert row is not None
        assert row[0] == 1 + IN_FLIGHT
        assert row[1] in {response.json()["data"]["notes"] for response in responses}

    def test_sqlite_creates_in_flight_finish_after_sigterm(
        self, tmp_path: Path, background: Background
    ) -> None:
        path = tmp_path / "expensicat.db"
        org = f"org-{uuid.uuid4().hex[:12]}"
        with (
            service_on(f"sqlite:///{path}", tmp_path, PATIENT) as service,
            client(service, org) as api,
        ):
            all_sent, trace = requests_sent(IN_FLIGHT)
            with sqlite_write_locked(path):
                in_flight = [
                    background(
                        partial(
                            api.post, "/api/v1/customers", json={"name": f"C{n}"}, extensions=trace
                        )
                    )
                    for n in range(IN_FLIGHT)
                ]
                wait_until(all_sent, 10, "requests not sent")
                time.sleep(0.3)  # for the server to read them
                stop_and_check_in_flight(service, in_flight)
            responses = [future.result(timeout=20) for future in in_flight]
            assert [response.status_code for response in responses] == [201] * IN_FLIGHT
            assert service.wait(EXIT_SECONDS) == CLEAN_EXIT
        db = sqlite3.connect(path)
        names = {name for (name,) in db.execute("SELECT name FROM customers")}
        db.close()
        assert names == {f"C{n}" for n in range(IN_FLIGHT)}


async def stop_under_load(service: ApiServer, org: str) -> tuple[list[Outcome], float]:
    """SIGTERM in the middle of a create load; go on until the service refuses to connect."""
    async with CreateLoad(service.url, org) as load:
        await load.until(lambda: len(load.acknowledged()) >= 100, 30)
        service.terminate()
        stopped_at = time.monotonic()
        await load.until(lambda: load.outcomes[-1].response is None, 10)
    return load.outcomes, stopped_at


class TestShutdownUnderLoad:
    @pytest.mark.parametrize("backend", ["sqlite", "postgres"])
    def test_every_create_answered_before_exit_is_stored_whole(
        self, backend: str, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        url = (
            f"sqlite:///{tmp_path / 'expensicat.db'}"
            if backend == "sqlite"
            else request.getfixturevalue("shared_database")
        )
        org = f"org-{uuid.uuid4().hex[:12]}"
        with service_on(url, tmp_path) as service:
            outcomes, stopped_at = asyncio.run(stop_under_load(service, org))
            assert service.wait(EXIT_SECONDS) == CLEAN_EXIT
        # Every request got its 201, except ones that found the service already gone.
        for outcome in outcomes:
            if outcome.response is None:
                assert outcome.started + outcome.seconds >= stopped_at, outcome
            else:
                assert outcome.status == 201, outcome.response.text
        with service_on(url, tmp_path) as service:
            assert_acknowledged_are_stored(outcomes, stored_customers(service.url, org))


class TestWorkers:
    def test_several_workers_all_exit_on_sigterm(self, tmp_path: Path) -> None:
        org = f"org-{uuid.uuid4().hex[:12]}"
        database = f"sqlite:///{tmp_path / 'expensicat.db'}"
        with service_on(database, tmp_path, workers=2) as service:
            with client(service, org) as api:
                for n in range(10):
                    assert api.post("/api/v1/customers", json={"name": f"C{n}"}).status_code == 201
            # Both workers serving, so that the signal stops two running workers rather than
            # meeting one still starting.
            wait_until(lambda: len(serving(service)) == 2, 15, "both workers never served")
            workers = children(service.pid)
            assert len(workers) >= 2
            service.terminate()
            assert service.wait(EXIT_SECONDS) == CLEAN_EXIT
            wait_until(lambda: not any(alive(pid) for pid in workers), 5, "workers left behind")
            assert refuses_connections(service.port)

    def test_a_worker_that_dies_is_replaced_and_the_service_answers_on(
        self, tmp_path: Path
    ) -> None:
        org = f"org-{uuid.uuid4().hex[:12]}"
        database = f"sqlite:///{tmp_path / 'expensicat.db'}"
        with service_on(database, tmp_path, workers=2) as service, client(service, org) as api:
            # Both workers must be serving before one is killed, or the test would only
            # watch a start-up finish.
            wait_until(lambda: len(serving(service)) == 2, 15, "both workers never served")
            before = serving(service)
            workers = children(service.pid)
            os.kill(workers[0], signal.SIGKILL)

            wait_until(
                lambda: len(now := serving(service)) == 2 and now != before,
                15,
                "no new worker took the dead one's place",
            )
            assert service.running()
            assert workers[0] not in children(service.pid)
            statuses = {
                api.post("/api/v1/customers", json={"name": f"After {n}"}).status_code
                for n in range(20)
            }
            assert statuses == {201}


def serving(service: ApiServer, connections: int = 24) -> set[str]:
    """The worker processes answering new connections, told apart by the per-process prefix
    of the request ids they issue; a refused connection counts for none."""
    prefixes = set()
    for _ in range(connections):
        try:
            response = httpx.get(f"{service.url}/healthz", timeout=2)
        except httpx.TransportError:
            continue
        prefixes.add(response.headers["x-request-id"][:16])
    return prefixes
