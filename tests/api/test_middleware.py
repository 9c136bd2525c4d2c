"""The last line of defence: a crash anywhere still answers in the envelope, with no internals."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from expensicat.api.metrics import UNMATCHED, Metrics
from expensicat.api.middleware import RequestContextMiddleware
from tests.support.contract import assert_error

SECRET_DETAIL = "password=hunter2 at /srv/expensicat/db.py line 42"


async def crash(request: Request) -> Response:
    raise RuntimeError(SECRET_DETAIL)


@pytest.fixture(scope="module")
def crashing() -> TestClient:
    app = Starlette(
        routes=[Route("/crash", crash)], middleware=[Middleware(RequestContextMiddleware)]
    )
    return TestClient(app, raise_server_exceptions=False)


class TestUnexpectedFault:
    def test_is_an_internal_error_in_the_envelope(self, crashing: TestClient) -> None:
        response = crashing.get("/crash")

        assert_error(response, 500, "INTERNAL_ERROR")
        assert SECRET_DETAIL not in response.text
        assert "RuntimeError" not in response.text

    def test_carries_a_request_id_that_the_log_also_names(
        self, crashing: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.ERROR, logger="expensicat.errors"):
            response = crashing.get("/crash", headers={"X-Request-Id": "trace-me-1"})

        assert response.headers["x-request-id"] == "trace-me-1"
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "trace-me-1" in logged
        assert "RuntimeError" in logged
        assert "in crash" in logged  # where it failed
        assert SECRET_DETAIL not in logged  # but not what the error said

    def test_is_counted_in_the_metrics_as_the_500_it_answered(self) -> None:
        metrics = Metrics()
        app = Starlette(
            routes=[Route("/crash", crash)],
            middleware=[Middleware(RequestContextMiddleware, metrics=metrics)],
        )
        client = TestClient(app, raise_server_exceptions=False)

        assert client.get("/crash").status_code == 500
        assert client.get("/nowhere").status_code == 404

        assert metrics.answered == {("/crash", "GET", 500): 1, (UNMATCHED, "GET", 404): 1}
        assert metrics.answering == 0
