"""Budgets through the real app: 5 requests per organization, one more each second."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from starlette.testclient import TestClient

from expensicat.api.app import create_app
from expensicat.db.migrate import upgrade
from tests.conftest import Api
from tests.ratelimit.conftest import BURST, limited_settings

CUSTOMERS = "/api/v1/customers"
MISSING = f"{CUSTOMERS}/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
JSON_TYPE = {"Content-Type": "application/json"}


def budget(response: httpx2.Response) -> tuple[str | None, str | None, str | None]:
    headers = response.headers
    return (
        headers.get("ratelimit-limit"),
        headers.get("ratelimit-remaining"),
        headers.get("ratelimit-reset"),
    )


def exhaust(api: Api) -> list[httpx2.Response]:
    """Spend the whole budget on reads, which all succeed."""
    responses = [api.get(CUSTOMERS) for _ in range(BURST)]
    assert [response.status_code for response in responses] == [200] * BURST
    return responses


class TestOverBudget:
    def test_the_request_after_the_burst_is_429_rate_limited(self, limited_api: Api) -> None:
        remaining = [budget(response)[1] for response in exhaust(limited_api)]
        assert remaining == ["4", "3", "2", "1", "0"]

        response = limited_api.get(CUSTOMERS)

        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert budget(response) == ("5", "0", "5")
        error = response.json()["error"]
        assert error["code"] == "RATE_LIMITED"
        assert error["message"]
        assert error["details"] == {}

    def test_reads_and_writes_spend_the_same_budget(self, limited_api: Api) -> None:
        for _ in range(BURST):
            assert limited_api.post(CUSTOMERS, json={"name": "Acme"}).status_code == 201
        assert limited_api.get(CUSTOMERS).status_code == 429

    def test_a_refused_create_creates_nothing(self, limited_api: Api) -> None:
        exhaust(limited_api)
        assert limited_api.post(CUSTOMERS, json={"name": "Acme"}).status_code == 429
        time.sleep(1.05)
        assert limited_api.list()["data"] == []

    def test_another_organization_is_unaffected(
        self, limited_api: Api, limited_client: TestClient
    ) -> None:
        exhaust(limited_api)
        other = Api(limited_client, f"org-{uuid.uuid4().hex[:12]}")
        response = other.get(CUSTOMERS)
        assert response.status_code == 200
        assert budget(response)[1] == "4"

    def test_a_token_comes_back_each_second(self, limited_api: Api) -> None:
        exhaust(limited_api)
        assert limited_api.get(CUSTOMERS).status_code == 429
        time.sleep(1.05)
        response = limited_api.get(CUSTOMERS)
        assert response.status_code == 200
        assert budget(response)[1] == "0"
        assert limited_api.get(CUSTOMERS).status_code == 429


def created_then(call: Callable[[Api, str], httpx2.Response]) -> Callable[[Api], httpx2.Response]:
    """A request about a customer created first, which leaves 4 of the budget."""

    def request(api: Api) -> httpx2.Response:
        return call(api, f"{CUSTOMERS}/{api.create(name='Acme')['id']}")

    return request


EVERY_KIND_OF_ANSWER: dict[str, tuple[Callable[[Api], httpx2.Response], int, str]] = {
    "list": (lambda api: api.get(CUSTOMERS), 200, "4"),
    "create": (lambda api: api.post(CUSTOMERS, json={"name": "Acme"}), 201, "4"),
    "get": (created_then(lambda api, url: api.get(url)), 200, "3"),
    "not modified": (
        created_then(lambda api, url: api.get(url, headers={"If-None-Match": "*"})),
        304,
        "3",
    ),
    "invalid query": (lambda api: api.get(CUSTOMERS, params={"limit": "0"}), 400, "4"),
    "invalid body": (lambda api: api.post(CUSTOMERS, json={"nope": 1}), 400, "4"),
    "not found": (lambda api: api.get(MISSING), 404, "4"),
    "stale If-Match": (
        created_then(lambda api, url: api.patch(url, json={}, headers={"If-Match": '"0"'})),
        412,
        "3",
    ),
    "too large": (
        lambda api: api.post(CUSTOMERS, content=b"{" * 70_000, headers=JSON_TYPE),
        413,
        "4",
    ),
    "not JSON": (lambda api: api.post(CUSTOMERS, content=b"name=Acme"), 415, "4"),
}


class TestBudgetHeaders:
    @pytest.mark.parametrize("kind", EVERY_KIND_OF_ANSWER)
    def test_every_answer_to_an_authenticated_request_carries_them(
        self, limited_api: Api, kind: str
    ) -> None:
        send, status, remaining = EVERY_KIND_OF_ANSWER[kind]
        response = send(limited_api)
        assert response.status_code == status, response.text
        assert budget(response) == ("5", remaining, "1" if remaining == "4" else "2")

    def test_even_an_internal_error_carries_them(self, tmp_path: Path, org: str) -> None:
        settings = limited_settings(tmp_path)
        upgrade(settings.database)
        with sqlite3.connect(settings.database.sqlite_path) as db:
            # A fault no code path expects: the database refuses every insert.
            db.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON customers "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            response = Api(client, org).post(CUSTOMERS, json={"name": "Acme"})
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "INTERNAL_ERROR"
        assert budget(response) == ("5", "4", "1")

    def test_a_request_that_fails_authentication_carries_none(
        self, limited_client: TestClient
    ) -> None:
        response = limited_client.get(CUSTOMERS, headers={"Authorization": "Bearer nonsense"})
        assert response.status_code == 401
        assert budget(response) == (None, None, None)

    def test_health_checks_carry_none(self, limited_client: TestClient) -> None:
        response = limited_client.get("/healthz")
        assert response.status_code == 200
        assert budget(response) == (None, None, None)


class TestLimitingOff:
    def test_no_budget_no_headers(self, api: Api) -> None:
        responses = [api.get(CUSTOMERS) for _ in range(BURST + 1)]
        assert {response.status_code for response in responses} == {200}
        assert {budget(response) for response in responses} == {(None, None, None)}


class TestOpenApiDocument:
    def test_every_authenticated_operation_may_answer_429_with_retry_after(
        self, limited_client: TestClient
    ) -> None:
        document = limited_client.get("/api/v1/openapi.json").json()
        operations = [
            operation for path in document["paths"].values() for operation in path.values()
        ]
        # The probes are for orchestrators: no token, no budget.
        answers = [
            op["responses"]
            for op in operations
            if isinstance(op, dict) and "responses" in op and op["security"]
        ]
        assert len(answers) == 17  # customers (7), the changes feed, webhook endpoints (9)
        for responses in answers:
            assert "Retry-After" in responses["429"]["headers"]
