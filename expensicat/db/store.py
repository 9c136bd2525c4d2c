"""The customer store: its rules written once, run by a driver for each database.

The rules live in the statements (queries.py) and in how this class uses them: an update
checks the version and moves updated_at forward in its own statement, a create holding an
idempotency key records the key's response in the same unit of work, a key is claimed by
one upsert. A driver only runs compiled statements and plans, and reads pages of customers,
which each database finds its own way (search differs too much to share).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import orjson
from sqlalchemy.engine import Dialect

from expensicat.changes.records import ChangeStamp
from expensicat.changes.store import Place, StoredChange
from expensicat.customers.fields import PUBLIC_FIELDS, Customer, customer_from
from expensicat.customers.listing import NO_FILTERS, SORTS, Filters
from expensicat.customers.store import StoredCustomer
from expensicat.db.compiled import Compiled
from expensicat.db.filtered_pages import filtered_page, like_pattern
from expensicat.db.identity_store import SqlIdentityStore
from expensicat.db.oauth_store import SqlOAuthStore
from expensicat.db.queries import queries_for
from expensicat.db.unit_of_work import Plan
from expensicat.db.webhook_store import SqlWebhookStore
from expensicat.keys import KeyClaim, KeyHold
from expensicat.paging import NEWEST_FIRST, Position

Row = Sequence[Any]
Values = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of an organization's customers, newest first, optionally by name."""

    organization_id: str
    limit: int
    after: Position | None
    search: str
    archived: str = "false"


class Driver(Protocol):
    """Runs statements on one database, within its timeouts, raising DatabaseUnavailable
    when the database cannot serve."""

    dialect: Dialect

    async def read(self, query: Compiled, values: Values) -> list[Row]: ...

    async def write(self, plan: Plan, values: Values) -> list[Row]:
        """Run a unit of work; the rows its main write returned."""

    async def write_each(self, plan: Plan, values: Sequence[Values]) -> None:
        """Run a unit of work once for each of `values`, in one round trip; each is atomic."""

    async def page(self, request: PageRequest) -> list[Customer]: ...

    async def ping(self) -> None: ...

    def load(self) -> tuple[int, int]:
        """Connections (or threads) busy now, and work waiting for one."""

    async def close(self) -> None: ...


