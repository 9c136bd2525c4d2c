"""The contract's shapes, written out as the reference states them, for assertions."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx2

CUSTOMERS = "/api/v1/customers"

# Exactly the fields of the public reference, in its order.
CUSTOMER_FIELDS = (
    "id",
    "organization_id",
    "name",
    "email",
    "phone",
    "website",
    "contact_person",
    "address_line1",
    "address_line2",
    "country",
    "city",
    "state",
    "postal_code",
    "tax_id",
    "notes",
    "created_at",
    "updated_at",
    "country_code",
    # Ours, after the reference's 18: null while the customer is active.
    "archived_at",
)

# Optional free-text fields: any string up to 255 characters, no format of their own.
PLAIN_TEXT_FIELDS = (
    "phone",
    "contact_person",
    "address_line1",
    "address_line2",
    "country",
    "city",
    "state",
    "postal_code",
    "tax_id",
)

SERVER_FIELDS = ("id", "organization_id", "created_at", "updated_at", "archived_at")

_RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")


def customer_url(customer_id: str) -> str:
    return f"{CUSTOMERS}/{customer_id}"


def timestamp(value: str) -> datetime:
    """An RFC 3339 UTC timestamp ending in `Z`, as the contract requires."""
    assert _RFC3339_UTC.fullmatch(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def assert_customer(customer: dict[str, Any]) -> None:
    """Exactly the 18 fields and archived_at, a UUIDv7 id and RFC 3339 `Z` timestamps."""
    assert tuple(customer) == CUSTOMER_FIELDS
    if customer["archived_at"] is not None:
        assert timestamp(customer["archived_at"]) >= timestamp(customer["created_at"])
    assert uuid.UUID(customer["id"]).version == 7
    assert str(uuid.UUID(customer["id"])) == customer["id"]
    assert timestamp(customer["updated_at"]) >= timestamp(customer["created_at"])


def assert_error(
    response: httpx2.Response, status: int, code: str, fields: set[str] | None = None
) -> dict[str, Any]:
    """The error envelope with this status and code; with `fields`, exactly those in details.

    Returns the details so a test can look at the messages.
    """
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert _ERROR_CODE.fullmatch(error["code"])
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "Traceback" not in response.text
    details: dict[str, Any] = error["details"]
    assert isinstance(details, dict)
    if fields is not None:
        assert set(details) == fields, details
        for messages in details.values():
            assert isinstance(messages, list)
            assert messages
            assert all(isinstance(message, str) and message for message in messages)
    return details


def assert_unauthorized(response: httpx2.Response, error: str | None = "invalid_token") -> None:
    """401 UNAUTHORIZED with an RFC 6750 challenge, naming the error when there is one."""
    assert_error(response, 401, "UNAUTHORIZED", set())
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}"' in challenge


def newest_first(customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The contract's list order: created_at descending, then id descending."""
    return sorted(customers, key=lambda c: (timestamp(c["created_at"]), c["id"]), reverse=True)


def folded(text: str) -> str:
    """The contract's search folding: Unicode NFKD, combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
