"""GET /api/v1/customers: newest first, cursor pages, `limit` and the `q` name search."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.contract import (
    CUSTOMERS,
    assert_customer,
    assert_error,
    customer_url,
    newest_first,
)
from tests.support.pages import ids, walk


def names(page: dict[str, Any]) -> set[str]:
    return {customer["name"] for customer in page["data"]}


def create_many(api: Api, count: int, prefix: str = "Customer") -> list[dict[str, Any]]:
    return [api.create(name=f"{prefix} {n}") for n in range(count)]


def first_cursor(api: Api, **params: Any) -> str:
    cursor = api.list(limit=1, **params)["meta"]["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class TestListCustomers:
    def test_empty_organization_has_an_empty_last_page(self, api: Api) -> None:
        assert api.list() == {"data": [], "meta": {"count": 0, "next_cursor": None}}

    def test_page_is_the_data_and_meta_envelope(self, api: Api) -> None:
        created = create_many(api, 2)

        page = api.list()

        assert set(page) == {"data", "meta"}
        assert set(page["meta"]) == {"count", "next_cursor"}
        assert page["meta"] == {"count": 2, "next_cursor": None}
        for customer in page["data"]:
            assert_customer(customer)
        assert {customer["id"] for customer in page["data"]} == set(ids(created))

    def test_newest_first(self, api: Api) -> None:
        created = create_many(api, 3)

        page = api.list()

        assert ids(page["data"]) == ids(created[::-1])
        assert page["data"] == newest_first(page["data"])

    def test_only_the_callers_organization_is_listed(self, api: Api, other_api: Api) -> None:
        other_api.create(name="Acme elsewhere")
        mine = api.create(name="Acme here")

        assert ids(api.list()["data"]) == [mine["id"]]
        assert ids(api.list(q="acme")["data"]) == [mine["id"]]

    def test_list_shows_the_latest_version_of_each_customer(self, api: Api) -> None:
        customer = api.create(name="Acme")
        api.patch(customer_url(customer["id"]), json={"city": "Berlin"})

        assert api.list()["data"][0]["city"] == "Berlin"


class TestListLimit:
    def test_default_page_size_is_20(self, api: Api) -> None:
        create_many(api, 21)

        first = api.list()
        assert first["meta"]["count"] == 20
        assert first["meta"]["next_cursor"] is not None
        second = api.list(cursor=first["meta"]["next_cursor"])
        assert second["meta"] == {"count": 1, "next_cursor": None}

    @pytest.mark.parametrize("limit", [1, 2, 100])
    def test_limit_from_1_to_100_is_the_page_size(self, api: Api, limit: int) -> None:
        create_many(api, 3)

        assert api.list(limit=limit)["meta"]["count"] == min(limit, 3)

    def test_leading_zero_is_still_a_whole_number(self, api: Api) -> None:
        create_many(api, 3)

        assert api.list(limit="02")["meta"]["count"] == 2

    @pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", " 5", "1e2", "٣"])
    def test_limit_outside_1_to_100_is_rejected_not_clamped(self, api: Api, limit: str) -> None:
        response = api.get(CUSTOMERS, params={"limit": limit})

        assert_error(response, 400, "VALIDATION_ERROR", {"limit"})


class TestListCursor:
    def test_last_page_has_a_null_cursor_even_when_full(self, api: Api) -> None:
        create_many(api, 4)

        first = api.list(limit=2)
        second = api.list(limit=2, cursor=first["meta"]["next_cursor"])

        assert second["meta"] == {"count": 2, "next_cursor": None}

    def test_walk_returns_every_customer_once_newest_first(self, api: Api) -> None:
        created = create_many(api, 7)

        assert ids(walk(api, limit=3)) == ids(created[::-1])

    def test_page_size_may_change_between_pages(self, api: Api) -> None:
        created = create_many(api, 9)
        sizes = iter([1, 4, 2, 100])

        assert ids(walk(api, limit=lambda: next(sizes))) == ids(created[::-1])

    def test_customers_created_during_a_walk_do_not_disturb_it(self, api: Api) -> None:
        created = create_many(api, 6)

        seen = walk(api, limit=2, between_pages=lambda: api.create(name="Newcomer"))

        assert ids(seen) == ids(created[::-1])

    def test_customers_changed_during_a_walk_keep_their_place(self, api: Api) -> None:
        created = create_many(api, 6)
        renames = iter(created)

        def rename_oldest_unchanged() -> None:
            customer = next(renames)
            api.patch(customer_url(customer["id"]), json={"name": "Renamed"})

        seen = walk(api, limit=2, between_pages=rename_oldest_unchanged)

        assert ids(seen) == ids(created[::-1])

    @pytest.mark.parametrize(
        "cursor",
        ["garbage", "!!!!", "a", "=", "é", "x" * 500, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    )
    def test_malformed_cursor_is_rejected(self, api: Api, cursor: str) -> None:
        assert_error(
            api.get(CUSTOMERS, params={"cursor": cursor}), 400, "VALIDATION_ERROR", {"cursor"}
        )

    def test_bad_cursor_is_reported_with_the_other_bad_parameters(self, api: Api) -> None:
        response = api.get(CUSTOMERS, params={"limit": "0", "q": "x" * 201, "cursor": "forged"})

        assert_error(response, 400, "VALIDATION_ERROR", {"limit", "q", "cursor"})

    def test_truncated_cursor_is_rejected(self, api: Api) -> None:
        create_many(api, 2)
        cursor = first_cursor(api)

        response = api.get(CUSTOMERS, params={"cursor": cursor[:-3]})

        assert_error(response, 400, "VALIDATION_ERROR", {"cursor"})

    def test_edited_cursor_is_rejected(self, api: Api) -> None:
        create_many(api, 2)
        cursor = first_cursor(api)
        raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        raw[-1] ^= 0x01
        edited = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

        response = api.get(CUSTOMERS, params={"cursor": edited})

        assert_error(response, 400, "VALIDATION_ERROR", {"cursor"})

    @pytest.mark.parametrize("position", [0, 10, -1])
    def test_cursor_with_one_character_changed_is_rejected(self, api: Api, position: int) -> None:
        create_many(api, 2)
        cursor = list(first_cursor(api))
        # The lowest bit: at the end, one the decoder alone would not notice.
        cursor[position] = URL_SAFE[URL_SAFE.index(cursor[position]) ^ 1]

        response = api.get(CUSTOMERS, params={"cursor": "".join(cursor)})

        assert_error(response, 400, "VALIDATION_ERROR", {"cursor"})

    def test_forged_cursor_naming_any_position_is_rejected(self, api: Api) -> None:
        create_many(api, 2)
        payload = f"2999-01-01T00:00:00.000000Z|{uuid.uuid4()}".encode()
        forged = base64.urlsafe_b64encode(bytes(16) + payload).decode().rstrip("=")

        response = api.get(CUSTOMERS, params={"cursor": forged})

        assert_error(response, 400, "VALIDATION_ERROR", {"cursor"})

    @pytest.mark.parametrize(
        ("issued_for", "used_with"), [("acme", "globex"), ("acme", None), (None, "acme")]
    )
    def test_cursor_is_only_valid_with_the_q_it_was_issued_for(
        self, api: Api, issued_for: str | None, used_with: str | None
    ) -> None:
        create_many(api, 2, prefix="Acme")
        create_many(api, 2, prefix="Globex")
        cursor = first_cursor(api, **({"q": issued_for} if issued_for else {}))
        params = {"cursor": cursor, **({"q": used_with} if used_with else {})}

        assert_error(api.get(CUSTOMERS, params=params), 400, "VALIDATION_ERROR", {"cursor"})

    def test_cursor_from_another_organization_is_rejected(self, api: Api, other_api: Api) -> None:
        create_many(other_api, 2)
        create_many(api, 2)

        response = api.get(CUSTOMERS, params={"cursor": first_cursor(other_api)})

        assert_error(response, 400, "VALIDATION_ERROR", {"cursor"})


class TestListSearch:
    @pytest.mark.parametrize(
        ("q", "name"),
        [
            ("acme", "The ACME Corp"),
            ("muller", "Müller GmbH"),
            ("MÜLLER", "Muller GmbH"),
            ("sao paulo", "São Paulo Ltda"),
            ("strasse", "Hauptstraße Bau"),
            ("ﬁsh", "Fish & Co"),
        ],
    )
    def test_substring_ignoring_case_and_accents(self, api: Api, q: str, name: str) -> None:
        api.create(name=name)
        api.create(name="Globex Inc")

        assert names(api.list(q=q)) == {name}

    def test_q_is_trimmed(self, api: Api) -> None:
        api.create(name="The ACME Corp")
        api.create(name="Globex Inc")

        assert names(api.list(q="  acme \t")) == {"The ACME Corp"}

    @pytest.mark.parametrize("q", ["", "   "])
    def test_empty_q_is_no_filter(self, api: Api, q: str) -> None:
        create_many(api, 3)

        assert api.list(q=q)["meta"]["count"] == 3

    @pytest.mark.parametrize(
        ("q", "match"),
        [
            ("%", "100% Pure"),
            ("0%", "100% Pure"),
            ("0% p", "100% Pure"),
            ("_", "snake_case Ltd"),
            ("e_c", "snake_case Ltd"),
            ("\\", "Back\\slash"),
            ("k\\s", "Back\\slash"),
        ],
    )
    def test_like_wildcards_match_only_themselves(self, api: Api, q: str, match: str) -> None:
        for name in ("100% Pure", "1000 Pure", "snake_case Ltd", "snakeXcase Ltd"):
            api.create(name=name)
        api.create(name="Back\\slash")
        api.create(name="Backslash")

        assert names(api.list(q=q)) == {match}

    @pytest.mark.parametrize(
        ("q", "expected"),
        [("a", {"Acme", "Globex Data"}), ("cm", {"Acme"}), ("ex", {"Globex Data"})],
    )
    def test_q_of_one_or_two_characters(self, api: Api, q: str, expected: set[str]) -> None:
        for name in ("Acme", "Globex Data", "Initech"):
            api.create(name=name)

        assert names(api.list(q=q)) == expected

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ('"best"', {'The "Best" Co'}),
            ("best*", set()),
            ("acme or best", set()),
            ("near(acme", set()),
            ("'", {"O'Brien Ltd"}),
        ],
    )
    def test_search_syntax_characters_are_plain_text(
        self, api: Api, q: str, expected: set[str]
    ) -> None:
        for name in ('The "Best" Co', "Acme", "O'Brien Ltd"):
            api.create(name=name)

        assert names(api.list(q=q)) == expected

    def test_q_of_200_characters_is_accepted(self, api: Api) -> None:
        name = "x" * 200
        api.create(name=name)

        assert names(api.list(q=name)) == {name}

    def test_q_longer_than_200_characters_is_rejected(self, api: Api) -> None:
        response = api.get(CUSTOMERS, params={"q": "x" * 201})

        assert_error(response, 400, "VALIDATION_ERROR", {"q"})

    @pytest.mark.parametrize("q", ["\x00", "ac\x00me"])
    def test_q_with_a_nul_character_is_rejected(self, api: Api, q: str) -> None:
        assert_error(api.get(CUSTOMERS, params={"q": q}), 400, "VALIDATION_ERROR", {"q"})

    def test_results_are_as_fresh_as_the_last_write(self, api: Api) -> None:
        customer = api.create(name="Old Name Trading")
        api.patch(customer_url(customer["id"]), json={"name": "Fresh Name Trading"})

        assert names(api.list(q="fresh")) == {"Fresh Name Trading"}
        assert names(api.list(q="old")) == set()
        assert names(api.list(q="trading")) == {"Fresh Name Trading"}

    def test_search_pages_through_every_match_once(self, api: Api) -> None:
        matches = [api.create(name=f"Acme {n}") for n in range(5)]
        create_many(api, 3, prefix="Globex")

        assert ids(walk(api, limit=2, q="acme")) == ids(matches[::-1])