class Store:
    """The customer store (customers.store.CustomerStore) over one driver."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._queries = queries_for(driver.dialect)
        self.webhooks = SqlWebhookStore(driver)
        self.identity = SqlIdentityStore(driver)
        self.oauth = SqlOAuthStore(driver)

    async def insert(
        self,
        customer: Customer,
        name_search: str,
        stamp: ChangeStamp,
        hold: KeyHold | None = None,
    ) -> bool:
        values = {
            **customer,
            "name_search": name_search,
            "customer_json": orjson.dumps(customer).decode(),
            **_stamped(stamp, customer["created_at"]),
        }
        if hold is None:
            await self._driver.write(self._queries.insert, values)
            return True
        values.update(key=hold.key, lease_until=hold.lease_until, response=hold.response)
        # Stored only while the claim is still ours, together with the key's response.
        return bool(await self._driver.write(self._queries.insert_holding_key, values))

    async def fetch(self, organization_id: str, customer_id: str) -> StoredCustomer | None:
        row = await self._fetch_row(organization_id, customer_id)
        return None if row is None else _stored(row)

    async def _fetch_row(self, organization_id: str, customer_id: str) -> Row | None:
        values = {"organization_id": organization_id, "id": customer_id}
        rows = await self._driver.read(self._queries.fetch, values)
        return rows[0] if rows else None

    async def update(
        self,
        organization_id: str,
        customer_id: str,
        changes: dict[str, str | None],
        now: str,
        expected_version: int | None,
        stamp: ChangeStamp,
    ) -> StoredCustomer | None:
        plan = self._queries.update(tuple(changes), expected_version is not None)
        return await self._change(
            plan, organization_id, customer_id, expected_version, _stamped(stamp, now), changes
        )

    async def set_archived(
        self,
        organization_id: str,
        customer_id: str,
        archiving: bool,
        now: str,
        expected_version: int | None,
        stamp: ChangeStamp,
    ) -> StoredCustomer | None:
        plan = self._queries.set_archived(archiving, expected_version is not None)
        return await self._change(
            plan, organization_id, customer_id, expected_version, _stamped(stamp, now)
        )

    async def _change(
        self,
        plan: Plan,
        organization_id: str,
        customer_id: str,
        expected_version: int | None,
        stamped: Values,
        changes: Values | None = None,
    ) -> StoredCustomer | None:
        """Run a change to one customer; the customer as it is after, or None."""
        values = {
            **(changes or {}),
            **stamped,
            "organization_id": organization_id,
            "id": customer_id,
            "expected_version": expected_version,
        }
        rows = await self._driver.write(plan, values)
        return _stored(rows[0]) if rows else None

    async def erase(
        self,
        organization_id: str,
        customer_id: str,
        expected_version: int | None,
        erased_response: str,
        now: str,
        stamp: ChangeStamp,
    ) -> bool:
        plan = self._queries.erase(expected_version is not None)
        values = {
            **_stamped(stamp, now),
            "organization_id": organization_id,
            "id": customer_id,
            "customer_id": customer_id,
            "expected_version": expected_version,
            "erased_response": erased_response,
        }
        return bool(await self._driver.write(plan, values))

    async def list_page(
        self,
        organization_id: str,
        limit: int,
        after: Position | None,
        search: str,
        sort: str = NEWEST_FIRST,
        filters: Filters = NO_FILTERS,
    ) -> list[Customer]:
        given = filters.given()
        if sort == NEWEST_FIRST and given.keys() == {"archived"}:
            # The list as most clients read it: each database's tuned way in.
            request = PageRequest(organization_id, limit, after, search, filters.archived)
            return await self._driver.page(request)
        column, descending = SORTS[sort]
        query = filtered_page(
            self._driver.dialect, column, descending, tuple(given), after is not None, bool(search)
        )
        values: dict[str, Any] = {"organization_id": organization_id, "limit": limit, **given}
        if after is not None:
            values.update(after_value=after.value, after_id=after.id)
        if search:
            values["pattern"] = like_pattern(search)
        return customers_in_order(await self._driver.read(query, values))

    async def feed_page(
        self, organization_id: str, after: Place, limit: int
    ) -> tuple[Place, list[StoredChange]]:
        values = {
            "organization_id": organization_id,
            "after_tx": after[0],
            "after_seq": after[1],
            "limit": limit,
        }
        rows = await self._driver.read(self._queries.feed_page, values)
        horizon = (rows[0][0], rows[0][1])
        return horizon, [
            StoredChange((row[2], row[3]), row[4]) for row in rows if row[2] is not None
        ]

    async def purged_through(self) -> Place | None:
        rows = await self._driver.read(self._queries.purged_through, {})
        return (rows[0][0], rows[0][1]) if rows else None

    async def purge_changes(self, occurred_before: str) -> int:
        values = {"horizon": occurred_before}
        last = await self._driver.read(self._queries.last_to_purge, values)
        if not last:
            return 0
        values.update(tx=last[0][0], seq=last[0][1])
        # The mark first: a cursor it passes is refused from now on, before anything after
        # that cursor is gone.
        await self._driver.write(self._queries.mark_purged, values)
        return len(await self._driver.write(self._queries.purge, values))

    async def purge_delivery_log(self, before: str) -> None:
        await self.webhooks.purge_delivery_log(before)

    async def purge_expired_grants(self, before: str) -> None:
        await self.oauth.purge(before)

    async def claim_key(
        self,
        organization_id: str,
        key: str,
        request_hash: str,
        now: str,
        lease_until: str,
        expired_before: str,
    ) -> KeyClaim:
        values = {
            "organization_id": organization_id,
            "key": key,
            "request_hash": request_hash,
            "now": now,
            "lease_until": lease_until,
            "expired_before": expired_before,
        }
        if await self._driver.write(self._queries.claim_key, values):
            return KeyClaim(claimed=True)
        rows = await self._driver.read(self._queries.find_key, values)
        if not rows:  # purged a moment ago: as good as in flight, the retry will claim it
            return KeyClaim(claimed=False)
        stored_hash, response = rows[0]
        return KeyClaim(claimed=False, request_hash=stored_hash, response=response)

    async def release_key(self, organization_id: str, key: str) -> None:
        values = {"organization_id": organization_id, "key": key}
        await self._driver.write(self._queries.release_key, values)

    async def purge_keys(self, created_before: str) -> None:
        await self._driver.write(self._queries.purge_keys, {"created_before": created_before})

    async def ping(self) -> None:
        await self._driver.ping()

    def load(self) -> tuple[int, int]:
        return self._driver.load()

    async def close(self) -> None:
        await self._driver.close()


def customer_in_order(row: Row) -> Customer:
    """A customer from a row of its public fields, in order."""
    return customer_from(zip(PUBLIC_FIELDS, row, strict=True))


def _stamped(stamp: ChangeStamp, now: str) -> dict[str, str]:
    """The values a change record takes from the write that makes it."""
    return {
        "now": now,
        "change_id": stamp.id,
        "actor_type": stamp.actor["type"],
        "actor_id": stamp.actor["id"],
    }


def customers_in_order(rows: list[Row]) -> list[Customer]:
    """Customers from rows of their public fields (a page: no call per row). Every page's
    columns are made from PUBLIC_FIELDS, so they pair up without zip's strict check, which
    cost 3 µs of a page's 20."""
    return cast(list[Customer], [dict(zip(PUBLIC_FIELDS, row, strict=False)) for row in rows])


def _stored(row: Row) -> StoredCustomer:
    """A customer from a row of its public fields, in order, then its version."""
    return StoredCustomer(customer=customer_in_order(row[:-1]), version=row[-1])
