"""While PostgreSQL cannot be reached, every request is a prompt 503 with Retry-After, never
a 500 and never a hang; once it is back, the service serves again without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial

import httpx2
import pytest

from tests.conftest import Api
from tests.faults.conftest import (
    ANSWER_BOUND_SECONDS,
    Background,
    ServeApp,
    answer_bound,
    assert_unavailable,
    timed,
    via_port,
)
from tests.faults.network import FaultyLink, RefusingPostgres
from tests.support.postgres import PostgresServer, free_port

pytestmark = pytest.mark.slow

RECOVERY_SECONDS = 10
# The probe's own second, the grace for cancelling its statement, and a loaded machine.
READINESS_BOUND_SECONDS = 2.5


def every_endpoint(api: Api, customer_id: str) -> list[Callable[[], httpx2.Response]]:
    """One call of each endpoint, on a customer that existed before the outage."""
    return [
        lambda: api.get("/api/v1/customers"),
        lambda: api.post("/api/v1/customers", json={"name": "Made during the outage"}),
        lambda: api.get(f"/api/v1/customers/{customer_id}"),
        lambda: api.patch(f"/api/v1/customers/{customer_id}", json={"notes": "in the outage"}),
        lambda: api.get("/readyz"),
    ]


def fill_pool(api: Api, background: Background, connections: int = 8) -> None:
    """Leave several pooled connections open, each one a stale connection once the database
    goes away."""
    futures = [background(lambda: api.get("/api/v1/customers")) for _ in range(connections)]
    assert all(future.result(timeout=10).status_code == 200 for future in futures)


def assert_all_unavailable(
    api: Api, customer_id: str, background: Background, bound: float = ANSWER_BOUND_SECONDS
) -> None:
    """Every endpoint, and more requests besides, all at once so that every stale pooled
    connection is met: each answers 503 in time."""
    calls = every_endpoint(api, customer_id) * 2
    futures = [background(partial(timed, call)) for call in calls]
    for future in futures:
        response, seconds = future.result(timeout=30)
        assert_unavailable(response)
        assert seconds < bound


def wait_until_served(api: Api, customer_id: str) -> None:
    """The service recovers by itself: no restart, only time."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while api.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the service did not recover"
        time.sleep(0.1)
    assert api.get(f"/api/v1/customers/{customer_id}").status_code == 200
    assert api.post("/api/v1/customers", json={"name": "After the outage"}).status_code == 201


class TestServerGone:
    def test_a_server_never_started_is_unavailable_from_the_first_request(
        self, serve_app: ServeApp, shared_database: str
    ) -> None:
        with serve_app(via_port(shared_database, free_port())) as api:
            for call in every_endpoint(api, "0190d5e4-0000-7000-8000-000000000000"):
                assert_unavailable(call())

    @pytest.mark.parametrize("outage", ["kill", "stop"])
    def test_server_gone_is_unavailable_then_served_again_after_start(
        self,
        serve_app: ServeApp,
        crashable: PostgresServer,
        background: Background,
        outage: str,
    ) -> None:
        """Killed (as a crash would) or shut down: 503 while it is gone, served once back."""
        with serve_app(crashable.url("faults")) as api:
            customer = api.create(name=f"Before the {outage}")
            fill_pool(api, background)
            getattr(crashable, outage)()
            assert_all_unavailable(api, customer["id"], background)
            crashable.start()
            wait_until_served(api, customer["id"])

    @pytest.mark.parametrize(
        ("sqlstate", "message"),
        [
            ("57P03", "the database system is starting up"),
            ("57P03", "the database system is shutting down"),
            ("57P03", "the database system is in recovery mode"),
            ("53300", "sorry, too many clients already"),
            ("57P01", "terminating connection due to administrator command"),
            ("57P02", "terminating connection because of crash of another server process"),
        ],
    )
    def test_server_refusing_connections_is_unavailable(
        self, serve_app: ServeApp, shared_database: str, sqlstate: str, message: str
    ) -> None:
        with (
            RefusingPostgres(sqlstate, message) as server,
            serve_app(via_port(shared_database, server.port)) as api,
        ):
            for call in every_endpoint(api, "0190d5e4-0000-7000-8000-000000000000"):
                assert_unavailable(call())

    def test_unresolvable_host_is_unavailable(self, serve_app: ServeApp) -> None:
        with serve_app("postgresql://postgres@database.invalid:5432/faults") as api:
            response, seconds = timed(lambda: api.get("/api/v1/customers"))
            assert_unavailable(response)
            assert seconds < ANSWER_BOUND_SECONDS


