"""The customers service: the rules of creating, reading, listing and changing customers."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import uuid_utils

from expensicat.customers.cursor import CursorSigner, Position
from expensicat.customers.errors import (
    CustomerNotFound,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    VersionMismatch,
)
from expensicat.customers.fields import PUBLIC_FIELDS, Customer
from expensicat.customers.search import fold
from expensicat.customers.store import CustomerStore, KeyHold, StoredCustomer
from expensicat.customers.validation import parse_create, parse_list_query, parse_update

# Idempotency keys are kept at least this long, as the API promises.
KEY_RETENTION = timedelta(hours=24)
# A create holding a key longer than this is presumed dead and its key free again; far
# above the statement timeout, so a live request never loses its claim.
KEY_LEASE = timedelta(seconds=60)


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, e.g. 2026-11-28T07:16:53.123456Z; sorts as text."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Created:
    stored: StoredCustomer
    # True when an idempotent retry got the customer an earlier request created.
    replayed: bool = False


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

    async def create(
        self,
        organization_id: str,
        body: Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> Created:
        """Create a customer; with a key, at most once however often the request is retried."""
        values = parse_create(body, idempotency_key)
        now = self._clock()
        customer: Customer = dict.fromkeys(PUBLIC_FIELDS)
        customer.update(values)
        customer.update(
            id=str(uuid_utils.uuid7()),
            organization_id=organization_id,
            created_at=timestamp(now),
            updated_at=timestamp(now),
        )
        created = StoredCustomer(customer=customer, version=1)
        if idempotency_key is None:
            await self._store.insert(customer, fold(customer["name"]))
            return Created(created)
        return await self._create_once(created, idempotency_key, fingerprint(body), now)

    async def _create_once(
        self, created: StoredCustomer, key: str, request_hash: str, now: datetime
    ) -> Created:
        organization_id = created.customer["organization_id"]
        lease_until = timestamp(now + KEY_LEASE)
        claim = await self._store.claim_key(
            organization_id, key, request_hash, timestamp(now), lease_until,
            expired_before=timestamp(now - KEY_RETENTION),
        )  # fmt: skip
        if not claim.claimed:
            if claim.request_hash and claim.request_hash != request_hash:
                raise IdempotencyKeyReused
            if claim.response is None:
                raise IdempotencyKeyInUse
            return Created(StoredCustomer(orjson.loads(claim.response), version=1), replayed=True)
        hold = KeyHold(key, lease_until, orjson.dumps(created.customer).decode())
        try:
            inserted = await self._store.insert(
                created.customer, fold(created.customer["name"]), hold
            )
        except BaseException:
            await self._store.release_key(organization_id, key)
            raise
        if not inserted:
            raise IdempotencyKeyInUse
        return Created(created)

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
        if_match: frozenset[int] | None = None,
    ) -> StoredCustomer:
        """Apply a PATCH body; with `if_match`, only while the version is one of those."""
        changes = parse_update(body)
        customer_id = _canonical_id(customer_id)
        if not changes:
            current = await self.get(organization_id, customer_id)
            if if_match is not None and current.version not in if_match:
                raise VersionMismatch
            return current
        if "name" in changes:
            changes["name_search"] = fold(changes["name"] or "")
        expected = await self._expected_version(organization_id, customer_id, if_match)
        updated = await self._store.update(
            organization_id, customer_id, changes, timestamp(self._clock()), expected
        )
        if updated is not None:
            return updated
        if expected is None:
            raise CustomerNotFound
        await self.get(organization_id, customer_id)  # not found wins over a stale version
        raise VersionMismatch

    async def forget_expired_keys(self) -> None:
        """Drop idempotency keys past their retention."""
        await self._store.purge_keys(timestamp(self._clock() - KEY_RETENTION))

    async def list(self, organization_id: str, params: Mapping[str, str]) -> Page:
        query = parse_list_query(
            params, lambda cursor, q: self._cursors.decode(cursor, organization_id, fold(q))
        )
        search = fold(query.q)
        rows = await self._store.list_page(organization_id, query.limit + 1, query.after, search)
        if len(rows) <= query.limit:
            return Page(customers=rows, next_cursor=None)
        rows = rows[: query.limit]
        last = Position(created_at=rows[-1]["created_at"], id=rows[-1]["id"])
        return Page(customers=rows, next_cursor=self._cursors.encode(last, organization_id, search))

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
            raise VersionMismatch
        return current.version


def fingerprint(body: Mapping[str, Any]) -> str:
    """The same JSON object gives the same fingerprint, whatever its key order or spacing."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _canonical_id(customer_id: str) -> str:
    """Ids are stored in canonical lower-case form; anything that is no UUID matches nothing."""
    try:
        return str(uuid.UUID(customer_id))
    except ValueError:
        raise CustomerNotFound from None
