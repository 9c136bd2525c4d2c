"""CORS on the wire: preflights for an exact allow-list of origins, nothing allowed by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from expensicat.config import Settings
from expensicat.db.migrate import upgrade
from tests.conftest import make_settings
from tests.support.apps import serving
from tests.support.contract import CUSTOMERS, assert_error
from tests.support.tokens import bearer, session_token

ALLOWED = "https://app.example.com"
PREFLIGHT = {
    "Origin": ALLOWED,
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "authorization, content-type, if-match, idempotency-key",
}


def settings_allowing(tmp_path: Path, origins: str) -> Settings:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'expensicat.db'}", tmp_path, cors_origins=origins
    )
    upgrade(settings.database)
    return settings


@pytest.fixture
def allowing(tmp_path: Path) -> Iterator[TestClient]:
    with serving(settings_allowing(tmp_path, ALLOWED)) as client:
        yield client


class TestPreflight:
    def test_an_allowed_origin_may_use_the_api_methods_and_headers(
        self, allowing: TestClient
    ) -> None:
        response = allowing.options(f"{CUSTOMERS}/x", headers=PREFLIGHT)

        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert set(response.headers["access-control-allow-methods"].split(", ")) >= {
            "GET", "POST", "PATCH"
        }  # fmt: skip
        allowed_headers = response.headers["access-control-allow-headers"].lower()
        for header in ("authorization", "content-type", "idempotency-key", "if-match"):
            assert header in allowed_headers

    def test_another_origin_is_refused_in_the_envelope(self, allowing: TestClient) -> None:
        response = allowing.options(CUSTOMERS, headers={**PREFLIGHT, "Origin": "https://evil.test"})

        assert_error(response, 403, "FORBIDDEN")
        assert "access-control-allow-origin" not in response.headers

    def test_nothing_is_allowed_by_default(self, tmp_path: Path) -> None:
        with serving(settings_allowing(tmp_path, "")) as client:
            response = client.options(CUSTOMERS, headers=PREFLIGHT)
            simple = client.get(
                CUSTOMERS, headers={"Origin": ALLOWED, **bearer(session_token("o"))}
            )

        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-origin" not in simple.headers


class TestActualRequests:
    def test_answers_name_the_origin_and_expose_the_api_headers(self, allowing: TestClient) -> None:
        response = allowing.post(
            CUSTOMERS,
            json={"name": "Acme"},
            headers={"Origin": ALLOWED, **bearer(session_token("org-cors"))},
        )

        assert response.status_code == 201
        assert response.headers["access-control-allow-origin"] == ALLOWED
        exposed = {
            name.strip().lower()
            for name in response.headers["access-control-expose-headers"].split(",")
        }
        assert exposed >= {
            "etag", "location", "retry-after", "x-request-id",
            "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
        }  # fmt: skip