@pytest.fixture
def link(postgres_server: PostgresServer) -> Iterator[FaultyLink]:
    """A network path to the shared server that the test can break."""
    with FaultyLink(postgres_server.port) as link:
        yield link


class TestBrokenNetwork:
    def test_silent_network_is_unavailable_within_the_timeout_then_recovers(
        self, serve_app: ServeApp, shared_database: str, link: FaultyLink, background: Background
    ) -> None:
        # Two seconds, so that one timeout and the grace are told apart from two timeouts.
        timeout_ms = "2000"
        with serve_app(
            via_port(shared_database, link.port), statement_timeout_ms=timeout_ms
        ) as api:
            customer = api.create(name="Before the silence")
            fill_pool(api, background)
            link.blackhole()
            assert_all_unavailable(api, customer["id"], background, answer_bound(2.0))
            link.heal()
            wait_until_served(api, customer["id"])

    def test_reset_connections_are_unavailable_then_recover(
        self, serve_app: ServeApp, shared_database: str, link: FaultyLink, background: Background
    ) -> None:
        with serve_app(via_port(shared_database, link.port)) as api:
            customer = api.create(name="Before the reset")
            fill_pool(api, background)
            link.reset()
            futures = [background(lambda: api.get("/api/v1/customers")) for _ in range(8)]
            for future in futures:
                # A connection the pool already saw closed is replaced before use.
                response = future.result(timeout=10)
                if response.status_code != 200:
                    assert_unavailable(response)
            wait_until_served(api, customer["id"])

    def test_sessions_terminated_by_the_server_are_unavailable_then_replaced(
        self, serve_app: ServeApp, shared_database: str, link: FaultyLink, background: Background
    ) -> None:
        with serve_app(via_port(shared_database, link.port)) as api:
            customer = api.create(name="Before the termination")
            fill_pool(api, background)
            link.terminate_sessions("57P01", "terminating connection due to administrator command")
            futures = [background(lambda: api.get("/api/v1/customers")) for _ in range(8)]
            responses = [future.result(timeout=10) for future in futures]
            # Which request meets a terminated session first is up to the threads; at least
            # one does, and those after it may already be served on a replacement.
            unavailable = [response for response in responses if response.status_code != 200]
            assert unavailable, "no request met a terminated session"
            for response in unavailable:
                assert_unavailable(response)
            wait_until_served(api, customer["id"])


class TestReadOnlyDatabase:
    def test_a_standby_refusing_writes_is_unavailable_for_writes_only(
        self, serve_app: ServeApp, shared_database: str
    ) -> None:
        with serve_app(shared_database) as writer:
            customer = writer.create(name="Written before the failover")
        # What a client meets when a failover leaves it connected to a read-only standby.
        with serve_app(f"{shared_database}?default_transaction_read_only=on") as standby:
            api = Api(standby.client, writer.org)
            url = f"/api/v1/customers/{customer['id']}"
            assert_unavailable(api.post("/api/v1/customers", json={"name": "Refused"}))
            assert_unavailable(api.patch(url, json={"notes": "refused"}))
            assert api.get(url).json()["data"] == customer


class TestReadiness:
    def test_readiness_answers_within_a_second_while_the_database_is_silent(
        self, serve_app: ServeApp, shared_database: str, link: FaultyLink, background: Background
    ) -> None:
        # Statements may wait the default five seconds; the probe may not.
        with serve_app(via_port(shared_database, link.port), statement_timeout_ms="5000") as api:
            customer = api.create(name="Before the silence")
            link.blackhole()
            response, seconds = timed(lambda: api.get("/readyz"))
            assert_unavailable(response)
            assert seconds < READINESS_BOUND_SECONDS
            link.heal()
            wait_until_served(api, customer["id"])
