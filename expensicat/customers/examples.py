"""Examples for the OpenAPI document, from the same data the README's walkthrough uses."""

from __future__ import annotations

from typing import Any

CUSTOMER: dict[str, Any] = {
    "id": "01a22111-d838-7469-a872-3fa1091cf8c3",
    "organization_id": "acme",
    "name": "Müller GmbH",
    "email": "billing@mueller.de",
    "phone": None,
    "website": "https://mueller.de",
    "contact_person": None,
    "address_line1": None,
    "address_line2": None,
    "country": None,
    "city": None,
    "state": None,
    "postal_code": None,
    "tax_id": None,
    "notes": None,
    "created_at": "2026-11-28T07:32:27.320641Z",
    "updated_at": "2026-11-28T07:32:27.320641Z",
    "country_code": "DE",
    "archived_at": None,
}
UPDATED = {
    **CUSTOMER,
    "phone": "+49 30 1234567",
    "website": None,
    "updated_at": "2026-11-28T07:32:27.447899Z",
}
ARCHIVED = {
    "data": {
        **CUSTOMER,
        "updated_at": "2026-11-29T09:00:00.000000Z",
        "archived_at": "2026-11-29T09:00:00.000000Z",
    }
}
CREATE = {
    "name": "Müller GmbH",
    "email": "billing@mueller.de",
    "website": "mueller.de",
    "country_code": "de",
}
UPDATE = {"phone": "+49 30 1234567", "website": None}
ONE = {"data": CUSTOMER}
PAGE = {"data": [CUSTOMER], "meta": {"count": 1, "next_cursor": "vslAtvBBCZyvDXMVzqp_xj0"}}
