"""The customers service: the rules of creating, reading, listing and changing customers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import uuid_utils

from expensicat.changes.records import Actor, ChangeStamp
from expensicat.customers.errors import CustomerChanged, CustomerNotFound
from expensicat.customers.fields import PUBLIC_FIELDS, Customer
from expensicat.customers.listing import SORTS, parse_list_query
from expensicat.customers.search import fold
from expensicat.customers.store import CustomerStore, StoredCustomer
from expensicat.customers.validation import parse_create, parse_update
from expensicat.keys import KeyHold
from expensicat.paging import CursorSigner, Position
from expensicat.timestamps import timestamp, utc_now


@dataclass(frozen=True, slots=True)
class Page:
    customers: list[Customer]
    next_cursor: str | None


class CustomerService:
    def __init__(
        self,
        store: CustomerStore,
        cursors: CursorSigner,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._cursors = cursors
        self._clock = clock

    def draft(self, organization_id: str, body: Mapping[str, Any]) -> StoredCustomer:
        """A new customer from a create body, validated, with its id and times, not yet stored."""
        values = parse_create(body)
        now = timestamp(self._clock())
        server_fields = {
            "id": str(uuid_utils.uuid7()),
            "organization_id": organization_id,
            "created_at": now,
            "updated_at": now,
        }
        customer = cast(Customer, {**dict.fromkeys(PUBLIC_FIELDS), **values, **server_fields})
        return StoredCustomer(customer=customer, version=1)

    async def create(
        self, draft: StoredCustomer, actor: Actor, hold: KeyHold | None = None
    ) -> bool:
        """Store a drafted customer; with a held idempotency key, only while it is held
        (False when the claim was lost meanwhile, and nothing was stored)."""
        customer = draft.customer
        stamp = ChangeStamp.by(actor)
        return await self._store.insert(customer, fold(customer["name"]), stamp, hold)

    async def get(self, organization_id: str, customer_id: str) -> StoredCustomer:
        found = await self._store.fetch(organization_id, _canonical_id(customer_id))
        if found is None:
            raise CustomerNotFound
        return found

    async def update(
        self,
        organization_id: str,
        customer_id: str,
        body: Mapping[str, Any],
        actor: Actor,
        if_match: frozenset[int] | None = None,
    ) -> StoredCustomer:
        """Apply a PATCH body; with `if_match`, only while the version is one of those."""
        changes = parse_update(body)
        customer_id = _canonical_id(customer_id)
        if not changes:
            current = await self.get(organization_id, customer_id)
            if if_match is not None and current.version not in if_match:
                raise CustomerChanged(current.version)
            return current
        if "name" in changes:
            changes["name_search"] = fold(changes["name"] or "")
        expected = await self._expected_version(organization_id, customer_id, if_match)
        now, stamp = timestamp(self._clock()), ChangeStamp.by(actor)
        updated = await self._store.update(
            organization_id, customer_id, changes, now, expected, stamp
        )
        if updated is not None:
            return updated
        if expected is None:
            raise CustomerNotFound
        current = await self.get(organization_id, customer_id)  # not found wins over stale
        raise CustomerChanged(current.version)

    async def set_archived(
        self,
        organization_id: str,
        customer_id: str,
        archiving: bool,
        actor: Actor,
        if_match: frozenset[int] | None = None,
    ) -> StoredCustomer:
        """Archive or restore a customer; one already so is answered as it is, unchanged."""
        customer_id = _canonical_id(customer_id)
        expected = await self._expected_version(organization_id, customer_id, if_match)
        now, stamp = timestamp(self._clock()), ChangeStamp.by(actor)
        changed = await self._store.set_archived(
            organization_id, customer_id, archiving, now, expected, stamp
        )
        if changed is not None:
            return changed
        current = await self.get(organization_id, customer_id)
        already = (current.customer["archived_at"] is not None) == archiving
        if already and (if_match is None or current.version in if_match):
            return current
        raise CustomerChanged(current.version)

    async def erase(
        self,
        organization_id: str,
        customer_id: str,
        erased_response: str,
        actor: Actor,
        if_match: frozenset[int] | None = None,
    ) -> None:
        """Erase a customer for good: the record, every recorded answer naming it, which
        `erased_response` replaces, and its values in the changes recorded of it. Its id is
        never issued again (ids are UUIDv7)."""
        customer_id = _canonical_id(customer_id)
        expected = await self._expected_version(organization_id, customer_id, if_match)
        now, stamp = timestamp(self._clock()), ChangeStamp.by(actor)
        if await self._store.erase(
            organization_id, customer_id, expected, erased_response, now, stamp
        ):
            return
        current = await self.get(organization_id, customer_id)  # not found wins over stale
        raise CustomerChanged(current.version)

    async def list(self, organization_id: str, params: Iterable[tuple[str, str]]) -> Page:
        query = parse_list_query(
            params, lambda cursor, bound_to: self._cursors.decode(cursor, organization_id, bound_to)
        )
        rows = await self._store.list_page(
            organization_id, query.limit + 1, query.after, query.search, query.sort, query.filters
        )
        if len(rows) <= query.limit:
            return Page(customers=rows, next_cursor=None)
        rows = rows[: query.limit]
        last = Position(value=_sort_value(rows[-1], query.sort), id=rows[-1]["id"], sort=query.sort)
        cursor = self._cursors.encode(last, organization_id, query.normalized)
        return Page(customers=rows, next_cursor=cursor)

    async def _expected_version(
        self, organization_id: str, customer_id: str, if_match: frozenset[int] | None
    ) -> int | None:
        """The one version the conditional write must find, resolving a list of several."""
        if if_match is None:
            return None
        if len(if_match) == 1:
            return next(iter(if_match))
        current = await self.get(organization_id, customer_id)
        if current.version not in if_match:
            raise CustomerChanged(current.version)
        return current.version


def _sort_value(customer: Customer, sort: str) -> str:
    """The customer's value of the column a sort orders by."""
    column, _ = SORTS[sort]
    if column == "name_search":
        return fold(customer["name"])
    return customer["updated_at"] if column == "updated_at" else customer["created_at"]


def _canonical_id(customer_id: str) -> str:
    """Ids are stored in canonical lower-case form; anything that is no UUID matches nothing."""
    try:
        return str(uuid.UUID(customer_id))
    except ValueError:
        raise CustomerNotFound from None
