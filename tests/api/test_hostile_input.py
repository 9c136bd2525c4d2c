"""Hostile input the server once mishandled: each is a clean 4xx now, on every database."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import Api


class TestListCustomers:
    @pytest.mark.parametrize("q", ["\x00", "ab\x00cd", "acme\x00"])
    def test_nul_in_search_is_a_validation_error(self, api: Api, q: str) -> None:
        api.create(name="Acme")
        response = api.get("/api/v1/customers", params={"q": q})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"] == {"q": ["Must not contain NUL characters."]}


class TestCreateCustomer:
    @pytest.mark.parametrize(
        "website",
        ["+0.0", "a.?%[?..", "x@b\x81F\x9e.", "Z.", "-acme.com", "ftp://acme.com", "acme.com:0"],
    )
    def test_website_that_is_no_url_is_a_validation_error(self, api: Api, website: str) -> None:
        response = api.post("/api/v1/customers", json={"name": "Acme", "website": website})
        assert response.status_code == 400
        assert list(response.json()["error"]["details"]) == ["website"]

    @pytest.mark.parametrize(
        ("website", "stored"),
        [
            ("acme.com", "https://acme.com"),
            (
                "HTTP://www.acme.co.uk:8080/about?lang=en#team",
                "HTTP://www.acme.co.uk:8080/about?lang=en#team",
            ),
            ("xn--mller-kva.de/", "https://xn--mller-kva.de/"),
            ("192.168.10.7", "https://192.168.10.7"),
        ],
    )
    def test_website_that_is_a_url_or_domain_is_kept(
        self, api: Api, website: str, stored: str
    ) -> None:
        assert api.create(name="Acme", website=website)["website"] == stored


class TestAuthentication:
    @pytest.mark.parametrize("organization", ["org\x001", "\x00", "org\ud8001", "org\n1"])
    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_organization_that_cannot_be_stored_is_unauthorized(
        self, client: TestClient, organization: str, method: str
    ) -> None:
        api = Api(client, organization)
        response = api.request(method, "/api/v1/customers", json={"name": "Acme"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
