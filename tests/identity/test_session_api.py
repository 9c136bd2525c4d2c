"""POST /api/auth/session on each backend: email and password in, the session JWT the API
accepts out; every failure the same answer; guessing slowed, never locked out."""

from __future__ import annotations

import statistics
import time
import uuid

import httpx2
import jwt
import pytest
from starlette.testclient import TestClient

from tests.support.accounts import PASSWORD, identity, new_user
from tests.support.contract import CUSTOMERS, assert_error
from tests.support.tokens import bearer

SESSION = "/api/auth/session"


def sign_in(client: TestClient, email: str, password: str, **extra: str) -> httpx2.Response:
    return client.post(SESSION, json={"email": email, "password": password, **extra})


class TestSignIn:
    def test_answers_a_session_token_the_api_accepts(self, client: TestClient, org: str) -> None:
        email = new_user(client, org)

        response = sign_in(client, email.upper(), PASSWORD)

        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        data = response.json()["data"]
        assert data["organization_id"] == org
        claims = jwt.decode(data["token"], options={"verify_signature": False})
        assert claims["org_id"] == org
        listed = client.get(CUSTOMERS, headers=bearer(data["token"]))
        assert listed.status_code == 200

    def test_signs_in_to_the_organization_asked_for(self, client: TestClient, org: str) -> None:
        other = f"org-{uuid.uuid4().hex[:12]}"
        email = new_user(client, org, other)

        response = sign_in(client, email, PASSWORD, organization_id=other)

        assert response.json()["data"]["organization_id"] == other
        assert sorted(response.json()["data"]["organizations"]) == sorted([org, other])

    def test_every_failure_is_the_same_answer(self, client: TestClient, org: str) -> None:
        email = new_user(client, org)
        disabled = new_user(client, org)
        client.portal.call(identity(client).disable, disabled)  # type: ignore[union-attr]

        answers = [
            sign_in(client, f"nobody-{uuid.uuid4().hex}@example.com", PASSWORD),
            sign_in(client, email, "wrong password, long enough"),
            sign_in(client, disabled, PASSWORD),
            sign_in(client, email, PASSWORD, organization_id="not-theirs"),
        ]

        for answer in answers:
            assert_error(answer, 401, "UNAUTHORIZED")
        assert len({answer.json()["error"]["message"] for answer in answers}) == 1

    def test_bad_bodies_are_refused_by_field(self, client: TestClient) -> None:
        response = client.post(SESSION, json={"email": 3, "passwd": "x"})

        assert_error(response, 400, "VALIDATION_ERROR")
        assert set(response.json()["error"]["details"]) == {"email", "password", "passwd"}
        assert_error(client.post(SESSION, content=b"{"), 415, "UNSUPPORTED_MEDIA_TYPE")


class TestGuessing:
    def test_unknown_user_and_wrong_password_take_the_same_time(
        self, client: TestClient, org: str
    ) -> None:
        email = new_user(client, org)
        unknown: list[float] = []
        wrong: list[float] = []
        for _ in range(20):
            unknown.append(_timed(client, f"nobody-{uuid.uuid4().hex}@example.com"))
            wrong.append(_timed(client, email))
            # A success clears the account's count, so that no wait skews the next try.
            assert sign_in(client, email, PASSWORD).status_code == 200

        slower = max(statistics.median(unknown), statistics.median(wrong))
        faster = min(statistics.median(unknown), statistics.median(wrong))
        # Both hash once; a path without the hash would be several times faster.
        assert faster > 0.7 * slower, (unknown, wrong)

    def test_guessing_is_slowed_and_the_owner_still_signs_in(
        self, client: TestClient, org: str
    ) -> None:
        email = new_user(client, org)
        for _ in range(4):
            assert sign_in(client, email, "a wrong guess").status_code == 401

        refused = sign_in(client, email, PASSWORD)

        assert_error(refused, 429, "RATE_LIMITED")
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 60
        time.sleep(retry_after)
        assert sign_in(client, email, PASSWORD).status_code == 200
        assert sign_in(client, email, PASSWORD).status_code == 200


def _timed(client: TestClient, email: str) -> float:
    started = time.perf_counter()
    response = sign_in(client, email, "wrong password, long enough")
    elapsed = time.perf_counter() - started
    assert response.status_code == 401, response.text
    return elapsed


class TestHostileInput:
    @pytest.mark.parametrize(
        ("body", "status"),
        [
            (b'{"email": "a\\u0000@example.com", "password": "long enough"}', 401),
            (b'{"email": "a@example.com", "password": "\\u0000 long enough"}', 401),
            (b'{"email": "a@example.com", "password": "\\ud800 long enough"}', 400),
        ],
    )
    def test_text_no_database_stores_is_refused_without_a_fault(
        self, client: TestClient, body: bytes, status: int
    ) -> None:
        response = client.post(SESSION, content=body, headers={"Content-Type": "application/json"})

        assert_error(response, status, "UNAUTHORIZED" if status == 401 else "INVALID_JSON")
