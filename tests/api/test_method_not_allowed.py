"""A known path with a method it does not serve: 405 with every served method in Allow."""

from __future__ import annotations

import pytest

from tests.conftest import Api


class TestMethodNotAllowed:
    @pytest.mark.parametrize(
        ("method", "path", "allowed"),
        [
            ("DELETE", "/api/v1/customers", "GET, HEAD, POST"),
            ("OPTIONS", "/api/v1/customers", "GET, HEAD, POST"),
            (
                "PUT",
                "/api/v1/customers/0190a6b2-0000-7000-8000-000000000000",
                "DELETE, GET, HEAD, PATCH",
            ),
            (
                "POST",
                "/api/v1/customers/0190a6b2-0000-7000-8000-000000000000",
                "DELETE, GET, HEAD, PATCH",
            ),
        ],
    )
    def test_allow_names_every_method_of_the_path(
        self, api: Api, method: str, path: str, allowed: str
    ) -> None:
        response = api.request(method, path)
        assert response.status_code == 405
        assert response.headers["allow"] == allowed
        assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
