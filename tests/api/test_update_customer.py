"""PATCH /api/v1/customers/{id}: absent fields stay, null clears, If-Match guards the write."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.contract import (
    SERVER_FIELDS,
    assert_customer,
    assert_error,
    customer_url,
    timestamp,
)

ORIGINAL = {"name": "Acme", "email": "billing@acme.example", "city": "Berlin", "notes": "VIP"}


def patch(api: Api, customer: dict[str, Any], body: Any, **headers: str) -> Any:
    return api.patch(customer_url(customer["id"]), json=body, headers=headers)


def current(api: Api, customer: dict[str, Any]) -> dict[str, Any]:
    response = api.get(customer_url(customer["id"]))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["data"]
    return found


def etag_of(api: Api, customer: dict[str, Any]) -> str:
    tag: str = api.get(customer_url(customer["id"])).headers["etag"]
    return tag


class TestUpdateCustomer:
    def test_returns_200_with_the_whole_updated_customer(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)

        response = patch(api, customer, {"city": "Hamburg"})

        assert response.status_code == 200
        updated = response.json()["data"]
        assert_customer(updated)
        assert updated == {**customer, "city": "Hamburg", "updated_at": updated["updated_at"]}
        assert current(api, customer) == updated

    def test_absent_fields_are_unchanged(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)

        updated = patch(api, customer, {"notes": "Pays late"}).json()["data"]

        assert {key: updated[key] for key in ("name", "email", "city")} == {
            "name": "Acme",
            "email": "billing@acme.example",
            "city": "Berlin",
        }

    def test_null_clears_a_field(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)

        updated = patch(api, customer, {"email": None, "city": None}).json()["data"]

        assert (updated["email"], updated["city"], updated["notes"]) == (None, None, "VIP")

    def test_empty_string_clears_a_field(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)

        assert patch(api, customer, {"city": "  "}).json()["data"]["city"] is None

    def test_values_are_normalized_as_on_create(self, api: Api) -> None:
        customer = api.create(name="Acme")

        updated = patch(
            api, customer, {"name": " Acme AG ", "website": "acme.com", "country_code": "ch"}
        ).json()["data"]

        assert (updated["name"], updated["website"], updated["country_code"]) == (
            "Acme AG",
            "https://acme.com",
            "CH",
        )

    def test_empty_body_changes_nothing(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)
        tag = etag_of(api, customer)

        response = patch(api, customer, {})

        assert response.status_code == 200
        assert response.json()["data"] == customer
        assert response.headers["etag"] == tag
        assert current(api, customer)["updated_at"] == customer["updated_at"]

    def test_updated_at_moves_forward_on_every_change(self, api: Api) -> None:
        customer = api.create(name="Acme")
        stamps = [customer["updated_at"]]

        for city in ("Berlin", "Hamburg", "Berlin"):
            stamps.append(patch(api, customer, {"city": city}).json()["data"]["updated_at"])

        moments = [timestamp(stamp) for stamp in stamps]
        assert moments == sorted(set(moments))

    def test_created_at_never_changes(self, api: Api) -> None:
        customer = api.create(name="Acme")

        for name in ("Acme 2", "Acme 3"):
            assert (
                patch(api, customer, {"name": name}).json()["data"]["created_at"]
                == (customer["created_at"])
            )

    def test_etag_changes_on_every_update(self, api: Api) -> None:
        customer = api.create(name="Acme")
        tags = [etag_of(api, customer)]

        for city in ("Berlin", "Hamburg"):
            response = patch(api, customer, {"city": city})
            assert response.headers["etag"] == etag_of(api, customer)
            tags.append(response.headers["etag"])

        assert len(set(tags)) == 3


class TestUpdateCustomerValidation:
    def test_null_name_is_rejected(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)

        assert_error(patch(api, customer, {"name": None}), 400, "VALIDATION_ERROR", {"name"})
        assert current(api, customer) == customer

    @pytest.mark.parametrize("blank", ["", "  "])
    def test_blank_name_is_rejected(self, api: Api, blank: str) -> None:
        customer = api.create(**ORIGINAL)

        assert_error(patch(api, customer, {"name": blank}), 400, "VALIDATION_ERROR", {"name"})
        assert current(api, customer) == customer

    @pytest.mark.parametrize(
        ("body", "fields"),
        [
            ({"email": "nope"}, {"email"}),
            ({"website": "ftp://acme.com"}, {"website"}),
            ({"country_code": "XX"}, {"country_code"}),
            ({"name": "x" * 256}, {"name"}),
            ({"notes": "n" * 10_001}, {"notes"}),
            ({"city": 12}, {"city"}),
            ({"nickname": "A"}, {"nickname"}),
            ({"city": "Hamburg", "email": "nope", "extra": 1}, {"email", "extra"}),
        ],
    )
    def test_invalid_body_is_rejected_and_nothing_is_written(
        self, api: Api, body: dict[str, Any], fields: set[str]
    ) -> None:
        customer = api.create(**ORIGINAL)

        assert_error(patch(api, customer, body), 400, "VALIDATION_ERROR", fields)
        assert current(api, customer) == customer

    @pytest.mark.parametrize("field", SERVER_FIELDS)
    def test_server_field_is_rejected_by_name(self, api: Api, field: str) -> None:
        customer = api.create(**ORIGINAL)

        response = patch(api, customer, {field: customer[field]})

        assert_error(response, 400, "VALIDATION_ERROR", {field})


class TestUpdateCustomerNotFound:
    def test_unknown_id_is_not_found(self, api: Api) -> None:
        response = api.patch(customer_url(str(uuid.uuid4())), json={"name": "Acme"})

        assert_error(response, 404, "NOT_FOUND")

    @pytest.mark.parametrize("customer_id", ["abc", "123", "not-a-uuid", "x" * 300])
    def test_malformed_id_is_not_found(self, api: Api, customer_id: str) -> None:
        response = api.patch(customer_url(customer_id), json={"name": "Acme"})

        assert_error(response, 404, "NOT_FOUND")

    @pytest.mark.parametrize("body", [{"name": "Hijacked"}, {}])
    def test_other_organization_is_not_found_and_unchanged(
        self, api: Api, other_api: Api, body: dict[str, Any]
    ) -> None:
        theirs = other_api.create(**ORIGINAL)

        assert_error(patch(api, theirs, body), 404, "NOT_FOUND")
        assert current(other_api, theirs) == theirs

    def test_unknown_id_with_if_match_is_not_found(self, api: Api) -> None:
        response = api.patch(
            customer_url(str(uuid.uuid4())), json={"name": "Acme"}, headers={"If-Match": '"1"'}
        )

        assert_error(response, 404, "NOT_FOUND")


class TestUpdateCustomerIfMatch:
    def test_current_etag_updates(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)

        response = patch(api, customer, {"city": "Hamburg"}, **{"If-Match": etag_of(api, customer)})

        assert response.status_code == 200
        assert current(api, customer)["city"] == "Hamburg"

    @pytest.mark.parametrize("header", ["*", '"nope", {tag}'])
    def test_any_or_a_list_naming_the_current_etag_updates(self, api: Api, header: str) -> None:
        customer = api.create(**ORIGINAL)
        if_match = header.format(tag=etag_of(api, customer))

        response = patch(api, customer, {"city": "Hamburg"}, **{"If-Match": if_match})

        assert response.status_code == 200

    @pytest.mark.parametrize("body", [{"city": "Hamburg"}, {}])
    def test_stale_etag_fails_and_nothing_is_written(self, api: Api, body: dict[str, Any]) -> None:
        customer = api.create(**ORIGINAL)
        stale = etag_of(api, customer)
        changed = patch(api, customer, {"notes": "changed meanwhile"}).json()["data"]

        response = patch(api, customer, body, **{"If-Match": stale})

        assert_error(response, 412, "PRECONDITION_FAILED")
        assert current(api, customer) == changed

    def test_a_failed_precondition_carries_the_current_etag_to_retry_with(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)
        stale = etag_of(api, customer)
        patch(api, customer, {"notes": "changed meanwhile"})

        response = patch(api, customer, {"city": "Hamburg"}, **{"If-Match": stale})

        assert_error(response, 412, "PRECONDITION_FAILED")
        assert response.headers["etag"] == etag_of(api, customer) == '"2"'
        retry = patch(api, customer, {"city": "Hamburg"}, **{"If-Match": response.headers["etag"]})
        assert retry.status_code == 200

    @pytest.mark.parametrize("header", ["garbage", "2", '"1", garbage', "W/", '"1" "2"', ","])
    def test_a_header_that_is_no_list_of_entity_tags_is_a_validation_error(
        self, api: Api, header: str
    ) -> None:
        customer = api.create(**ORIGINAL)

        response = patch(api, customer, {"city": "Hamburg"}, **{"If-Match": header})

        assert_error(response, 400, "VALIDATION_ERROR", {"If-Match"})
        assert current(api, customer) == customer

    @pytest.mark.parametrize(
        "header",
        [
            "W/{tag}",
            '"garbage"',
            '""',
            '"01"',
            '"2147483648"',
            '"99999999999999999999"',
            '"' + "9" * 5000 + '"',
            '"01", "2147483648"',
        ],
    )
    def test_weak_or_foreign_etag_never_matches(self, api: Api, header: str) -> None:
        customer = api.create(**ORIGINAL)
        if_match = header.format(tag=etag_of(api, customer))

        response = patch(api, customer, {"city": "Hamburg"}, **{"If-Match": if_match})

        assert_error(response, 412, "PRECONDITION_FAILED")
        assert current(api, customer) == customer

    def test_only_one_of_two_writers_with_the_same_etag_wins(self, api: Api) -> None:
        customer = api.create(**ORIGINAL)
        tag = etag_of(api, customer)

        first = patch(api, customer, {"city": "Hamburg"}, **{"If-Match": tag})
        second = patch(api, customer, {"city": "Munich"}, **{"If-Match": tag})

        assert first.status_code == 200
        assert_error(second, 412, "PRECONDITION_FAILED")
        assert current(api, customer)["city"] == "Hamburg"
