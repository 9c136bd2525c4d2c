"""Webhook delivery end to end, on each backend: a real `expensicat serve` delivering to real
receivers on loopback addresses, with the retry schedule compressed to seconds. Every
delivery is checked with the `standardwebhooks` package, a verifier we did not write.

Only 127.0.0.1 is opened to deliveries (EXPENSICAT_WEBHOOK_ALLOWED_NETWORKS); 127.0.0.2
stands for every address the policy refuses, so no connection ever leaves loopback.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from expensicat.config import Settings
from tests.support.databases import own_database
from tests.support.receiver import Receiver
from tests.support.server import ApiServer
from tests.support.tokens import bearer, session_token

ENDPOINTS = "/api/v1/webhook_endpoints"
CUSTOMERS = "/api/v1/customers"
DELIVERY = {
    "webhook_worker": "true",
    "webhook_allow_http": "true",
    "webhook_allowed_networks": "127.0.0.1/32",
    "webhook_retry_schedule": "1,2,4",
    "webhook_disable_after_seconds": "10",  # past the last of the retries
    # A hanging receiver is given up on after this.
    "webhook_timeout_seconds": "2",
    # One at a time: sends start in order, and so arrive in order.
    "webhook_concurrency": "1",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("webhooks")
    settings: Settings = own_database(request.param, request, folder)
    with ApiServer(folder / "serve.log", settings=settings, env=DELIVERY) as running:
        yield running


@pytest.fixture
def api(server: ApiServer) -> Iterator[httpx.Client]:
    org = f"org-{time.monotonic_ns()}"
    with httpx.Client(base_url=server.url, headers=bearer(session_token(org))) as client:
        yield client


def register(api: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = api.post(ENDPOINTS, json={"url": url, "events": events or ["*"]})
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()["data"]
    return endpoint


def attempts(api: httpx.Client, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.get(f"{ENDPOINTS}/{endpoint['id']}/deliveries", params={"limit": 100})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found[::-1]  # oldest first


def until(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def verified(secret: str, received: Any) -> Any:
    return Webhook(secret).verify(received.body, received.headers)


def test_every_change_arrives_signed_in_order(api: httpx.Client) -> None:
    with Receiver() as receiver:
        endpoint = register(api, receiver.url)
        customer = api.post(CUSTOMERS, json={"name": "Acme"}).json()["data"]
        url = f"{CUSTOMERS}/{customer['id']}"
        updated = api.patch(url, json={"city": "Köln"}).json()["data"]
        archived = api.post(f"{url}/archive").json()["data"]
        receiver.wait_for(3)
        api.delete(url)
        received = receiver.wait_for(4)

    payloads = [verified(endpoint["secret"], one) for one in received]
    assert [p["type"] for p in payloads] == [
        "customer.created", "customer.updated", "customer.archived", "customer.erased",
    ]  # fmt: skip
    assert [p["data"] for p in payloads] == [customer, updated, archived, {"id": customer["id"]}]
    assert [p["customer_version"] for p in payloads] == [1, 2, 3, None]
    feed = api.get(f"{CUSTOMERS}/changes").json()["data"]
    assert [one.headers["webhook-id"] for one in received] == [c["id"] for c in feed]
    assert [p["timestamp"] for p in payloads] == [c["occurred_at"] for c in feed]
    log = attempts(api, endpoint)
    assert [(a["type"], a["status_code"], a["error"]) for a in log] == [
        (p["type"], 200, None) for p in payloads
    ]


def test_an_endpoint_gets_only_the_events_it_asked_for(api: httpx.Client) -> None:
    with Receiver() as receiver:
        endpoint = register(api, receiver.url, ["customer.archived"])
        customer = api.post(CUSTOMERS, json={"name": "Acme"}).json()["data"]
        api.post(f"{CUSTOMERS}/{customer['id']}/archive")
        received = receiver.wait_for(1)
        time.sleep(0.5)

    assert [verified(endpoint["secret"], one)["type"] for one in received] == ["customer.archived"]


def test_a_failing_receiver_is_retried_on_schedule_then_the_event_fails_and_it_is_disabled(
    api: httpx.Client,
) -> None:
    with Receiver() as receiver:
        receiver.behaviour = lambda: 500
        endpoint = register(api, receiver.url)
        api.post(CUSTOMERS, json={"name": "Acme"})
        received = receiver.wait_for(4, seconds=30)
        until(
            lambda: (
                len(attempts(api, endpoint)) == 4
                and not attempts(api, endpoint)[-1]["next_attempt_at"]
            )
        )
        until(lambda: api.get(f"{ENDPOINTS}/{endpoint['id']}").json()["data"]["enabled"] is False)
        time.sleep(1.5)

    assert len(received) == 4
    assert len({one.headers["webhook-id"] for one in received}) == 1  # the same event
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(received)]
    for gap, scheduled in zip(gaps, (1, 2, 4), strict=True):
        assert scheduled * 0.75 <= gap <= scheduled * 1.2 + 1, gaps
    log = attempts(api, endpoint)
    assert [a["status_code"] for a in log] == [500] * 4
    assert all(a["next_attempt_at"] for a in log[:3])
    disabled = api.get(f"{ENDPOINTS}/{endpoint['id']}").json()["data"]
    assert "failed" in disabled["disabled_reason"]


def test_a_receiver_down_then_up_gets_everything_in_order(api: httpx.Client) -> None:
    waiting = Receiver()  # its port, nobody listening yet
    endpoint = register(api, waiting.url)
    names = [f"Customer {n}" for n in range(3)]
    for name in names:
        api.post(CUSTOMERS, json={"name": name})
    until(lambda: len(attempts(api, endpoint)) >= 2)
    with waiting as receiver:
        received = receiver.wait_for(3, seconds=30)

    payloads = [verified(endpoint["secret"], one) for one in received]
    assert [p["data"]["name"] for p in payloads] == names  # in order, once it is back
    assert any(a["error"] and "connect" in a["error"] for a in attempts(api, endpoint))


def test_a_hanging_receiver_delays_no_other_endpoint(api: httpx.Client) -> None:
    with Receiver() as hanging, Receiver() as healthy:
        hanging.behaviour = lambda: None
        stuck = register(api, hanging.url)
        register(api, healthy.url)
        started = time.monotonic()
        for n in range(3):
            api.post(CUSTOMERS, json={"name": f"Customer {n}"})
        healthy.wait_for(3)
        took = time.monotonic() - started
        until(lambda: any(a["error"] == "timed out" for a in attempts(api, stuck)), seconds=20)

    assert len(healthy.received) == 3
    assert took < 5


def test_an_address_the_policy_refuses_is_never_contacted(api: httpx.Client) -> None:
    with Receiver(host="127.0.0.2") as outside:
        endpoint = register(api, outside.url)
        api.post(CUSTOMERS, json={"name": "Acme"})
        until(lambda: bool(attempts(api, endpoint)))
        time.sleep(0.3)

    assert outside.received == []
    first = attempts(api, endpoint)[0]
    assert first["status_code"] is None
    assert "refused" in first["error"]
    assert "loopback" in first["error"]


def test_after_a_rotation_deliveries_carry_both_signatures(api: httpx.Client) -> None:
    with Receiver() as receiver:
        endpoint = register(api, receiver.url)
        rotated = api.post(f"{ENDPOINTS}/{endpoint['id']}/rotate_secret").json()["data"]
        api.post(CUSTOMERS, json={"name": "Acme"})
        (received,) = receiver.wait_for(1)

    assert len(received.headers["webhook-signature"].split()) == 2
    assert verified(endpoint["secret"], received)["type"] == "customer.created"
    assert verified(rotated["secret"], received)["type"] == "customer.created"


def test_a_test_event_is_sent_at_once(api: httpx.Client) -> None:
    with Receiver() as receiver:
        endpoint = register(api, receiver.url)
        response = api.post(f"{ENDPOINTS}/{endpoint['id']}/test")
        (received,) = receiver.wait_for(1)

    assert response.status_code == 200
    attempt = response.json()["data"]
    assert (attempt["type"], attempt["status_code"], attempt["error"]) == (
        "webhook.test",
        200,
        None,
    )
    payload = verified(endpoint["secret"], received)
    assert payload["type"] == "webhook.test"
    assert received.headers["webhook-id"] == attempt["event_id"]


def test_a_delivered_event_can_be_sent_again(api: httpx.Client) -> None:
    with Receiver() as receiver:
        endpoint = register(api, receiver.url)
        api.post(CUSTOMERS, json={"name": "Acme"})
        (first,) = receiver.wait_for(1)
        event_id = first.headers["webhook-id"]
        url = f"{ENDPOINTS}/{endpoint['id']}/redeliver"
        response = api.post(url, json={"event_id": event_id})
        received = receiver.wait_for(2)

    assert response.status_code == 202
    assert response.json()["data"] == {"queued": 1}
    assert [one.headers["webhook-id"] for one in received] == [event_id, event_id]
