"""The customer record as the API shows it, and the limits of each writable field."""

from __future__ import annotations

from typing import Any

# Every customer carries exactly these fields, in this order.
PUBLIC_FIELDS: tuple[str, ...] = (
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
)

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

# A customer as the API returns it: the 18 public fields, in order.
Customer = dict[str, Any]
