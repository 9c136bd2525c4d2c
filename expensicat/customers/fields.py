"""The customer record as the API shows it, and the limits of each writable field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict, cast


class Customer(TypedDict):
    """A customer as the API returns it: the reference's 18 fields, in order, then ours."""

    id: str
    organization_id: str
    name: str
    email: str | None
    phone: str | None
    website: str | None
    contact_person: str | None
    address_line1: str | None
    address_line2: str | None
    country: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    tax_id: str | None
    notes: str | None
    created_at: str
    updated_at: str
    country_code: str | None
    archived_at: str | None


# Every customer carries exactly these fields, in this order.
PUBLIC_FIELDS: tuple[str, ...] = tuple(Customer.__annotations__)


def customer_from(row: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> Customer:
    """A customer from a row of the public fields, as a database driver gives it."""
    return cast(Customer, dict(row))


def field_values(customer: Customer) -> list[object]:
    """The customer's values in PUBLIC_FIELDS order, as the table's columns take them."""
    values: Mapping[str, object] = customer
    return [values[field] for field in PUBLIC_FIELDS]


# Fields a client may send, with their maximum length in characters.
WRITABLE_FIELDS: dict[str, int] = {
    "name": 255,
    "email": 255,
    "phone": 255,
    "website": 255,
    "contact_person": 255,
    "address_line1": 255,
    "address_line2": 255,
    "country": 255,
    "city": 255,
    "state": 255,
    "postal_code": 255,
    "tax_id": 255,
    "notes": 10_000,
    "country_code": 255,  # and, once trimmed, an ISO 3166-1 alpha-2 code
}

SERVER_FIELDS = frozenset(PUBLIC_FIELDS) - WRITABLE_FIELDS.keys()

MAX_QUERY_LENGTH = 200
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# The characters str.isspace() accepts, which str.strip() trims (a test checks this list
# against the running Python). Spelled out rather than found by scanning every code point
# at import; migration 0004 froze the same list for the database's own checks.
WHITESPACE = (
    9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760,
    *range(8192, 8203), 8232, 8233, 8239, 8287, 12288,
)  # fmt: skip
