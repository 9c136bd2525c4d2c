"""What the service needs from storage; the database layer provides it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from expensicat.changes.records import ChangeStamp
from expensicat.customers.fields import Customer
from expensicat.customers.listing import NO_FILTERS, Filters
from expensicat.keys import KeyHold, KeyStore
from expensicat.paging import NEWEST_FIRST, Position


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    customer: Customer
    version: int


class CustomerStore(KeyStore, Protocol):
    """Customers, and the idempotency keys their creates hold; timestamps as text in the one
    format of expensicat.timestamps."""

    async def insert(
        self,
        customer: Customer,
        name_search: str,
        stamp: ChangeStamp,
        hold: KeyHold | None = None,
    ) -> bool:
        """Store a new customer whose every public field is set (absent ones as None), and
        record its creation as a change, in one transaction (as every write below does).

        With a held idempotency key, record the response on the key in the same
        transaction, so that a retry finds both or neither; if the claim was lost
        meanwhile, store nothing and return False.
        """

    async def fetch(self, organization_id: str, customer_id: str) -> StoredCustomer | None:
        """The customer, or None when the organization has no customer with that id."""

    async def update(
        self,
        organization_id: str,
        customer_id: str,
        changes: dict[str, str | None],
        now: str,
        expected_version: int | None,
        stamp: ChangeStamp,
    ) -> StoredCustomer | None:
        """Apply changes, bump the version and move updated_at forward to at least `now`.

        Returns None when the customer does not exist or, with `expected_version`, when its
        version differs; nothing is written then.
        """

    async def set_archived(
        self,
        organization_id: str,
        customer_id: str,
        archiving: bool,
        now: str,
        expected_version: int | None,
        stamp: ChangeStamp,
    ) -> StoredCustomer | None:
        """Archive (at `now`) or restore a customer that is not so already, as a change.

        Returns None, writing nothing, when there is no such customer, when it is already
        archived (restored), or, with `expected_version`, when its version differs.
        """

    async def erase(
        self,
        organization_id: str,
        customer_id: str,
        expected_version: int | None,
        erased_response: str,
        now: str,
        stamp: ChangeStamp,
    ) -> bool:
        """Delete the customer and, in the same transaction, put `erased_response` in place
        of every recorded idempotent answer that names it, and clear it from every change
        recorded of it. False, erasing nothing, when there is no such customer or, with
        `expected_version`, its version differs."""

    async def list_page(
        self,
        organization_id: str,
        limit: int,
        after: Position | None,
        search: str,
        sort: str = NEWEST_FIRST,
        filters: Filters = NO_FILTERS,
    ) -> list[Customer]:
        """Up to `limit` customers in the `sort`'s order (listing.SORTS), strictly after
        `after`, whose folded name contains `search` (no condition when empty) and that meet
        `filters`."""

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""

    def load(self) -> tuple[int, int]:
        """Connections (or threads) busy now, and work waiting for one."""

    async def close(self) -> None:
        """Release every connection."""
