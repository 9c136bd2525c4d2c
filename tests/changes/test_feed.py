"""The changes feed as a client meets it: every write to a customer, in order, with who made
it; a cursor that is never null; from=now; bad input refused; one organization's changes
only. On each backend."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.support.contract import CUSTOMERS, assert_customer, assert_error, customer_url
from tests.support.tokens import bearer, session_token

CHANGES = "/api/v1/customers/changes"


def read(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get(CHANGES, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def walk(api: Api, cursor: str | None = None, limit: int = 100) -> tuple[list[Any], str]:
    """Every change after the cursor (from the start without one), and the cursor to poll."""
    changes: list[Any] = []
    while True:
        page = read(api, limit=limit, **({"cursor": cursor} if cursor else {}))
        changes += page["data"]
        cursor = page["meta"]["next_cursor"]
        if not page["meta"]["has_more"]:
            assert cursor
            return changes, cursor


class TestChanges:
    def test_every_write_is_a_change_in_order_with_the_customer_after_it(self, api: Api) -> None:
        created = api.create(name="Acme", email="billing@acme.test")
        url = customer_url(created["id"])
        updated = api.patch(url, json={"city": "Köln"}).json()["data"]
        archived = api.post(f"{url}/archive").json()["data"]
        restored = api.post(f"{url}/restore").json()["data"]

        changes, _ = walk(api)

        assert [change["type"] for change in changes] == [
            "customer.created", "customer.updated", "customer.archived", "customer.restored",
        ]  # fmt: skip
        assert [change["customer"] for change in changes] == [
            created, updated, archived, restored,
        ]  # fmt: skip
        for change in changes:
            assert list(change) == [
                "id", "type", "occurred_at", "customer_id", "customer", "actor",
            ]  # fmt: skip
            assert change["customer_id"] == created["id"]
            assert change["actor"] == {"type": "user", "id": "user-1"}
            assert_customer(change["customer"])
        assert changes[1]["occurred_at"] == updated["updated_at"]
        assert len({change["id"] for change in changes}) == 4

    def test_who_made_a_change_arrives_as_named_whatever_characters_it_has(self, api: Api) -> None:
        # A token's subject may hold any character; the feed gives it back as it was.
        user = 'Ann "the boss" O\\Neil\t\u00e9\u2028\U0001f600 </script>'
        headers = bearer(session_token(api.org, user=user))
        response = api.post(CUSTOMERS, json={"name": 'Acme "Ltd" \\ \n'}, headers=headers)
        assert response.status_code == 201, response.text

        changes, _ = walk(api)

        assert changes[-1]["actor"] == {"type": "user", "id": user}
        assert changes[-1]["customer"] == response.json()["data"]

    def test_an_erasure_is_a_change_and_clears_the_customer_from_earlier_ones(
        self, api: Api
    ) -> None:
        erased, kept = api.create(name="Jürgen Privat"), api.create(name="Kept")
        api.patch(customer_url(erased["id"]), json={"notes": "private"})
        assert api.request("DELETE", customer_url(erased["id"])).status_code == 204

        changes, _ = walk(api)

        assert [(change["type"], change["customer_id"]) for change in changes] == [
            ("customer.created", erased["id"]),
            ("customer.created", kept["id"]),
            ("customer.updated", erased["id"]),
            ("customer.erased", erased["id"]),
        ]
        assert [change["customer"] for change in changes] == [None, kept, None, None]

    def test_a_change_that_changed_nothing_is_not_recorded(self, api: Api) -> None:
        customer = api.create(name="Acme")
        url = customer_url(customer["id"])
        api.patch(url, json={})
        api.post(f"{url}/restore")  # not archived
        api.post(f"{url}/archive")
        api.post(f"{url}/archive")  # already archived

        changes, _ = walk(api)

        assert [change["type"] for change in changes] == ["customer.created", "customer.archived"]

    def test_a_replayed_create_records_no_second_change(self, api: Api) -> None:
        headers = {"Idempotency-Key": "feed-replay-1"}
        for _ in range(2):
            assert api.post(CUSTOMERS, json={"name": "Acme"}, headers=headers).status_code == 201

        changes, _ = walk(api)

        assert [change["type"] for change in changes] == ["customer.created"]


class TestPaging:
    def test_pages_follow_each_other_and_the_last_cursor_polls_for_more(self, api: Api) -> None:
        ids = [api.create(name=f"Customer {n}")["id"] for n in range(5)]

        first = read(api, limit=2)
        assert first["meta"]["count"] == 2
        assert first["meta"]["has_more"] is True
        changes, cursor = walk(api, first["meta"]["next_cursor"], limit=2)
        assert [change["customer_id"] for change in first["data"] + changes] == ids

        assert read(api, cursor=cursor)["data"] == []
        later = api.create(name="Later")
        polled = read(api, cursor=cursor)
        assert [change["customer_id"] for change in polled["data"]] == [later["id"]]
        assert polled["meta"] == {
            "count": 1, "next_cursor": polled["meta"]["next_cursor"], "has_more": False,
        }  # fmt: skip

    def test_an_empty_feed_still_gives_a_cursor_to_poll_from(self, api: Api) -> None:
        page = read(api)

        assert page["data"] == []
        assert page["meta"]["count"] == 0
        assert page["meta"]["has_more"] is False
        assert isinstance(page["meta"]["next_cursor"], str)
        assert page["meta"]["next_cursor"]
        created = api.create(name="First")
        assert [
            c["customer_id"] for c in read(api, cursor=page["meta"]["next_cursor"])["data"]
        ] == [created["id"]]

    def test_from_now_starts_at_the_head(self, api: Api) -> None:
        api.create(name="Before")
        head = read(api, **{"from": "now"})
        assert head["data"] == []
        assert head["meta"]["has_more"] is False

        after = api.create(name="After")
        changes, _ = walk(api, head["meta"]["next_cursor"])

        assert [change["customer_id"] for change in changes] == [after["id"]]

    def test_the_default_page_is_100(self, api: Api) -> None:
        for n in range(101):
            api.post(CUSTOMERS, json={"name": f"C{n}"})

        page = read(api)

        assert page["meta"]["count"] == 100
        assert page["meta"]["has_more"] is True


class TestBadInput:
    @pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5"])
    def test_a_limit_out_of_range_is_refused(self, api: Api, limit: str) -> None:
        response = api.get(CHANGES, params={"limit": limit})
        assert_error(response, 400, "VALIDATION_ERROR")
        assert list(response.json()["error"]["details"]) == ["limit"]

    @pytest.mark.parametrize("value", ["later", "", "NOW", "0"])
    def test_from_takes_now_only(self, api: Api, value: str) -> None:
        response = api.get(CHANGES, params={"from": value})
        assert_error(response, 400, "VALIDATION_ERROR")
        assert list(response.json()["error"]["details"]) == ["from"]

    def test_from_and_a_cursor_together_are_refused(self, api: Api) -> None:
        cursor = read(api)["meta"]["next_cursor"]
        response = api.get(CHANGES, params={"from": "now", "cursor": cursor})
        assert_error(response, 400, "VALIDATION_ERROR")
        assert list(response.json()["error"]["details"]) == ["from"]

    def test_a_forged_or_foreign_cursor_is_refused(self, api: Api, other_api: Api) -> None:
        api.create(name="A")
        api.create(name="B")
        feed_cursor = read(api, limit=1)["meta"]["next_cursor"]
        list_cursor = api.list(limit=1)["meta"]["next_cursor"]

        for cursor, caller in [
            (feed_cursor[:-2] + "AA", api),
            ("feed|0|0|2026-01-01", api),
            (list_cursor, api),
            (feed_cursor, other_api),
        ]:
            response = caller.get(CHANGES, params={"cursor": cursor})
            assert_error(response, 400, "VALIDATION_ERROR")
            assert list(response.json()["error"]["details"]) == ["cursor"]
        assert_error(api.get(CUSTOMERS, params={"cursor": feed_cursor}), 400, "VALIDATION_ERROR")

    def test_unknown_and_repeated_parameters_are_refused(self, api: Api) -> None:
        assert_error(api.get(f"{CHANGES}?type=customer.created"), 400, "VALIDATION_ERROR")
        assert_error(api.get(f"{CHANGES}?limit=1&limit=2"), 400, "VALIDATION_ERROR")


class TestTenancy:
    def test_an_organization_sees_only_its_own_changes(self, api: Api, other_api: Api) -> None:
        mine = api.create(name="Mine")
        theirs = other_api.create(name="Theirs")
        other_api.patch(customer_url(theirs["id"]), json={"city": "Paris"})

        changes, _ = walk(api)

        assert [change["customer_id"] for change in changes] == [mine["id"]]

    def test_reading_needs_a_token(self, api: Api) -> None:
        response = api.client.get(CHANGES)
        assert_error(response, 401, "UNAUTHORIZED")


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_the_feed_answers_only_get_and_says_so(api: Api, method: str) -> None:
    response = api.request(method, CHANGES)

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD"
