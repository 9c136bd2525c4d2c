"""Logs name requests, never the tokens or the personal data that travel in them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from tests.conftest import Api, make_settings
from tests.support.contract import CUSTOMERS
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET, bearer, session_token

PERSONAL = {
    "name": "Jürgen Privatperson",
    "email": "juergen.privat@example.org",
    "phone": "+49 170 5550199",
    "notes": "Prefers invoices by post",
}


class TestLogs:
    def test_carry_no_token_and_no_personal_data(
        self, api: Api, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.DEBUG):
            created = api.create(**PERSONAL)
            api.get(f"/api/v1/customers/{created['id']}")
            api.get("/api/v1/customers", params={"q": "Privatperson"})
            api.patch(f"/api/v1/customers/{created['id']}", json={"phone": "+49 170 5550100"})
            api.post("/api/v1/customers", json={**PERSONAL, "email": "not an address"})
            api.get("/api/v1/customers", headers={"Authorization": "Bearer forged.token.value"})

        # The service's own loggers; the test's HTTP client logs the URLs it sends.
        logged = "\n".join(
            record.getMessage()
            for record in caplog.records
            if record.name.startswith(("expensicat", "asyncpg"))
        )
        assert "/api/v1/customers" in logged  # the access log did record the requests
        token = api.headers["Authorization"].removeprefix("Bearer ")
        secrets = [token, "forged.token.value", "Privatperson", "+49 170 55501"]
        for secret in [*secrets, *PERSONAL.values()]:
            assert secret not in logged


@pytest.mark.slow
class TestJsonLogs:
    def test_one_object_per_line_with_the_request_fields_and_nothing_personal(
        self, tmp_path: Path
    ) -> None:
        settings = make_settings(f"sqlite:///{tmp_path / 'expensicat.db'}", tmp_path)
        env = {"session_secret": TEST_SECRET, "log_format": "json", "log_level": "INFO"}
        token = session_token("org-logs", user="alice")
        with ApiServer(tmp_path / "serve.log", settings=settings, env=env) as server:
            headers = {**bearer(token), "X-Request-Id": "logged-1"}
            created = httpx.post(f"{server.url}{CUSTOMERS}", json=PERSONAL, headers=headers)
            assert created.status_code == 201
            httpx.get(f"{server.url}{CUSTOMERS}?q=Privatperson", headers=bearer(token))
            output = server.output()

        lines = [json.loads(line) for line in output.splitlines() if line.strip()]
        access = [line for line in lines if line["logger"] == "expensicat.access"]
        create = next(line for line in access if line["request_id"] == "logged-1")
        assert {"time", "level", "message"} <= set(create)
        assert create["method"] == "POST"
        assert create["route"] == CUSTOMERS
        assert create["status"] == 201
        assert isinstance(create["duration_ms"], float)
        assert create["organization_id"] == "org-logs"
        assert create["user_id"] == "alice"
        assert create["client_id"] is None
        for secret in [token, "Privatperson", "q=", *PERSONAL.values()]:
            assert secret not in output
