"""The webhook endpoints API as a client meets it, on each backend: register, read, change,
rotate, delete; the secret shown only when made; bad input refused by field; one
organization's endpoints only. Nothing is delivered here (no worker runs)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.contract import assert_error

ENDPOINTS = "/api/v1/webhook_endpoints"
URL = "https://books.example.com/hooks/expensicat"


def create(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.post(ENDPOINTS, json={"url": URL, "events": ["*"], **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


class TestCreate:
    def test_answers_the_endpoint_with_its_secret_and_a_location(self, api: Api) -> None:
        response = api.post(
            ENDPOINTS,
            json={"url": URL, "events": ["customer.created"], "description": " Books "},
        )

        assert response.status_code == 201
        created = response.json()["data"]
        assert response.headers["location"] == f"{ENDPOINTS}/{created['id']}"
        assert created["url"] == URL
        assert created["events"] == ["customer.created"]
        assert created["description"] == "Books"
        assert created["enabled"] is True
        assert created["disabled_reason"] is None
        assert created["organization_id"] == api.org
        assert created["secret"].startswith("whsec_")
        assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32

    @pytest.mark.parametrize(
        "url",
        [
            "https://books.example.com:65535/hooks?to=expensicat",
            "https://203.0.113.9:8443/",
            "https://hooks.example.com",
        ],
    )
    def test_any_https_url_with_a_host_is_taken(self, api: Api, url: str) -> None:
        assert create(api, url=url)["url"] == url

    def test_the_secret_is_shown_this_once(self, api: Api) -> None:
        created = create(api)

        found = api.get(f"{ENDPOINTS}/{created['id']}").json()["data"]
        listed = api.get(ENDPOINTS).json()["data"]

        assert "secret" not in found
        assert all("secret" not in endpoint for endpoint in listed)
        assert found == {key: value for key, value in created.items() if key != "secret"}

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"url": "not a url", "events": ["*"]}, "url"),
            ({"url": "http://books.example.com/hooks", "events": ["*"]}, "url"),
            ({"url": "ftp://books.example.com/hooks", "events": ["*"]}, "url"),
            ({"url": "https://user:pw@books.example.com/hooks", "events": ["*"]}, "url"),
            ({"url": "https://books.example.com/" + "a" * 2048, "events": ["*"]}, "url"),
            ({"url": "https:///hooks", "events": ["*"]}, "url"),
            ({"url": "https://books.example.com:65536/hooks", "events": ["*"]}, "url"),
            ({"url": "https://books.example.com/hooks#part", "events": ["*"]}, "url"),
            ({"url": 12, "events": ["*"]}, "url"),
            ({"url": URL, "events": []}, "events"),
            ({"url": URL, "events": ["customer.deleted"]}, "events"),
            ({"url": URL, "events": ["*", "customer.created"]}, "events"),
            ({"url": URL, "events": "customer.created"}, "events"),
            ({"url": URL}, "events"),
            ({"events": ["*"]}, "url"),
            ({"url": URL, "events": ["*"], "description": "x" * 256}, "description"),
            ({"url": URL, "events": ["*"], "secret": "whsec_mine"}, "secret"),
            ({"url": URL, "events": ["*"], "enabled": False}, "enabled"),
        ],
    )
    def test_bad_input_is_refused_by_field(
        self, api: Api, body: dict[str, Any], field: str
    ) -> None:
        response = api.post(ENDPOINTS, json=body)

        assert_error(response, 400, "VALIDATION_ERROR")
        assert field in response.json()["error"]["details"]


class TestReadAndChange:
    def test_lists_newest_first_and_pages(self, api: Api) -> None:
        ids = [create(api, description=str(n))["id"] for n in range(3)]

        first = api.get(ENDPOINTS, params={"limit": 2}).json()
        rest = api.get(ENDPOINTS, params={"limit": 2, "cursor": first["meta"]["next_cursor"]})

        assert [e["id"] for e in first["data"]] == ids[::-1][:2]
        assert [e["id"] for e in rest.json()["data"]] == ids[:1]
        assert rest.json()["meta"] == {"count": 1, "next_cursor": None}

    def test_patch_changes_what_it_names(self, api: Api) -> None:
        created = create(api, description="Books")
        url = f"{ENDPOINTS}/{created['id']}"

        response = api.patch(url, json={"events": ["customer.erased"], "enabled": False})

        assert response.status_code == 200
        updated = response.json()["data"]
        assert updated["events"] == ["customer.erased"]
        assert updated["enabled"] is False
        assert updated["disabled_reason"] == "Disabled by request."
        assert updated["description"] == "Books"
        assert updated["updated_at"] > created["updated_at"]
        enabled = api.patch(url, json={"enabled": True}).json()["data"]
        assert (enabled["enabled"], enabled["disabled_reason"]) == (True, None)

    def test_rotating_gives_a_new_secret(self, api: Api) -> None:
        created = create(api)

        response = api.post(f"{ENDPOINTS}/{created['id']}/rotate_secret")

        assert response.status_code == 200
        assert response.json()["data"]["secret"].startswith("whsec_")
        assert response.json()["data"]["secret"] != created["secret"]

    def test_delete_removes_it(self, api: Api) -> None:
        created = create(api)
        url = f"{ENDPOINTS}/{created['id']}"

        assert api.request("DELETE", url).status_code == 204
        assert_error(api.get(url), 404, "NOT_FOUND")
        assert_error(api.request("DELETE", url), 404, "NOT_FOUND")

    def test_redeliver_takes_one_of_since_and_event_id(self, api: Api) -> None:
        url = f"{ENDPOINTS}/{create(api)['id']}/redeliver"

        assert api.post(url, json={"since": "2026-01-01T00:00:00Z"}).status_code == 202
        assert_error(api.post(url, json={}), 400, "VALIDATION_ERROR")
        assert_error(api.post(url, json={"since": "yesterday"}), 400, "VALIDATION_ERROR")
        assert_error(api.post(url, json={"event_id": "x"}), 400, "VALIDATION_ERROR")
        both = {"since": "2026-01-01T00:00:00Z", "event_id": "01a22111-d838-7469-a872-4b12c0a1e7d5"}
        assert_error(api.post(url, json=both), 400, "VALIDATION_ERROR")


class TestTenancy:
    def test_another_organization_sees_none_of_them(self, api: Api, other_api: Api) -> None:
        created = create(api)
        url = f"{ENDPOINTS}/{created['id']}"

        assert other_api.get(ENDPOINTS).json()["data"] == []
        assert_error(other_api.get(url), 404, "NOT_FOUND")
        assert_error(other_api.patch(url, json={"enabled": False}), 404, "NOT_FOUND")
        assert_error(other_api.request("DELETE", url), 404, "NOT_FOUND")
        assert_error(other_api.post(f"{url}/rotate_secret"), 404, "NOT_FOUND")
        assert api.get(url).json()["data"]["enabled"] is True

    def test_an_id_that_is_no_uuid_is_not_found(self, api: Api) -> None:
        assert_error(api.get(f"{ENDPOINTS}/not-a-uuid"), 404, "NOT_FOUND")
