"""Webhook delivery through a PostgreSQL crash: the server is killed while deliveries are in
flight and started again; every event still arrives."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.faults.conftest import service_on
from tests.support.postgres import PostgresServer
from tests.support.receiver import Receiver
from tests.support.tokens import bearer, session_token

DELIVERY = {
    "webhook_worker": "true",
    "webhook_allow_http": "true",
    "webhook_allowed_networks": "127.0.0.1/32",
    "webhook_retry_schedule": "1,1,1,1,1",
}


def test_events_in_flight_when_postgres_crashes_all_arrive(
    crashable: PostgresServer, tmp_path: Path
) -> None:
    org = f"org-outage-{time.monotonic_ns()}"
    with (
        Receiver() as receiver,
        service_on(crashable.url("faults"), tmp_path, DELIVERY) as server,
        httpx.Client(base_url=server.url, headers=bearer(session_token(org))) as api,
    ):
        receiver.behaviour = _slowly
        api.post("/api/v1/webhook_endpoints", json={"url": receiver.url, "events": ["*"]})
        ids = [
            api.post("/api/v1/customers", json={"name": f"Customer {n}"}).json()["data"]["id"]
            for n in range(60)
        ]
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        crashable.kill()
        time.sleep(2)
        crashable.start()
        deadline = time.monotonic() + 90
        while _delivered(receiver) < set(ids) and time.monotonic() < deadline:
            time.sleep(0.2)

    assert _delivered(receiver) == set(ids)


def _slowly() -> int:
    time.sleep(0.05)
    return 200


def _delivered(receiver: Receiver) -> set[str]:
    return {one.json["data"]["id"] for one in receiver.received}
