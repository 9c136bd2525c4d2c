"""What webhooks need from storage; the database layer provides it. Timestamps are text in
the one format of expensicat.timestamps; secrets are sealed before they get here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from expensicat.changes.store import Place
from expensicat.webhooks.records import Attempt, WebhookEndpoint


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    sealed_secret: str


@dataclass(frozen=True, slots=True)
class Destination:
    """An endpoint as the worker delivers to it."""

    organization_id: str
    id: str
    url: str
    sealed_secret: str
    sealed_previous_secret: str | None
    previous_secret_until: str | None
    place: Place


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    occurred_at: str
    customer_id: str
    customer: str | None  # JSON, as recorded; None once the customer is erased
    customer_version: int | None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker leased: which change, how many attempts came before, and the
    change it announces (None once the change is past its retention)."""

    change_id: str
    place: Place
    type: str
    attempts: int
    event: Event | None


@dataclass(frozen=True, slots=True)
class Finished:
    """How a leased delivery went: its new status, attempts and next attempt, and the log
    entry."""

    status: str
    attempts: int
    next_attempt_at: str
    attempt: Attempt


@dataclass(frozen=True, slots=True)
class Finishing:
    """A leased delivery that went as `finished`, to record under the lease that held it."""

    destination: Destination
    delivery: Claimed
    lease_until: str
    finished: Finished


class WebhookStore(Protocol):
    async def insert_endpoint(self, new: NewEndpoint) -> None:
        """Store an endpoint; it hears of the changes committed from now on."""

    async def fetch_endpoint(
        self, organization_id: str, endpoint_id: str
    ) -> WebhookEndpoint | None: ...

    async def endpoint_page(
        self, organization_id: str, after_id: str | None, limit: int
    ) -> list[WebhookEndpoint]:
        """Up to `limit` endpoints, newest first, after `after_id`."""

    async def update_endpoint(
        self, organization_id: str, endpoint_id: str, changes: dict[str, object], now: str
    ) -> WebhookEndpoint | None: ...

    async def delete_endpoint(self, organization_id: str, endpoint_id: str) -> bool: ...

    async def destination(self, organization_id: str, endpoint_id: str) -> Destination | None: ...

    async def destinations(self) -> list[Destination]:
        """Every enabled endpoint of every organization."""

    async def queue(self, destination: Destination, limit: int, now: str) -> int:
        """Queue a delivery of each change after the endpoint's place that it subscribes to,
        up to `limit` changes read; how many changes this call queued past (0: nothing new,
        or another worker moved the place first)."""

    async def claim(
        self, destination: Destination, limit: int, now: str, lease_until: str
    ) -> list[Claimed]: ...

    async def finish(self, finishing: Sequence[Finishing]) -> None:
        """Record each outcome whose lease is still this worker's, in one round trip."""

    async def log_attempt(
        self, organization_id: str, endpoint_id: str, attempt: Attempt
    ) -> None: ...

    async def set_failing(self, destination: Destination, failing: bool, now: str) -> None: ...

    async def disable_failing(self, failing_before: str, reason: str, now: str) -> int: ...

    async def attempt_page(
        self,
        organization_id: str,
        endpoint_id: str,
        after: tuple[str, str] | None,
        limit: int,
    ) -> list[Attempt]: ...

    async def redeliver(
        self,
        organization_id: str,
        endpoint_id: str,
        event_id: str | None,
        since: str | None,
        now: str,
    ) -> int: ...

    async def purge_delivery_log(self, before: str) -> None: ...
