"""GET /api/v1/customers/{id}: one customer of the caller's organization, with its ETag."""

from __future__ import annotations

import uuid

import pytest
import uuid_utils

from tests.conftest import Api
from tests.support.contract import assert_customer, assert_error, customer_url

MALFORMED_IDS = ["abc", "123", "not-a-uuid", "00000000-0000-0000-0000", "x" * 300, "%00", "🐈"]


class TestGetCustomer:
    def test_returns_the_customer_in_the_data_envelope(self, api: Api) -> None:
        created = api.create(name="Acme", city="Berlin")

        response = api.get(customer_url(created["id"]))

        assert response.status_code == 200
        assert response.json() == {"data": created}
        assert_customer(response.json()["data"])

    def test_carries_a_strong_etag(self, api: Api) -> None:
        created = api.create(name="Acme")

        tag = api.get(customer_url(created["id"])).headers["etag"]

        assert tag.startswith('"')
        assert tag.endswith('"')
        assert len(tag) > 2

    def test_unknown_id_is_not_found(self, api: Api) -> None:
        response = api.get(customer_url(str(uuid_utils.uuid7())))

        assert_error(response, 404, "NOT_FOUND")

    @pytest.mark.parametrize("customer_id", MALFORMED_IDS)
    def test_malformed_id_is_not_found(self, api: Api, customer_id: str) -> None:
        assert_error(api.get(customer_url(customer_id)), 404, "NOT_FOUND")

    def test_other_organization_is_not_found(self, api: Api, other_api: Api) -> None:
        theirs = other_api.create(name="Their customer")

        response = api.get(customer_url(theirs["id"]))
        unknown = api.get(customer_url(str(uuid.uuid4())))

        assert_error(response, 404, "NOT_FOUND")
        assert response.json() == unknown.json()  # nothing tells it apart from a missing one


class TestGetCustomerIfNoneMatch:
    def test_current_etag_is_not_modified(self, api: Api) -> None:
        created = api.create(name="Acme")
        tag = api.get(customer_url(created["id"])).headers["etag"]

        response = api.get(customer_url(created["id"]), headers={"If-None-Match": tag})

        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == tag

    @pytest.mark.parametrize("header", ["W/{tag}", '"nope", {tag}', "*"])
    def test_weak_listed_or_any_tag_matches(self, api: Api, header: str) -> None:
        created = api.create(name="Acme")
        tag = api.get(customer_url(created["id"])).headers["etag"]

        response = api.get(
            customer_url(created["id"]), headers={"If-None-Match": header.format(tag=tag)}
        )

        assert response.status_code == 304

    def test_stale_etag_gets_the_current_customer(self, api: Api) -> None:
        created = api.create(name="Acme")
        stale = api.get(customer_url(created["id"])).headers["etag"]
        api.patch(customer_url(created["id"]), json={"name": "Acme 2"})

        response = api.get(customer_url(created["id"]), headers={"If-None-Match": stale})

        assert response.status_code == 200
        assert response.json()["data"]["name"] == "Acme 2"
        assert response.headers["etag"] != stale

    def test_other_organization_is_not_found_even_with_if_none_match(
        self, api: Api, other_api: Api
    ) -> None:
        theirs = other_api.create(name="Their customer")

        response = api.get(customer_url(theirs["id"]), headers={"If-None-Match": "*"})

        assert_error(response, 404, "NOT_FOUND")
