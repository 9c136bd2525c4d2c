"""What the webhook store promises the worker, asked directly on both databases: an endpoint
hears of changes made after it exists, each queued once however often queuing runs, the
queue's depth and age are what is owed, and no delivery goes before an earlier one that
waits for its retry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import orjson

from expensicat.changes.records import ChangeStamp
from expensicat.config import Settings
from expensicat.customers.fields import PUBLIC_FIELDS, customer_from
from expensicat.db import open_store
from expensicat.db.store import Store
from expensicat.timestamps import timestamp, utc_now
from expensicat.webhooks.records import PENDING, Attempt, WebhookEndpoint
from expensicat.webhooks.store import Claimed, Destination, Finished, Finishing, NewEndpoint


def test_changes_after_an_endpoint_is_made_are_queued_once(migrated: Settings) -> None:
    org = f"org-{uuid.uuid4().hex[:12]}"
    now = utc_now()

    async def scenario() -> tuple[int, int, list[Claimed], tuple[int, float]]:
        store = await open_store(migrated.database)
        try:
            await _create(store, org, "Before")
            endpoint_id = await _endpoint(store, org)
            for name in ("After 1", "After 2"):
                await _create(store, org, name)
            destination = await store.webhooks.destination(org, endpoint_id)
            assert destination is not None
            read = await store.webhooks.queue(destination, 10, timestamp(now))
            # As a second worker would, from the place it read before the first moved it.
            again = await store.webhooks.queue(destination, 10, timestamp(now))
            moved = await store.webhooks.destination(org, endpoint_id)
            assert moved is not None
            claimed = await store.webhooks.claim(
                moved, 10, timestamp(now), timestamp(now + timedelta(seconds=30))
            )
            later = now + timedelta(seconds=5)
            return read, again, claimed, await store.webhooks.backlog(later)
        finally:
            await store.close()

    read, again, claimed, (depth, oldest) = asyncio.run(scenario())

    assert (read, len(claimed)) == (2, 2)
    assert again == 0
    # Each with the change it announces, read in the same claim.
    events = [one.event for one in claimed]
    assert [event.type if event else None for event in events] == ["customer.created"] * 2
    names = [orjson.loads(event.customer)["name"] for event in events if event and event.customer]
    assert names == ["After 1", "After 2"]
    assert depth >= 2
    assert oldest >= 5


def test_a_delivery_whose_change_was_purged_is_claimed_without_it(migrated: Settings) -> None:
    org = f"org-{uuid.uuid4().hex[:12]}"
    now = utc_now()

    async def scenario() -> list[Claimed]:
        store = await open_store(migrated.database)
        try:
            endpoint_id = await _endpoint(store, org)
            await _create(store, org, "Soon purged")
            destination = await store.webhooks.destination(org, endpoint_id)
            assert destination is not None
            assert await store.webhooks.queue(destination, 10, timestamp(now)) == 1
            await store.purge_changes(timestamp(now + timedelta(days=1)))
            return await store.webhooks.claim(
                destination, 10, timestamp(now), timestamp(now + timedelta(seconds=30))
            )
        finally:
            await store.close()

    claimed = asyncio.run(scenario())

    assert len(claimed) == 1
    assert claimed[0].event is None


def test_no_delivery_is_claimed_while_an_earlier_one_waits_for_its_retry(
    migrated: Settings,
) -> None:
    org = f"org-{uuid.uuid4().hex[:12]}"
    now = utc_now()

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        store = await open_store(migrated.database)
        try:
            endpoint_id = await _endpoint(store, org)
            for name in ("First", "Second", "Third"):
                await _create(store, org, name)
            destination = await store.webhooks.destination(org, endpoint_id)
            assert destination is not None
            await store.webhooks.queue(destination, 10, timestamp(now))
            lease_until = timestamp(now + timedelta(seconds=30))
            first, second = await store.webhooks.claim(destination, 2, timestamp(now), lease_until)
            # Both fail; the jitter puts the second's retry before the first's.
            await _failed(store, destination, first, lease_until, now + timedelta(seconds=10))
            await _failed(store, destination, second, lease_until, now + timedelta(seconds=5))

            async def claim_at(seconds: int) -> list[str]:
                moment = timestamp(now + timedelta(seconds=seconds))
                leased = await store.webhooks.claim(destination, 10, moment, moment)
                return [one.change_id for one in leased]

            return (
                [first.change_id, second.change_id],
                await claim_at(6),
                await claim_at(11),
            )
        finally:
            await store.close()

    failed, while_the_first_waits, once_it_is_due = asyncio.run(scenario())

    assert while_the_first_waits == []
    assert once_it_is_due[:2] == failed  # then the third, which waited behind them
    assert len(once_it_is_due) == 3


async def _failed(
    store: Store, destination: Destination, delivery: Claimed, lease_until: str, retry: datetime
) -> None:
    attempt: Attempt = {
        "id": str(uuid.uuid4()),
        "event_id": delivery.change_id,
        "type": delivery.type,
        "attempted_at": timestamp(utc_now()),
        "status_code": 503,
        "duration_ms": 1,
        "error": None,
        "next_attempt_at": timestamp(retry),
    }
    finished = Finished(PENDING, 1, timestamp(retry), attempt)
    await store.webhooks.finish([Finishing(destination, delivery, lease_until, finished)])


async def _create(store: Store, org: str, name: str) -> None:
    customer = dict.fromkeys(PUBLIC_FIELDS)
    moment = timestamp(utc_now())
    customer.update(
        id=str(uuid.uuid4()), organization_id=org, name=name, created_at=moment, updated_at=moment
    )
    stamp = ChangeStamp.by({"type": "user", "id": "user-1"})  # each change its own id
    await store.insert(customer_from(customer), name.lower(), stamp)


async def _endpoint(store: Store, org: str) -> str:
    now = timestamp(utc_now())
    endpoint: WebhookEndpoint = {
        "id": str(uuid.uuid4()),
        "organization_id": org,
        "url": "https://books.example.com/hooks",
        "events": ["*"],
        "description": None,
        "enabled": True,
        "disabled_reason": None,
        "created_at": now,
        "updated_at": now,
    }
    await store.webhooks.insert_endpoint(NewEndpoint(endpoint, "v1.sealed"))
    return endpoint["id"]
