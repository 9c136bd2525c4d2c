"""What a webhook endpoint is, the events it may ask for, and its signing secrets."""

from __future__ import annotations

import base64
import secrets
from typing import TypedDict

from expensicat.changes.records import TYPES

TEST_EVENT = "webhook.test"
EVENTS = (*TYPES, TEST_EVENT)
ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
# What became of a delivery: waiting for its (next) attempt, or done, one way or the other.
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# A rotated-out secret still signs deliveries for this long, beside the new one.
ROTATION_OVERLAP_HOURS = 24


class WebhookEndpoint(TypedDict):
    id: str
    organization_id: str
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: str
    updated_at: str


class Attempt(TypedDict):
    """One try at delivering one event, as the delivery log shows it."""

    id: str
    event_id: str
    type: str
    attempted_at: str
    status_code: int | None
    duration_ms: int
    error: str | None
    next_attempt_at: str | None


def new_secret() -> str:
    """A signing secret as Standard Webhooks spells one: whsec_ and 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def stored_events(events: list[str]) -> str:
    """The events as the table keeps them: ",a,b," (or ",*,"), which LIKE can match."""
    return "," + ",".join(events) + ","


def listed_events(stored: str) -> list[str]:
    return stored.strip(",").split(",")
