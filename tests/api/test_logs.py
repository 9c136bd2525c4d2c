"""Logs name requests, never the tokens or the personal data that travel in them."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import Api

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
