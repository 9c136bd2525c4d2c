"""The changes feed endpoint: declared once, with its handler and its schemas."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from expensicat.api.endpoint import Answer, Call, Endpoint, Parameter
from expensicat.api.errors import CURSOR_EXPIRED, VALIDATION_ERROR
from expensicat.api.openapi import page_of
from expensicat.api.responses import json_response
from expensicat.auth.principal import READ_SCOPE
from expensicat.changes.feed import DEFAULT_FEED_PAGE, FROM, MAX_FEED_PAGE, ChangeFeed
from expensicat.changes.records import TYPES
from expensicat.customers import examples

CHANGES = "/api/v1/customers/changes"


def feed(request: Request) -> ChangeFeed:
    found: ChangeFeed = request.app.state.changes
    return found


async def list_changes(call: Call) -> Response:
    """Read the changes feed from a cursor."""
    params = call.request.query_params.multi_items()
    page = await feed(call.request).read(call.organization_id, params)
    meta = {"count": len(page.changes), "next_cursor": page.next_cursor, "has_more": page.has_more}
    return json_response({"data": page.changes, "meta": meta})


def change_schemas() -> dict[str, Any]:
    customer = {"$ref": "#/components/schemas/Customer"}
    return {
        "Change": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "type": {"type": "string", "enum": list(TYPES)},
                "occurred_at": {"type": "string", "format": "date-time"},
                "customer_id": {"type": "string", "format": "uuid"},
                "customer": {"anyOf": [customer, {"type": "null"}]},
                "actor": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": ["user", "client"]},
                        "id": {"type": "string"},
                    },
                    "required": ["type", "id"],
                    "additionalProperties": False,
                },
            },
            "required": ["id", "type", "occurred_at", "customer_id", "customer", "actor"],
            "additionalProperties": False,
        },
        # The feed's cursor is never null: at the end it is where to poll from next.
        "ChangeList": page_of(
            "Change", {"next_cursor": {"type": "string"}, "has_more": {"type": "boolean"}}
        ),
    }


_EXAMPLE = {
    "data": [
        {
            "id": "01a22111-d838-7469-a872-4b12c0a1e7d5",
            "type": "customer.created",
            "occurred_at": examples.CUSTOMER["created_at"],
            "customer_id": examples.CUSTOMER["id"],
            "customer": examples.CUSTOMER,
            "actor": {"type": "user", "id": "user-1"},
        }
    ],
    "meta": {"count": 1, "next_cursor": "hY3Xr0bXv1VkQ2ZlZWR8MTIzfDR8", "has_more": False},
}

ENDPOINTS = (
    Endpoint(
        "GET",
        CHANGES,
        "listCustomerChanges",
        "List changes to customers",
        list_changes,
        (Answer(200, "A page of changes, oldest first.", "ChangeList", example=_EXAMPLE),),
        scope=READ_SCOPE,
        description=(
            "Every change to the organization's customers, in order, each exactly once. "
            "With no cursor the feed starts at the oldest change it keeps; from=now starts at "
            "the head. meta.next_cursor is never null: poll again from it. A cursor stays "
            "good as long as the changes after it are kept (EXPENSICAT_CHANGES_RETENTION_DAYS, "
            "30 by default); an older one is a 410 CURSOR_EXPIRED, and the client resyncs."
        ),
        parameters=(
            Parameter(
                "cursor",
                "query",
                "Where to read on from: meta.next_cursor of the previous page.",
                {"type": "string"},
            ),
            Parameter(
                "limit",
                "query",
                f"Number of changes per page (1-{MAX_FEED_PAGE}).",
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_FEED_PAGE,
                    "default": DEFAULT_FEED_PAGE,
                },
            ),
            Parameter(
                "from",
                "query",
                "now: an empty page whose cursor is the feed's head (instead of a cursor).",
                {"type": "string", "enum": list(FROM)},
            ),
        ),
        errors=(VALIDATION_ERROR, CURSOR_EXPIRED),
        tag="changes",
    ),
)
