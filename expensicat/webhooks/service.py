"""The webhooks service: an organization's endpoints, their secrets, tests, log and
redeliveries. Delivery itself is the worker's (dispatch.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import uuid_utils

from expensicat.errors import NotFound, ValidationFailed
from expensicat.paging import CursorSigner, InvalidCursor, page_size
from expensicat.sealing import Sealer
from expensicat.timestamps import parse_moment, timestamp, utc_now
from expensicat.webhooks.delivery import Sender
from expensicat.webhooks.messages import sealing_context, signing_secrets, test_body
from expensicat.webhooks.records import (
    ROTATION_OVERLAP_HOURS,
    TEST_EVENT,
    Attempt,
    WebhookEndpoint,
    new_secret,
)
from expensicat.webhooks.signing import signed_headers
from expensicat.webhooks.store import NewEndpoint, WebhookStore
from expensicat.webhooks.validation import parse_endpoint

DEFAULT_PAGE = 20
MAX_PAGE = 100
T = TypeVar("T")


class EndpointNotFound(NotFound):
    resource = "webhook endpoint"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class WithSecret:
    """An endpoint and its signing secret: shown when it is made, and when it is rotated."""

    endpoint: WebhookEndpoint
    secret: str


class WebhookService:
    def __init__(
        self,
        store: WebhookStore,
        sealer: Sealer,
        sender: Sender,
        cursors: CursorSigner,
        allow_http: bool,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._sealer = sealer
        self._sender = sender
        self._cursors = cursors
        self._allow_http = allow_http
        self._clock = clock

    async def create(self, organization_id: str, body: Mapping[str, Any]) -> WithSecret:
        values = parse_endpoint(body, creating=True, allow_http=self._allow_http)
        now = timestamp(self._clock())
        endpoint: WebhookEndpoint = {
            "id": str(uuid_utils.uuid7()),
            "organization_id": organization_id,
            "url": values["url"],
            "events": values["events"],
            "description": values.get("description"),
            "enabled": True,
            "disabled_reason": None,
            "created_at": now,
            "updated_at": now,
        }
        secret = new_secret()
        sealed = self._sealer.seal(secret, sealing_context(organization_id, endpoint["id"]))
        await self._store.insert_endpoint(NewEndpoint(endpoint, sealed))
        return WithSecret(endpoint, secret)

    async def get(self, organization_id: str, endpoint_id: str) -> WebhookEndpoint:
        found = await self._store.fetch_endpoint(organization_id, _canonical_id(endpoint_id))
        if found is None:
            raise EndpointNotFound
        return found

    async def list(
        self, organization_id: str, params: Iterable[tuple[str, str]]
    ) -> Page[WebhookEndpoint]:
        limit, after = self._page_query(organization_id, params, "webhook_endpoints")
        rows = await self._store.endpoint_page(organization_id, after, limit + 1)
        if len(rows) <= limit:
            return Page(rows, None)
        last = rows[limit - 1]["id"]
        return Page(rows[:limit], self._cursors.seal(last, organization_id, "webhook_endpoints"))

    async def update(
        self, organization_id: str, endpoint_id: str, body: Mapping[str, Any]
    ) -> WebhookEndpoint:
        changes = parse_endpoint(body, creating=False, allow_http=self._allow_http)
        if not changes:
            return await self.get(organization_id, endpoint_id)
        if changes.get("enabled") is True:  # a fresh start: the failures so far are forgiven
            changes.update(disabled_reason=None, failing_since=None)
        if changes.get("enabled") is False:
            changes["disabled_reason"] = "Disabled by request."
        return await self._changed(organization_id, endpoint_id, changes)

    async def delete(self, organization_id: str, endpoint_id: str) -> None:
        if not await self._store.delete_endpoint(organization_id, _canonical_id(endpoint_id)):
            raise EndpointNotFound

    async def rotate_secret(self, organization_id: str, endpoint_id: str) -> WithSecret:
        """A new secret; the old one signs beside it for ROTATION_OVERLAP_HOURS, so that
        receivers can switch without missing a delivery."""
        current = await self._store.destination(organization_id, _canonical_id(endpoint_id))
        if current is None:
            raise EndpointNotFound
        secret = new_secret()
        until = self._clock() + timedelta(hours=ROTATION_OVERLAP_HOURS)
        changes: dict[str, object] = {
            "secret": self._sealer.seal(secret, sealing_context(organization_id, current.id)),
            "previous_secret": current.sealed_secret,
            "previous_secret_until": timestamp(until),
        }
        return WithSecret(await self._changed(organization_id, current.id, changes), secret)

    async def send_test(self, organization_id: str, endpoint_id: str) -> Attempt:
        """Send a webhook.test event now, and answer how it went (it is logged too)."""
        destination = await self._store.destination(organization_id, _canonical_id(endpoint_id))
        if destination is None:
            raise EndpointNotFound
        now = self._clock()
        event_id = str(uuid_utils.uuid7())
        body = test_body(destination.id, now)
        secrets = signing_secrets(self._sealer, destination, now)
        outcome = await self._sender.send(
            destination.url, signed_headers(event_id, now, body, secrets), body
        )
        attempt: Attempt = {
            "id": str(uuid_utils.uuid7()),
            "event_id": event_id,
            "type": TEST_EVENT,
            "attempted_at": timestamp(now),
            "status_code": outcome.status_code,
            "duration_ms": outcome.duration_ms,
            "error": outcome.error,
            "next_attempt_at": None,
        }
        await self._store.log_attempt(organization_id, destination.id, attempt)
        return attempt

    async def attempts(
        self, organization_id: str, endpoint_id: str, params: Iterable[tuple[str, str]]
    ) -> Page[Attempt]:
        endpoint = await self.get(organization_id, endpoint_id)
        query = f"webhook_deliveries\x00{endpoint['id']}"
        limit, after = self._page_query(organization_id, params, query)
        position = None if after is None else tuple(after.split("|", 1))
        rows = await self._store.attempt_page(
            organization_id,
            endpoint["id"],
            (position[0], position[1]) if position else None,
            limit + 1,
        )
        if len(rows) <= limit:
            return Page(rows, None)
        last = rows[limit - 1]
        cursor = f"{last['attempted_at']}|{last['id']}"
        return Page(rows[:limit], self._cursors.seal(cursor, organization_id, query))

    async def redeliver(
        self, organization_id: str, endpoint_id: str, body: Mapping[str, Any]
    ) -> int:
        """Send again the events queued for the endpoint since a moment, or one by id;
        how many will go."""
        endpoint = await self.get(organization_id, endpoint_id)
        event_id, since = _redelivery(body)
        return await self._store.redeliver(
            organization_id, endpoint["id"], event_id, since, timestamp(self._clock())
        )

    async def _changed(
        self, organization_id: str, endpoint_id: str, changes: dict[str, object]
    ) -> WebhookEndpoint:
        now = timestamp(self._clock())
        updated = await self._store.update_endpoint(
            organization_id, _canonical_id(endpoint_id), changes, now
        )
        if updated is None:
            raise EndpointNotFound
        return updated

    def _page_query(
        self, organization_id: str, params: Iterable[tuple[str, str]], query: str
    ) -> tuple[int, str | None]:
        given = dict(params)
        problems: dict[str, list[str]] = {}
        limit = page_size(given.get("limit"), DEFAULT_PAGE, MAX_PAGE, problems)
        after = None
        if given.get("cursor"):
            try:
                after = self._cursors.open(given["cursor"], organization_id, query)
            except InvalidCursor:
                problems["cursor"] = ["Not a cursor this service issued for this list."]
        if problems:
            raise ValidationFailed(problems)
        return limit, after


def _redelivery(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Exactly one of `event_id` (a uuid) and `since` (an RFC 3339 moment)."""
    unknown = [name for name in body if name not in ("event_id", "since")]
    if unknown or len(body) != 1:
        message = "Give exactly one of event_id and since."
        raise ValidationFailed({name: [message] for name in (unknown or ["event_id", "since"])})
    if "event_id" in body:
        try:
            return str(uuid.UUID(str(body["event_id"]))), None
        except ValueError:
            raise ValidationFailed({"event_id": ["Must be an event id (a UUID)."]}) from None
    since = body["since"]
    try:
        if not isinstance(since, str):
            raise ValueError("Must be an RFC 3339 date-time, such as 2026-11-28T07:32:27Z.")
        return None, parse_moment(since)
    except ValueError as problem:
        raise ValidationFailed({"since": [str(problem)]}) from None


def _canonical_id(endpoint_id: str) -> str:
    try:
        return str(uuid.UUID(endpoint_id))
    except ValueError:
        raise EndpointNotFound from None
