"""The webhook store (webhooks.store.WebhookStore) over a driver of either database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from expensicat.changes.store import Place
from expensicat.db.webhooks import webhook_queries_for
from expensicat.timestamps import FORMAT as RFC3339
from expensicat.webhooks.records import Attempt, WebhookEndpoint, listed_events, stored_events
from expensicat.webhooks.store import Claimed, Destination, Event, Finishing, NewEndpoint

if TYPE_CHECKING:
    from expensicat.db.store import Driver

Row = Sequence[Any]


class SqlWebhookStore:
    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._queries = webhook_queries_for(driver.dialect)

    async def insert_endpoint(self, new: NewEndpoint) -> None:
        endpoint = new.endpoint
        values = {
            **endpoint,
            "events": stored_events(endpoint["events"]),
            "secret": new.sealed_secret,
            "previous_secret": None,
            "previous_secret_until": None,
            "failing_since": None,
        }
        await self._driver.write(self._queries.insert_endpoint, values)

    async def fetch_endpoint(
        self, organization_id: str, endpoint_id: str
    ) -> WebhookEndpoint | None:
        values = {"organization_id": organization_id, "id": endpoint_id}
        rows = await self._driver.read(self._queries.fetch_endpoint, values)
        return _endpoint(rows[0]) if rows else None

    async def endpoint_page(
        self, organization_id: str, after_id: str | None, limit: int
    ) -> list[WebhookEndpoint]:
        values = {"organization_id": organization_id, "after_id": after_id, "limit": limit}
        query = self._queries.first_endpoints if after_id is None else self._queries.endpoints_after
        return [_endpoint(row) for row in await self._driver.read(query, values)]

    async def update_endpoint(
        self, organization_id: str, endpoint_id: str, changes: dict[str, object], now: str
    ) -> WebhookEndpoint | None:
        values = {**changes, "organization_id": organization_id, "id": endpoint_id, "now": now}
        events = changes.get("events")
        if isinstance(events, list):
            values["events"] = stored_events(events)
        plan = self._queries.update_endpoint(tuple(changes))
        rows = await self._driver.write(plan, values)
        return _endpoint(rows[0]) if rows else None

    async def delete_endpoint(self, organization_id: str, endpoint_id: str) -> bool:
        values = {"organization_id": organization_id, "id": endpoint_id}
        return bool(await self._driver.write(self._queries.delete_endpoint, values))

    async def destination(self, organization_id: str, endpoint_id: str) -> Destination | None:
        values = {"organization_id": organization_id, "id": endpoint_id}
        rows = await self._driver.read(self._queries.fetch_secrets, values)
        return _destination(rows[0]) if rows else None

    async def destinations(self) -> list[Destination]:
        return [
            _destination(row) for row in await self._driver.read(self._queries.dispatchable, {})
        ]

    async def queue(self, destination: Destination, limit: int, now: str) -> int:
        old_tx, old_seq = destination.place
        values = {
            "organization_id": destination.organization_id,
            "id": destination.id,
            "old_tx": old_tx,
            "old_seq": old_seq,
            "limit": limit,
        }
        rows = await self._driver.read(self._queries.places_ahead, values)
        ahead = [(row[2], row[3]) for row in rows if row[2] is not None]
        horizon: Place = (rows[0][0], rows[0][1])
        # A full read ends at its last change; a short one has seen everything up to the
        # horizon, where the endpoint may wait.
        new = ahead[-1] if len(ahead) == limit else max(horizon, destination.place)
        if new == destination.place:
            return 0
        values.update(new_tx=new[0], new_seq=new[1], now=now)
        moved = await self._driver.write(self._queries.queue, values)
        return len(ahead) if moved else 0  # another worker moved it first, and queued them

    async def claim(
        self, destination: Destination, limit: int, now: str, lease_until: str
    ) -> list[Claimed]:
        values = {
            "organization_id": destination.organization_id,
            "endpoint_id": destination.id,
            "now": now,
            "lease_until": lease_until,
            "limit": limit,
        }
        rows = await self._driver.write(self._queries.claim, values)
        if self._queries.claim_reads_events:
            events = [_event(row[5:]) for row in rows]
        else:
            org = destination.organization_id
            events = [await self._event(org, (row[1], row[2])) for row in rows]
        claimed = [
            Claimed(row[0], (row[1], row[2]), row[3], row[4], event)
            for row, event in zip(rows, events, strict=True)
        ]
        return sorted(claimed, key=lambda one: one.place)

    async def _event(self, organization_id: str, place: Place) -> Event | None:
        values = {"organization_id": organization_id, "tx": place[0], "seq": place[1]}
        rows = await self._driver.read(self._queries.event, values)
        return _event(rows[0]) if rows else None

    async def finish(self, finishing: Sequence[Finishing]) -> None:
        await self._driver.write_each(
            self._queries.finish, [_finish_values(one) for one in finishing]
        )

    async def log_attempt(self, organization_id: str, endpoint_id: str, attempt: Attempt) -> None:
        values = {
            "organization_id": organization_id,
            "endpoint_id": endpoint_id,
            **attempt,
            "change_id": attempt["event_id"],
        }
        await self._driver.write(self._queries.log_attempt, values)

    async def set_failing(self, destination: Destination, failing: bool, now: str) -> None:
        values = {"organization_id": destination.organization_id, "id": destination.id, "now": now}
        plan = self._queries.mark_failing if failing else self._queries.mark_healthy
        await self._driver.write(plan, values)

    async def disable_failing(self, failing_before: str, reason: str, now: str) -> int:
        values = {"failing_before": failing_before, "disabled_reason": reason, "now": now}
        return len(await self._driver.write(self._queries.disable_failing, values))

    async def attempt_page(
        self,
        organization_id: str,
        endpoint_id: str,
        after: tuple[str, str] | None,
        limit: int,
    ) -> list[Attempt]:
        values: dict[str, Any] = {
            "organization_id": organization_id,
            "endpoint_id": endpoint_id,
            "limit": limit,
        }
        if after is None:
            query = self._queries.first_attempts
        else:
            query = self._queries.attempts_after
            values.update(after_at=after[0], after_id=after[1])
        return [_attempt(row) for row in await self._driver.read(query, values)]

    async def redeliver(
        self,
        organization_id: str,
        endpoint_id: str,
        event_id: str | None,
        since: str | None,
        now: str,
    ) -> int:
        values = {
            "organization_id": organization_id,
            "endpoint_id": endpoint_id,
            "change_id": event_id,
            "since": since,
            "now": now,
        }
        plan = self._queries.redeliver_one if event_id else self._queries.redeliver_since
        return len(await self._driver.write(plan, values))

    async def backlog(self, now: datetime) -> tuple[int, float]:
        """Deliveries owed, and the age in seconds of the oldest (0 when none is)."""
        count, oldest = (await self._driver.read(self._queries.backlog, {}))[0]
        if oldest is None:
            return count, 0.0
        queued = datetime.strptime(oldest, RFC3339).replace(tzinfo=UTC)
        return count, max(0.0, (now - queued).total_seconds())

    async def purge_delivery_log(self, before: str) -> None:
        await self._driver.write(self._queries.purge_attempts, {"before": before})
        await self._driver.write(self._queries.purge_deliveries, {"before": before})


def _event(row: Row) -> Event | None:
    """The change a delivery announces, from its columns; None when they are all NULL (the
    outer join found it purged)."""
    return None if row[0] is None else Event(*row)


def _finish_values(finishing: Finishing) -> dict[str, Any]:
    destination, finished = finishing.destination, finishing.finished
    attempt = finished.attempt
    return {
        "organization_id": destination.organization_id,
        "endpoint_id": destination.id,
        "change_id": finishing.delivery.change_id,
        "lease_until": finishing.lease_until,
        "status": finished.status,
        "attempts": finished.attempts,
        "next_attempt_at": finished.next_attempt_at,
        "attempt_id": attempt["id"],
        "type": attempt["type"],
        "attempted_at": attempt["attempted_at"],
        "status_code": attempt["status_code"],
        "duration_ms": attempt["duration_ms"],
        "error": attempt["error"],
        "retry_at": attempt["next_attempt_at"],
    }


def _endpoint(row: Row) -> WebhookEndpoint:
    endpoint_id, organization_id, url, events, description, enabled, reason, created, updated = row
    return {
        "id": endpoint_id,
        "organization_id": organization_id,
        "url": url,
        "events": listed_events(events),
        "description": description,
        "enabled": bool(enabled),
        "disabled_reason": reason,
        "created_at": created,
        "updated_at": updated,
    }


def _destination(row: Row) -> Destination:
    organization_id, endpoint_id, url, secret, previous, until, after_tx, after_seq = row
    return Destination(
        organization_id, endpoint_id, url, secret, previous, until, (after_tx, after_seq)
    )


def _attempt(row: Row) -> Attempt:
    attempt_id, change_id, event_type, at, status_code, duration_ms, error, next_at = row
    return {
        "id": attempt_id,
        "event_id": change_id,
        "type": event_type,
        "attempted_at": at,
        "status_code": status_code,
        "duration_ms": duration_ms,
        "error": error,
        "next_attempt_at": next_at,
    }
