"""Input a fuzzer found the server mishandling: each is a clean 4xx now, on every database."""

from __future__ import annotations

import pytest

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
