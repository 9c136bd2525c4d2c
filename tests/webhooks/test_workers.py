"""Delivery by `expensicat worker` processes, as operators run them beside the API: killed
with SIGKILL mid-batch again and again, they lose no event (the repeats are counted); two
workers on separate hosts sharing PostgreSQL deliver nothing twice; ten organizations'
events each reach their own endpoint only."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from expensicat.config import Settings
from tests.support.cli import expensicat
from tests.support.databases import own_database
from tests.support.receiver import Receiver
from tests.support.server import ApiServer, serve_env
from tests.support.tokens import bearer, session_token

ENDPOINTS = "/api/v1/webhook_endpoints"
CUSTOMERS = "/api/v1/customers"
DELIVERY = {
    "webhook_allow_http": "true",
    "webhook_allowed_networks": "127.0.0.1/32",
    "webhook_retry_schedule": "1,1,1",
    # A killed worker's deliveries go to the next after three times this.
    "webhook_timeout_seconds": "2",
}
# Longer than a worker's lease on what it was sending when it died, on a loaded machine.
RECOVERY_SECONDS = 60


class Worker:
    """`expensicat worker` in a process group of its own, on a host (data folder) of its own."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        env = {**DELIVERY, "data_dir": str(folder), "log_level": "WARNING"}
        self._env = serve_env(settings, env)
        self._log = folder / "worker.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [expensicat(), "worker"], env=self._env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self, signum: int = signal.SIGKILL) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signum)
            self._process.wait(30)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return own_database(request.param, request, tmp_path / "serve")


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[ApiServer]:
    # Accepts the receivers' URLs, and delivers nothing itself: the workers do.
    with ApiServer(tmp_path / "serve.log", settings=settings, env=DELIVERY) as running:
        yield running


def client(server: ApiServer, org: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=bearer(session_token(org)), timeout=30)


def test_a_worker_killed_again_and_again_loses_no_event(
    server: ApiServer, settings: Settings, tmp_path: Path
) -> None:
    worker = Worker(settings, tmp_path / "worker")
    with Receiver() as receiver, client(server, "org-crash") as api:
        # Ten in flight: about 500 a second, so that each life of the worker (noticed within
        # 10 ms, then up to 50 ms more) delivers a few dozen, and six kills land while
        # events are still owed.
        receiver.behaviour = _in_twenty_ms
        secret = api.post(ENDPOINTS, json={"url": receiver.url, "events": ["*"]}).json()
        for n in range(600):
            assert api.post(CUSTOMERS, json={"name": f"Customer {n}"}).status_code == 201
        expected = {change["id"] for change in _feed(api)}
        kills: list[int] = []
        try:
            while len(kills) < 6 and len(receiver.received) < len(expected) // 2:
                worker.start()
                before = len(receiver.received)
                _until(lambda before=before: len(receiver.received) > before, seconds=30)
                time.sleep(random.uniform(0, 0.05))  # mid-batch
                worker.kill()
                kills.append(len(receiver.received))
            worker.start()
            _until(lambda: expected <= {r.headers["webhook-id"] for r in receiver.received})
        finally:
            worker.kill(signal.SIGTERM)

    ids = Counter(one.headers["webhook-id"] for one in receiver.received)
    repeats = sum(count - 1 for count in ids.values())
    print(
        f"{len(expected)} events, {len(receiver.received)} deliveries, {repeats} repeats, "
        f"killed after {kills} deliveries"
    )
    assert len(kills) == 6  # every kill landed while events were still owed
    assert set(ids) == expected
    verifier = Webhook(secret["data"]["secret"])
    assert all(verifier.verify(one.body, one.headers) for one in receiver.received)


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
def test_two_workers_on_two_hosts_deliver_each_event_once(
    server: ApiServer, settings: Settings, tmp_path: Path
) -> None:
    workers = [Worker(settings, tmp_path / f"host-{n}") for n in range(2)]
    with Receiver() as receiver, client(server, "org-two") as api:
        api.post(ENDPOINTS, json={"url": receiver.url, "events": ["*"]})
        try:
            for worker in workers:
                worker.start()
            for n in range(300):
                api.post(CUSTOMERS, json={"name": f"Customer {n}"})
            expected = {change["id"] for change in _feed(api)}
            _until(lambda: expected <= {r.headers["webhook-id"] for r in receiver.received})
            time.sleep(1)
        finally:
            for worker in workers:
                worker.kill(signal.SIGTERM)

    ids = Counter(one.headers["webhook-id"] for one in receiver.received)
    assert set(ids) == expected
    assert max(ids.values()) == 1


def test_each_organization_hears_only_of_its_own_customers(
    server: ApiServer, settings: Settings, tmp_path: Path
) -> None:
    worker = Worker(settings, tmp_path / "worker")
    orgs = [f"org-tenant-{n}" for n in range(10)]
    receivers = [Receiver() for _ in orgs]
    try:
        for receiver in receivers:
            receiver.__enter__()
        created: dict[str, set[str]] = {org: set() for org in orgs}
        for org, receiver in zip(orgs, receivers, strict=True):
            with client(server, org) as api:
                api.post(ENDPOINTS, json={"url": receiver.url, "events": ["*"]})
        worker.start()
        for n in range(20):
            for org in orgs:
                with client(server, org) as api:
                    customer = api.post(CUSTOMERS, json={"name": f"{org} {n}"}).json()["data"]
                    created[org].add(customer["id"])
        for org, receiver in zip(orgs, receivers, strict=True):
            _until(lambda receiver=receiver, org=org: len(receiver.received) >= len(created[org]))
    finally:
        worker.kill(signal.SIGTERM)
        for receiver in receivers:
            receiver.__exit__(None, None, None)

    for org, receiver in zip(orgs, receivers, strict=True):
        got = {one.json["data"]["id"] for one in receiver.received}
        assert got == created[org]
        assert {one.json["data"]["organization_id"] for one in receiver.received} == {org}


def _in_twenty_ms() -> int:
    time.sleep(0.02)
    return 200


def _feed(api: httpx.Client) -> list[dict[str, str]]:
    changes: list[dict[str, str]] = []
    cursor = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = api.get(f"{CUSTOMERS}/changes", params=params).json()
        changes += page["data"]
        cursor = page["meta"]["next_cursor"]
        if not page["meta"]["has_more"]:
            return changes


def _until(condition: object, seconds: float = RECOVERY_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
