"""What every customer store promises the service, asked of each store directly.

The same cases run on a real SQLite file and a real PostgreSQL server, migrated like
production (tests/db/conftest.py); each test works in an organization of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from expensicat.changes.records import ChangeStamp
from expensicat.config import Settings
from expensicat.customers.fields import PUBLIC_FIELDS, Customer, customer_from
from expensicat.customers.search import fold
from expensicat.customers.store import CustomerStore
from expensicat.db import open_store
from expensicat.keys import KeyClaim, KeyHold
from expensicat.paging import Position
from expensicat.timestamps import FORMAT as RFC3339

pytestmark = pytest.mark.anyio

START = datetime(2026, 11, 28, 7, 16, 53, 123456, tzinfo=UTC)
LEASE = timedelta(seconds=60)
RETENTION = timedelta(hours=24)


@pytest.fixture
async def store(migrated: Settings) -> AsyncIterator[CustomerStore]:
    store = await open_store(migrated.database)
    try:
        yield store
    finally:
        await store.close()


def at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).strftime(RFC3339)


def new_customer(
    org: str, name: str = "Müller GmbH", seconds: float = 0, **fields: Any
) -> Customer:
    values = dict.fromkeys(PUBLIC_FIELDS)
    values.update(
        id=str(uuid.uuid4()),
        organization_id=org,
        name=name,
        created_at=at(seconds),
        updated_at=at(seconds),
    )
    values.update(fields)
    return customer_from(values)


STAMP = ChangeStamp.by({"type": "user", "id": "user-1"})


async def insert(store: CustomerStore, customer: Customer, hold: KeyHold | None = None) -> bool:
    return await store.insert(customer, fold(customer["name"]), STAMP, hold)


async def claim(
    store: CustomerStore, org: str, key: str, seconds: float = 0, request_hash: str = "hash-a"
) -> KeyClaim:
    now = START + timedelta(seconds=seconds)
    return await store.claim_key(
        org, key, request_hash, now.strftime(RFC3339), (now + LEASE).strftime(RFC3339),
        expired_before=(now - RETENTION).strftime(RFC3339),
    )  # fmt: skip


def hold_for(customer: Customer, key: str, claimed_at: float = 0) -> KeyHold:
    return KeyHold(key, at(claimed_at + LEASE.total_seconds()), orjson.dumps(customer).decode())


class TestInsertAndFetch:
    async def test_a_customer_comes_back_as_it_was_stored_at_version_one(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(
            org, email="billing@mueller.de", website="https://mueller.de", country_code="DE",
            notes="Zahlt pünktlich.\nImmer.", tax_id="DE123456789",
        )  # fmt: skip
        assert await insert(store, customer) is True

        found = await store.fetch(org, customer["id"])

        assert found is not None
        assert found.customer == customer
        assert list(found.customer) == list(PUBLIC_FIELDS)
        assert found.version == 1

    async def test_an_unknown_id_is_not_found(self, store: CustomerStore, org: str) -> None:
        assert await store.fetch(org, str(uuid.uuid4())) is None

    async def test_another_organizations_customer_is_not_found(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await insert(store, customer)
        assert await store.fetch(f"{org}-other", customer["id"]) is None


class TestUpdate:
    async def test_changes_apply_and_the_version_moves_on(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org, email="old@example.com", phone="+49 30 1")
        await insert(store, customer)

        updated = await store.update(
            org,
            customer["id"],
            {"email": "new@example.com", "phone": None},
            at(5),
            None,
            STAMP,
        )

        assert updated is not None
        assert updated.version == 2
        expected = {**customer, "email": "new@example.com", "phone": None, "updated_at": at(5)}
        assert updated.customer == expected
        assert await store.fetch(org, customer["id"]) == updated

    async def test_the_expected_version_must_be_current(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await insert(store, customer)

        stale = await store.update(org, customer["id"], {"notes": "stale"}, at(1), 2, STAMP)
        current = await store.update(org, customer["id"], {"notes": "current"}, at(2), 1, STAMP)

        assert stale is None
        assert current is not None
        assert (current.version, current.customer["notes"]) == (2, "current")
        again = await store.update(org, customer["id"], {"notes": "stale again"}, at(3), 1, STAMP)
        assert again is None
        assert await store.fetch(org, customer["id"]) == current

    @pytest.mark.parametrize("expected_version", [None, 1])
    async def test_an_unknown_customer_is_not_found_and_nothing_is_written(
        self, store: CustomerStore, org: str, expected_version: int | None
    ) -> None:
        missing = str(uuid.uuid4())
        assert (
            await store.update(org, missing, {"notes": "x"}, at(1), expected_version, STAMP) is None
        )
        assert await store.fetch(org, missing) is None

    async def test_another_organization_cannot_change_a_customer(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await insert(store, customer)
        assert (
            await store.update(f"{org}-other", customer["id"], {"notes": "x"}, at(1), None, STAMP)
            is None
        )
        found = await store.fetch(org, customer["id"])
        assert found is not None
        assert found.version == 1

    @pytest.mark.parametrize(
        ("created", "now", "expected"),
        [
            (at(0), at(1), at(1)),
            (at(0), at(0), at(0.000001)),
            (at(5), at(1), at(5.000001)),
            ("2026-12-31T23:59:59.999999Z", at(0), "2027-01-01T00:00:00.000000Z"),
        ],
        ids=["clock-ahead", "same-microsecond", "clock-behind", "year-boundary"],
    )
    async def test_updated_at_moves_to_now_or_a_microsecond_past_the_previous_value(
        self, store: CustomerStore, org: str, created: str, now: str, expected: str
    ) -> None:
        customer = new_customer(org, created_at=created, updated_at=created)
        await insert(store, customer)

        updated = await store.update(org, customer["id"], {"notes": "x"}, now, None, STAMP)

        assert updated is not None
        assert updated.customer["updated_at"] == expected
        assert updated.customer["created_at"] == created

    async def test_updates_in_one_microsecond_still_move_updated_at_forward(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await insert(store, customer)
        moments = []
        for n in range(3):
            updated = await store.update(org, customer["id"], {"notes": str(n)}, at(0), None, STAMP)
            assert updated is not None
            moments.append(updated.customer["updated_at"])
        assert moments == [at(0.000001), at(0.000002), at(0.000003)]

    async def test_a_new_name_is_searched_by_its_new_folded_form(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org, name="Old Name")
        await insert(store, customer)
        changes: dict[str, str | None] = {
            "name": "Ünïcode Naïve",
            "name_search": fold("Ünïcode Naïve"),
        }

        await store.update(org, customer["id"], changes, at(1), None, STAMP)

        assert await store.list_page(org, 10, None, fold("old")) == []
        [found] = await store.list_page(org, 10, None, fold("naive"))
        assert found["name"] == "Ünïcode Naïve"


class TestListPage:
    async def test_pages_are_newest_first_and_continue_strictly_after_the_last(
        self, store: CustomerStore, org: str
    ) -> None:
        customers = [new_customer(org, f"Customer {n}", seconds=n) for n in range(5)]
        for customer in customers:
            await insert(store, customer)
        newest_first = customers[::-1]

        first = await store.list_page(org, 2, None, "")
        after = Position(first[-1]["created_at"], first[-1]["id"])
        rest = await store.list_page(org, 10, after, "")

        assert first == newest_first[:2]
        assert rest == newest_first[2:]

    async def test_customers_created_in_the_same_moment_are_ordered_by_id(
        self, store: CustomerStore, org: str
    ) -> None:
        same = [new_customer(org, f"Twin {n}") for n in range(4)]
        for customer in same:
            await insert(store, customer)
        by_id = sorted(same, key=lambda customer: customer["id"], reverse=True)

        first = await store.list_page(org, 2, None, "")
        rest = await store.list_page(org, 2, Position(first[-1]["created_at"], first[-1]["id"]), "")

        assert first + rest == by_id

    async def test_only_the_organizations_own_customers_are_listed(
        self, store: CustomerStore, org: str
    ) -> None:
        await insert(store, new_customer(f"{org}-other"))
        assert await store.list_page(org, 10, None, "") == []


class TestSearch:
    async def test_a_search_finds_names_containing_the_folded_term(
        self, store: CustomerStore, org: str
    ) -> None:
        names = ["Müller GmbH", "Mueller AG", "São Paulo Ltda", "Acme Müllerei"]
        for n, name in enumerate(names):
            await insert(store, new_customer(org, name, seconds=n))

        found = await store.list_page(org, 10, None, fold("MULLER"))

        assert [customer["name"] for customer in found] == ["Acme Müllerei", "Müller GmbH"]

    @pytest.mark.parametrize(
        ("term", "match"), [("100%", "100% Acme"), ("a_b", "a_b Ltd"), ("\\", "back\\slash")]
    )
    async def test_like_wildcards_match_themselves(
        self, store: CustomerStore, org: str, term: str, match: str
    ) -> None:
        for n, name in enumerate(["100% Acme", "1000 Acme", "a_b Ltd", "axb Ltd", "back\\slash"]):
            await insert(store, new_customer(org, name, seconds=n))

        found = await store.list_page(org, 10, None, fold(term))

        assert [customer["name"] for customer in found] == [match]

    async def test_search_pages_continue_after_the_cursor(
        self, store: CustomerStore, org: str
    ) -> None:
        for n in range(5):
            await insert(store, new_customer(org, f"Acme {n}", seconds=2 * n))
            await insert(store, new_customer(org, f"Other {n}", seconds=2 * n + 1))

        first = await store.list_page(org, 2, None, "acme")
        rest = await store.list_page(
            org, 10, Position(first[-1]["created_at"], first[-1]["id"]), "acme"
        )

        assert [c["name"] for c in first + rest] == [f"Acme {n}" for n in range(4, -1, -1)]


class TestClaimKey:
    async def test_a_new_key_is_claimed(self, store: CustomerStore, org: str) -> None:
        assert await claim(store, org, "k1") == KeyClaim(claimed=True)

    async def test_a_key_in_flight_is_not_claimed_again(
        self, store: CustomerStore, org: str
    ) -> None:
        await claim(store, org, "k1", request_hash="hash-a")

        again = await claim(store, org, "k1", seconds=59, request_hash="hash-b")

        assert again == KeyClaim(claimed=False, request_hash="hash-a", response=None)

    async def test_a_key_held_past_its_lease_is_claimed_again(
        self, store: CustomerStore, org: str
    ) -> None:
        await claim(store, org, "k1", request_hash="hash-a")

        taken = await claim(store, org, "k1", seconds=61, request_hash="hash-b")

        assert taken == KeyClaim(claimed=True)
        # The new claim holds it now, with its own request.
        assert await claim(store, org, "k1", seconds=62) == KeyClaim(False, "hash-b", None)

    async def test_a_completed_key_answers_with_its_response_even_past_the_lease(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await claim(store, org, "k1")
        assert await insert(store, customer, hold_for(customer, "k1")) is True

        again = await claim(store, org, "k1", seconds=3600, request_hash="hash-b")

        assert again.claimed is False
        assert again.request_hash == "hash-a"
        assert again.response is not None
        assert orjson.loads(again.response) == customer

    async def test_a_key_past_its_retention_is_claimed_afresh(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await claim(store, org, "k1")
        await insert(store, customer, hold_for(customer, "k1"))
        expiry = RETENTION.total_seconds()

        assert (await claim(store, org, "k1", seconds=expiry)).claimed is False
        assert await claim(store, org, "k1", seconds=expiry + 1) == KeyClaim(claimed=True)
        assert await claim(store, org, "k1", seconds=expiry + 2) == KeyClaim(False, "hash-a", None)

    async def test_keys_belong_to_their_organization(self, store: CustomerStore, org: str) -> None:
        await claim(store, org, "k1")
        assert await claim(store, f"{org}-other", "k1") == KeyClaim(claimed=True)


class TestReleaseAndPurge:
    async def test_a_released_claim_can_be_claimed_at_once(
        self, store: CustomerStore, org: str
    ) -> None:
        await claim(store, org, "k1")
        await store.release_key(org, "k1")
        assert await claim(store, org, "k1", seconds=1) == KeyClaim(claimed=True)

    async def test_releasing_a_completed_key_keeps_its_response(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await claim(store, org, "k1")
        await insert(store, customer, hold_for(customer, "k1"))

        await store.release_key(org, "k1")

        assert (await claim(store, org, "k1", seconds=1)).response is not None

    async def test_purging_forgets_only_keys_created_before_the_moment(
        self, store: CustomerStore, org: str
    ) -> None:
        await claim(store, org, "old", seconds=0)
        await claim(store, org, "new", seconds=10)

        await store.purge_keys(at(10))

        assert await claim(store, org, "old", seconds=11) == KeyClaim(claimed=True)
        assert (await claim(store, org, "new", seconds=11)).claimed is False


class TestInsertHoldingKey:
    async def test_the_customer_and_the_keys_response_are_stored_together(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await claim(store, org, "k1")

        assert await insert(store, customer, hold_for(customer, "k1")) is True

        found = await store.fetch(org, customer["id"])
        assert found is not None
        assert found.customer == customer
        replay = await claim(store, org, "k1", seconds=1)
        assert replay.response is not None
        assert orjson.loads(replay.response) == customer

    async def test_a_claim_lost_to_a_later_request_stores_nothing(
        self, store: CustomerStore, org: str
    ) -> None:
        customer = new_customer(org)
        await claim(store, org, "k1")
        # Presumed dead past its lease, the first request's key is taken by a retry.
        await claim(store, org, "k1", seconds=61)

        assert await insert(store, customer, hold_for(customer, "k1")) is False

        assert await store.fetch(org, customer["id"]) is None
        assert await store.list_page(org, 10, None, "") == []
        assert await claim(store, org, "k1", seconds=62) == KeyClaim(False, "hash-a", None)

    async def test_a_released_key_stores_nothing(self, store: CustomerStore, org: str) -> None:
        customer = new_customer(org)
        await claim(store, org, "k1")
        await store.release_key(org, "k1")

        assert await insert(store, customer, hold_for(customer, "k1")) is False
        assert await store.fetch(org, customer["id"]) is None

    async def test_a_key_completed_once_is_not_completed_twice(
        self, store: CustomerStore, org: str
    ) -> None:
        first, second = new_customer(org, "First"), new_customer(org, "Second")
        await claim(store, org, "k1")
        await insert(store, first, hold_for(first, "k1"))

        assert await insert(store, second, hold_for(second, "k1")) is False
        assert [c["name"] for c in await store.list_page(org, 10, None, "")] == ["First"]


class TestPing:
    async def test_a_migrated_database_answers(self, store: CustomerStore) -> None:
        await store.ping()
