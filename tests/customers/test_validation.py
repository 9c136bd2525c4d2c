"""Validation helpers: untrusted input in, clean values or every broken rule out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expensicat.customers import listing
from expensicat.customers.listing import ListQuery, normalized_query
from expensicat.customers.validation import parse_create, parse_update
from expensicat.errors import ValidationFailed
from expensicat.paging import CursorSigner, Position

FIELDS = [
    "name", "email", "phone", "website", "contact_person", "address_line1", "address_line2",
    "country", "city", "state", "postal_code", "tax_id", "notes", "country_code",
]  # fmt: skip

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=5,
)


def failures(parse: Any, value: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as raised:
        parse(value)
    return raised.value.details


SIGNER = CursorSigner(b"k" * 32)
POSITION = Position(value="2026-01-02T03:04:05.123456Z", id="0195a2b4-0000-7000-8000-000000000001")


def parse_list_query(params: dict[str, str]) -> ListQuery:
    """The list query as the service reads it, for one organization's cursors."""
    return listing.parse_list_query(
        params.items(), lambda cursor, query: SIGNER.decode(cursor, "org-a", query)
    )


class TestParseListQuery:
    def test_defaults(self) -> None:
        query = parse_list_query({})

        assert (query.limit, query.after, query.q) == (20, None, "")

    def test_cursor_gives_the_position_it_names_for_the_q_it_was_issued_for(self) -> None:
        cursor = SIGNER.encode(POSITION, "org-a", normalized_query("acme"))

        assert parse_list_query({"cursor": cursor, "q": " ACME "}).after == POSITION
        assert set(failures(parse_list_query, {"cursor": cursor, "q": "acm"})) == {"cursor"}

    @given(st.integers(-1000, 1000))
    def test_limit_is_accepted_exactly_from_1_to_100(self, limit: int) -> None:
        if 1 <= limit <= 100:
            assert parse_list_query({"limit": str(limit)}).limit == limit
        else:
            assert set(failures(parse_list_query, {"limit": str(limit)})) == {"limit"}

    @given(st.text().filter(lambda text: not (text.isascii() and text.isdigit())))
    def test_limit_that_is_no_plain_number_is_refused(self, limit: str) -> None:
        assert set(failures(parse_list_query, {"limit": limit})) == {"limit"}

    def test_q_is_limited_to_200_characters_as_sent_and_trimmed(self) -> None:
        assert parse_list_query({"q": "  acme  "}).q == "acme"
        assert parse_list_query({"q": " " + "x" * 198 + " "}).q == "x" * 198
        assert set(failures(parse_list_query, {"q": "x" * 201})) == {"q"}
        # Counted as sent, like the maxLength the OpenAPI document states.
        assert set(failures(parse_list_query, {"q": " " + "x" * 200})) == {"q"}

    def test_empty_cursor_is_no_cursor(self) -> None:
        assert parse_list_query({"cursor": ""}).after is None

    def test_several_problems_are_reported_together(self) -> None:
        params = {"limit": "0", "q": "x" * 201, "cursor": "forged"}

        assert set(failures(parse_list_query, params)) == {"limit", "q", "cursor"}


class TestParseCreate:
    def test_returns_only_the_fields_sent_trimmed(self) -> None:
        assert parse_create({"name": " Acme ", "city": " "}) == {"name": "Acme", "city": None}

    @given(st.dictionaries(st.sampled_from([*FIELDS, "id", "extra"]), JSON_VALUES))
    def test_any_json_body_is_parsed_or_refused_field_by_field(self, body: dict[str, Any]) -> None:
        try:
            values = parse_create(body)
        except ValidationFailed as failure:
            refused = failure.details
        else:
            refused = {}
        if refused:
            assert set(refused) <= set(body) | {"name"}
            return
        assert set(values) == set(body)
        assert isinstance(values["name"], str)
        assert values["name"] == values["name"].strip() != ""

    @given(st.text(max_size=300))
    def test_accepted_website_is_always_an_http_url_with_a_host(self, website: str) -> None:
        try:
            stored = parse_create({"name": "Acme", "website": website})["website"]
        except ValidationFailed:
            return
        if stored is not None:
            parts = urlsplit(stored)
            assert parts.scheme in {"http", "https"}
            assert parts.hostname
            assert len(stored) <= 255

    @pytest.mark.parametrize(
        "website",
        ["mailto:billing@acme.com", "https://user:secret@acme.com", "acme.com@evil.example"],
    )
    def test_website_with_credentials_or_another_scheme_is_refused(self, website: str) -> None:
        assert set(failures(parse_create, {"name": "Acme", "website": website})) == {"website"}


class TestParseUpdate:
    def test_empty_body_changes_nothing(self) -> None:
        assert parse_update({}) == {}

    def test_null_clears_every_field_but_the_name(self) -> None:
        cleared = {field: None for field in FIELDS if field != "name"}

        assert parse_update(cleared) == cleared
        assert set(failures(parse_update, {"name": None})) == {"name"}


class TestMessages:
    @pytest.mark.parametrize(
        ("sent", "meant"),
        [("emial", "email"), ("nmae", "name"), ("adress_line1", "address_line1")],
    )
    def test_a_misspelt_field_suggests_the_one_it_is_close_to(self, sent: str, meant: str) -> None:
        details = failures(parse_update, {sent: "x"})

        assert details == {sent: [f"Unknown field; did you mean `{meant}`?"]}

    def test_a_field_close_to_none_is_only_unknown(self) -> None:
        assert failures(parse_update, {"favourite_colour": "x"}) == {
            "favourite_colour": ["Unknown field: is not a known field."]
        }

    def test_a_name_that_is_no_string_says_it_must_be_one(self) -> None:
        assert failures(parse_create, {"name": 123}) == {"name": ["Must be a string."]}
        assert failures(parse_update, {"city": 123}) == {"city": ["Must be a string or null."]}


class TestListTimeBounds:
    @pytest.mark.parametrize(
        ("sent", "stored"),
        [
            ("2026-11-28T07:32:27Z", "2026-11-28T07:32:27.000000Z"),
            ("2026-11-28T08:32:27.1234567+01:00", "2026-11-28T07:32:27.123456Z"),
            ("0080-12-25T16:54:11.930-13:33", "0080-12-26T06:27:11.930000Z"),
        ],
    )
    def test_a_bound_is_read_as_the_utc_moment_it_names(self, sent: str, stored: str) -> None:
        assert parse_list_query({"created_before": sent}).filters.created_before == stored

    @pytest.mark.parametrize(
        "sent", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-02-30T00:00:00Z"]
    )
    def test_a_moment_out_of_range_is_refused(self, sent: str) -> None:
        assert set(failures(parse_list_query, {"created_before": sent})) == {"created_before"}
