"""What the service needs from storage; the database layer provides it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from expensicat.customers.fields import Customer
from expensicat.paging import Position

# Timestamps cross the store's boundary as text in this form (RFC 3339, UTC, microseconds,
# e.g. 2026-11-28T07:16:53.123456Z), which sorts in time order.
RFC3339 = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    customer: Customer
    version: int


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """What claiming an idempotency key found: ours now, or someone's earlier request."""

    claimed: bool
    request_hash: str = ""
    # The customer the earlier request created, as JSON; None while it is in flight.
    response: str | None = None


@dataclass(frozen=True, slots=True)
class KeyHold:
    """A claimed idempotency key, and what to record as its response."""

    key: str
    lease_until: str
    response: str


class CustomerStore(Protocol):
    async def insert(
        self, customer: Customer, name_search: str, hold: KeyHold | None = None
    ) -> bool:
        """Store a new customer whose every public field is set (absent ones as None).

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
    ) -> StoredCustomer | None:
        """Apply changes, bump the version and move updated_at forward to at least `now`.

        Returns None when the customer does not exist or, with `expected_version`, when its
        version differs; nothing is written then.
        """

    async def list_page(
        self, organization_id: str, limit: int, after: Position | None, search: str
    ) -> list[Customer]:
        """Up to `limit` customers, newest first, strictly after `after`, whose folded name
        contains `search` (no filter when empty)."""

    async def claim_key(
        self,
        organization_id: str,
        key: str,
        request_hash: str,
        now: str,
        lease_until: str,
        expired_before: str,
    ) -> KeyClaim:
        """Claim a key unless another request holds it or already completed with it.

        A claim in flight past its lease, or a key created before `expired_before`, is free.
        """

    async def release_key(self, organization_id: str, key: str) -> None:
        """Give up an in-flight claim after the create failed, so a retry may run again."""

    async def purge_keys(self, created_before: str) -> None:
        """Forget keys created before the given moment."""

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""

    async def close(self) -> None:
        """Release every connection."""
