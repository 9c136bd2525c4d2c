"""POST /api/v1/customers: 201 with the stored customer, or every broken rule at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.contract import (
    CUSTOMER_FIELDS,
    CUSTOMERS,
    PLAIN_TEXT_FIELDS,
    SERVER_FIELDS,
    assert_customer,
    assert_error,
    customer_url,
    timestamp,
)

FULL_CUSTOMER = {
    "name": "Acme GmbH",
    "email": "billing@acme.example",
    "phone": "+49 30 1234567",
    "website": "https://acme.example/about",
    "contact_person": "Jane Roe",
    "address_line1": "Hauptstraße 1",
    "address_line2": "3. OG",
    "country": "Germany",
    "city": "Berlin",
    "state": "Berlin",
    "postal_code": "10115",
    "tax_id": "DE123456789",
    "notes": "Pays within 14 days.",
    "country_code": "DE",
}


def rejected(api: Api, body: Any, *fields: str) -> dict[str, Any]:
    """POST `body`, expect a 400 VALIDATION_ERROR naming exactly `fields`, and no customer."""
    details = assert_error(api.post(CUSTOMERS, json=body), 400, "VALIDATION_ERROR", set(fields))
    assert api.list()["data"] == []
    return details


class TestCreateCustomer:
    def test_returns_201_with_location_and_etag(self, api: Api) -> None:
        response = api.post(CUSTOMERS, json={"name": "Acme"})

        assert response.status_code == 201
        customer = response.json()["data"]
        assert response.headers["location"].endswith(customer_url(customer["id"]))
        fetched = api.get(response.headers["location"])
        assert fetched.json()["data"] == customer
        assert response.headers["etag"] == fetched.headers["etag"]

    def test_body_is_the_data_envelope_with_exactly_the_contract_fields(self, api: Api) -> None:
        body = api.post(CUSTOMERS, json={"name": "Acme"}).json()

        assert set(body) == {"data"}
        assert_customer(body["data"])
        assert body["data"]["organization_id"] == api.org

    def test_unset_optional_fields_are_present_as_null(self, api: Api) -> None:
        customer = api.create(name="Acme")

        optional = set(CUSTOMER_FIELDS) - {"name", *SERVER_FIELDS}
        assert {field: customer[field] for field in optional} == dict.fromkeys(optional)

    def test_every_field_is_stored_as_sent(self, api: Api) -> None:
        customer = api.create(**FULL_CUSTOMER)

        assert {field: customer[field] for field in FULL_CUSTOMER} == FULL_CUSTOMER
        assert api.get(customer_url(customer["id"])).json()["data"] == customer

    def test_unicode_text_round_trips_exactly(self, api: Api) -> None:
        name = "Müller & Söhne 株式会社 🐈"
        customer = api.create(name=name, notes="Zeile 1\nZeile 2\ttab")

        fetched = api.get(customer_url(customer["id"])).json()["data"]
        assert fetched["name"] == name
        assert fetched["notes"] == "Zeile 1\nZeile 2\ttab"

    def test_id_is_a_time_ordered_uuid_version_7(self, api: Api) -> None:
        first = api.create(name="First")
        second = api.create(name="Second")

        assert uuid.UUID(first["id"]).version == 7
        assert uuid.UUID(first["id"]).int < uuid.UUID(second["id"]).int

    def test_timestamps_are_rfc3339_utc_and_equal_on_create(self, api: Api) -> None:
        before = datetime.now(UTC)
        customer = api.create(name="Acme")

        created_at = timestamp(customer["created_at"])
        assert customer["created_at"].endswith("Z")
        assert customer["updated_at"] == customer["created_at"]
        assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC)

    def test_strings_are_trimmed(self, api: Api) -> None:
        customer = api.create(name="  Acme  ", city="\tBerlin\n", country_code=" de ")

        assert (customer["name"], customer["city"], customer["country_code"]) == (
            "Acme",
            "Berlin",
            "DE",
        )

    @pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
    def test_empty_optional_string_is_stored_as_null(self, api: Api, blank: str) -> None:
        customer = api.create(name="Acme", email=blank, website=blank, city=blank)

        assert (customer["email"], customer["website"], customer["city"]) == (None, None, None)

    def test_explicit_null_optional_fields_are_accepted(self, api: Api) -> None:
        customer = api.create(name="Acme", **dict.fromkeys(set(FULL_CUSTOMER) - {"name"}))

        assert customer["email"] is None
        assert customer["country_code"] is None


class TestCreateCustomerName:
    def test_missing_name_is_required(self, api: Api) -> None:
        details = rejected(api, {"city": "Berlin"}, "name")

        assert details["name"] == ["This field is required."]

    def test_empty_body_is_missing_the_name(self, api: Api) -> None:
        rejected(api, {}, "name")

    def test_null_name_is_rejected(self, api: Api) -> None:
        rejected(api, {"name": None}, "name")

    @pytest.mark.parametrize("blank", ["", "   ", "\t \n"])
    def test_blank_name_is_rejected(self, api: Api, blank: str) -> None:
        rejected(api, {"name": blank}, "name")

    @pytest.mark.parametrize("value", [42, 4.2, True, ["Acme"], {"text": "Acme"}])
    def test_name_that_is_not_a_string_is_rejected(self, api: Api, value: Any) -> None:
        rejected(api, {"name": value}, "name")

    def test_name_of_255_characters_is_accepted(self, api: Api) -> None:
        name = "é" * 254 + "🐈"

        assert api.create(name=name)["name"] == name

    def test_name_of_256_characters_is_rejected(self, api: Api) -> None:
        rejected(api, {"name": "x" * 256}, "name")

    def test_length_counts_every_character_sent(self, api: Api) -> None:
        rejected(api, {"name": "  " + "x" * 254}, "name")
        assert api.create(name="  " + "x" * 253)["name"] == "x" * 253

    def test_nul_character_is_rejected(self, api: Api) -> None:
        rejected(api, {"name": "Ac\x00me"}, "name")


class TestCreateCustomerLengthLimits:
    def test_notes_of_10000_characters_are_accepted(self, api: Api) -> None:
        assert api.create(name="Acme", notes="n" * 10_000)["notes"] == "n" * 10_000

    def test_notes_of_10001_characters_are_rejected(self, api: Api) -> None:
        rejected(api, {"name": "Acme", "notes": "n" * 10_001}, "notes")

    @pytest.mark.parametrize("field", PLAIN_TEXT_FIELDS)
    def test_text_field_of_255_characters_is_accepted(self, api: Api, field: str) -> None:
        assert api.create(name="Acme", **{field: "v" * 255})[field] == "v" * 255

    @pytest.mark.parametrize("field", PLAIN_TEXT_FIELDS)
    def test_text_field_of_256_characters_is_rejected(self, api: Api, field: str) -> None:
        rejected(api, {"name": "Acme", field: "v" * 256}, field)

    def test_email_over_255_characters_is_rejected(self, api: Api) -> None:
        rejected(api, {"name": "Acme", "email": "a@" + "b" * 250 + ".com"}, "email")

    def test_website_over_255_characters_is_rejected(self, api: Api) -> None:
        rejected(api, {"name": "Acme", "website": "https://acme.example/" + "p" * 240}, "website")

    @pytest.mark.parametrize("field", PLAIN_TEXT_FIELDS)
    @pytest.mark.parametrize("value", [42, False, ["x"], {"x": 1}])
    def test_text_field_that_is_not_a_string_is_rejected(
        self, api: Api, field: str, value: Any
    ) -> None:
        rejected(api, {"name": "Acme", field: value}, field)


class TestCreateCustomerFormats:
    @pytest.mark.parametrize(
        "email",
        [
            "billing@acme.example",
            "first.last+tag@sub.acme.example",
            "ü@müller.example",
            "jane@acme.test",
        ],
    )
    def test_valid_email_is_stored(self, api: Api, email: str) -> None:
        assert api.create(name="Acme", email=email)["email"] == email

    @pytest.mark.parametrize(
        "email",
        [
            "not-an-email",
            "a@b",
            "@acme.example",
            "a@@acme.example",
            "a b@acme.example",
            "jane@acme.invalid",
            "jane@printer.local",
        ],
    )
    def test_invalid_email_is_rejected(self, api: Api, email: str) -> None:
        rejected(api, {"name": "Acme", "email": email}, "email")

    @pytest.mark.parametrize(
        ("sent", "stored"),
        [
            ("acme.com", "https://acme.com"),
            ("www.acme.com/contact", "https://www.acme.com/contact"),
            ("https://acme.com", "https://acme.com"),
            ("http://acme.com/path?x=1", "http://acme.com/path?x=1"),
            ("https://acme.com:8443/", "https://acme.com:8443/"),
        ],
    )
    def test_website_is_an_http_url_and_a_bare_domain_gets_https(
        self, api: Api, sent: str, stored: str
    ) -> None:
        assert api.create(name="Acme", website=sent)["website"] == stored

    @pytest.mark.parametrize(
        "website",
        [
            "ftp://acme.com",
            "mailto:billing@acme.com",
            "javascript:alert(1)",
            "https://",
            "acme",
            "not a url",
            "https://acme .com",
            "https://acme.com:99999",
        ],
    )
    def test_website_that_is_no_http_url_is_rejected(self, api: Api, website: str) -> None:
        rejected(api, {"name": "Acme", "website": website}, "website")

    @pytest.mark.parametrize(("sent", "stored"), [("de", "DE"), ("De", "DE"), ("US", "US")])
    def test_country_code_in_any_case_is_stored_upper_case(
        self, api: Api, sent: str, stored: str
    ) -> None:
        assert api.create(name="Acme", country_code=sent)["country_code"] == stored

    @pytest.mark.parametrize("code", ["XX", "DEU", "D", "1", "U S", "ÜS"])
    def test_country_code_that_is_no_iso_alpha2_code_is_rejected(self, api: Api, code: str) -> None:
        rejected(api, {"name": "Acme", "country_code": code}, "country_code")


class TestCreateCustomerUnknownFields:
    def test_unknown_field_is_rejected_by_name(self, api: Api) -> None:
        rejected(api, {"name": "Acme", "nickname": "ACME"}, "nickname")

    @pytest.mark.parametrize("field", SERVER_FIELDS)
    def test_server_field_is_rejected_by_name(self, api: Api, field: str) -> None:
        rejected(api, {"name": "Acme", field: "2020-01-01T00:00:00Z"}, field)

    def test_unknown_field_is_rejected_whatever_its_value(self, api: Api) -> None:
        rejected(api, {"name": "Acme", "extra": None}, "extra")


class TestCreateCustomerSeveralErrors:
    def test_every_broken_rule_is_reported_at_once(self, api: Api) -> None:
        body = {
            "email": "nope",
            "website": "ftp://acme.com",
            "country_code": "XX",
            "notes": "n" * 10_001,
            "city": 7,
            "id": "mine",
            "colour": "red",
        }

        details = rejected(
            api, body, "name", "email", "website", "country_code", "notes", "city", "id", "colour"
        )

        assert all(len(messages) == 1 for messages in details.values())
