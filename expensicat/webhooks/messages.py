"""What a delivery says: the body of each event, and who may sign it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from expensicat.sealing import Sealer
from expensicat.timestamps import timestamp
from expensicat.webhooks.records import TEST_EVENT
from expensicat.webhooks.store import Destination, Event


def event_body(event: Event) -> bytes:
    """{"type", "timestamp", "data", "customer_version"}: the data is the customer as it
    stood after the change, or its id alone once it is erased; with the timestamp and the
    version, a receiver can tell a late retry from news."""
    data: Any = {"id": event.customer_id}
    if event.customer is not None:
        data = orjson.Fragment(event.customer)
    return orjson.dumps(
        {
            "type": event.type,
            "timestamp": event.occurred_at,
            "data": data,
            "customer_version": event.customer_version,
        }
    )


def test_body(endpoint_id: str, now: datetime) -> bytes:
    return orjson.dumps(
        {"type": TEST_EVENT, "timestamp": timestamp(now), "data": {"endpoint_id": endpoint_id}}
    )


def signing_secrets(sealer: Sealer, destination: Destination, now: datetime) -> list[str]:
    """The endpoint's secret, and the one it replaced while that still counts."""
    context = sealing_context(destination.organization_id, destination.id)
    secrets = [sealer.open(destination.sealed_secret, context)]
    previous, until = destination.sealed_previous_secret, destination.previous_secret_until
    if previous is not None and until is not None and until > timestamp(now):
        secrets.append(sealer.open(previous, context))
    return secrets


def sealing_context(organization_id: str, endpoint_id: str) -> str:
    """What a sealed secret is bound to: its endpoint, so it opens nowhere else."""
    return f"webhook-endpoint/{organization_id}/{endpoint_id}"
