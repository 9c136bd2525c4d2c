"""Listing by the fields customers hold, in any of six orders, a page at a time."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expensicat.customers.listing import SORTS
from tests.conftest import Api
from tests.support.contract import CUSTOMERS, assert_error, customer_url


def ids(api: Api, **params: Any) -> list[str]:
    return [customer["id"] for customer in api.list(**params)["data"]]


def walk(api: Api, **params: Any) -> list[dict[str, Any]]:
    """Every page, following next_cursor to the end."""
    seen, cursor = [], None
    while True:
        page = api.list(**params, **({"cursor": cursor} if cursor else {}))
        seen += page["data"]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            return seen


class TestFilters:
    def test_email_is_the_whole_address_ignoring_case(self, api: Api) -> None:
        wanted = api.create(name="A", email="Billing@Mueller.de")
        api.create(name="B", email="billing@mueller.de.example.com")

        assert ids(api, email="BILLING@mueller.DE") == [wanted["id"]]
        assert ids(api, email="billing@mueller") == []

    def test_tax_id_ignores_spaces_and_case(self, api: Api) -> None:
        wanted = api.create(name="A", tax_id="DE 123 456 789")
        api.create(name="B", tax_id="DE123456780")

        assert ids(api, tax_id=" de123456789 ") == [wanted["id"]]
        assert ids(api, tax_id="de 1234 56789") == [wanted["id"]]

    def test_country_code_in_any_case(self, api: Api) -> None:
        german = api.create(name="A", country_code="DE")
        api.create(name="B", country_code="FR")
        api.create(name="C")

        assert ids(api, country_code="de") == [german["id"]]

    def test_created_and_updated_bounds_are_strict(self, api: Api) -> None:
        first, second, third = (api.create(name=name) for name in "ABC")
        changed = api.patch(customer_url(first["id"]), json={"city": "Berlin"}).json()["data"]

        assert ids(api, created_after=first["created_at"]) == [third["id"], second["id"]]
        assert ids(api, created_before=third["created_at"]) == [second["id"], first["id"]]
        assert ids(api, created_after=first["created_at"], created_before=third["created_at"]) == [
            second["id"]
        ]
        assert ids(api, updated_after=third["updated_at"]) == [first["id"]]
        assert ids(api, updated_before=changed["updated_at"]) == [third["id"], second["id"]]

    def test_a_time_with_an_offset_means_the_same_moment(self, api: Api) -> None:
        api.create(name="A")

        everything = ids(api, created_after="2000-01-01T02:00:00+02:00")
        nothing = ids(api, created_after="2999-01-01T00:00:00.5-01:00")

        assert len(everything) == 1
        assert nothing == []

    def test_filters_combine_with_each_other_and_with_search(self, api: Api) -> None:
        wanted = api.create(name="Müller GmbH", country_code="DE", email="a@mueller.de")
        api.create(name="Müller SARL", country_code="FR", email="a@mueller.de")
        api.create(name="Schmidt", country_code="DE", email="a@mueller.de")

        assert ids(api, q="muller", country_code="DE", email="A@mueller.de") == [wanted["id"]]

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("sort", "size"),
            ("sort", "-"),
            ("created_after", "yesterday"),
            ("created_after", "2026-11-28"),
            ("updated_before", "2026-11-28T07:32:27"),
            ("created_before", "2026-02-30T00:00:00Z"),
            ("country_code", "ZZ"),
            ("email", " "),
            ("tax_id", "x" * 256),
            ("archived", "maybe"),
        ],
    )
    def test_a_bad_value_is_refused_by_name(self, api: Api, name: str, value: str) -> None:
        assert_error(api.get(CUSTOMERS, params={name: value}), 400, "VALIDATION_ERROR", {name})

    def test_an_unencoded_plus_gets_a_hint(self, api: Api) -> None:
        response = api.get(f"{CUSTOMERS}?created_after=2026-11-28T07:32:27+02:00")

        message = assert_error(response, 400, "VALIDATION_ERROR", {"created_after"})
        assert "%2B" in message["created_after"][0]


class TestSorts:
    def test_name_order_is_the_folded_name_then_id(self, api: Api) -> None:
        for name in ("zeta", "Élan", "alpha", "Beta"):
            api.create(name=name)

        names = [customer["name"] for customer in api.list(sort="name")["data"]]

        assert names == ["alpha", "Beta", "Élan", "zeta"]
        assert [c["name"] for c in api.list(sort="-name")["data"]] == names[::-1]

    def test_updated_order_follows_the_last_change(self, api: Api) -> None:
        first, second = api.create(name="A"), api.create(name="B")
        api.patch(customer_url(first["id"]), json={"city": "Berlin"})

        assert ids(api, sort="updated_at") == [second["id"], first["id"]]
        assert ids(api, sort="-updated_at") == [first["id"], second["id"]]
        assert ids(api, sort="created_at") == [first["id"], second["id"]]

    def test_a_cursor_is_bound_to_its_sort_and_filters(self, api: Api) -> None:
        for name in "ABC":
            api.create(name=name, country_code="DE")
        cursor = api.list(sort="name", country_code="DE", limit=1)["meta"]["next_cursor"]

        for params in ({"sort": "-name", "country_code": "DE"}, {"sort": "name"}):
            response = api.get(CUSTOMERS, params={**params, "cursor": cursor})
            assert_error(response, 400, "VALIDATION_ERROR", {"cursor"})
        same = api.get(CUSTOMERS, params={"sort": "name", "country_code": "DE", "cursor": cursor})
        assert same.status_code == 200

    @pytest.mark.parametrize("sort", list(SORTS))
    def test_walking_any_order_gives_every_customer_once(self, api: Api, sort: str) -> None:
        created = [api.create(name=name) for name in ("b", "a", "c", "a", "b", "d", "a")]

        walked = walk(api, sort=sort, limit=2)

        assert sorted(c["id"] for c in walked) == sorted(c["id"] for c in created)
        column = "name" if "name" in sort else sort.lstrip("-")
        keys = [(c[column].casefold(), c["id"]) for c in walked]
        assert keys == sorted(keys, reverse=sort.startswith("-"))


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    names=st.lists(st.sampled_from(["a", "b", "B", "é", "e"]), min_size=1, max_size=12),
    sort=st.sampled_from(list(SORTS)),
    limit=st.integers(1, 5),
)
def test_any_walk_returns_every_customer_exactly_once(
    api: Api, names: list[str], sort: str, limit: int
) -> None:
    before = {c["id"] for c in walk(api, archived="any")}
    created = {api.create(name=name)["id"] for name in names}

    walked = [c["id"] for c in walk(api, sort=sort, limit=limit)]

    assert len(walked) == len(set(walked))
    assert set(walked) == before | created
