"""The customer's JSON schemas for the OpenAPI document, built from the same field rules
the server enforces, so that the document and the server judge a value alike."""

from __future__ import annotations

from typing import Any

from expensicat.api.openapi import one_of, page_of
from expensicat.customers.fields import PUBLIC_FIELDS, WHITESPACE, WRITABLE_FIELDS
from expensicat.customers.validation import (
    BARE_WEBSITE,
    COUNTRY_CODES,
    REFUSED_EMAIL_DOMAINS,
    WEBSITE_SCHEME,
)

_SERVER_FORMATS = {"id": "uuid", "created_at": "date-time", "updated_at": "date-time"}
# RFC 5321 caps a whole address at 254 characters, and the email check enforces that.
_EMAIL_MAX_LENGTH = 254
# The server refuses NUL in any string (PostgreSQL cannot store it) and a name that is blank
# once trimmed. Whitespace is spelled out: regex engines disagree on what \s matches.
NO_NUL = "^[^\\u0000]*$"
_WHITESPACE = "".join(f"\\u{code:04x}" for code in WHITESPACE)
_NOT_BLANK = f"^[^\\u0000]*[^\\u0000{_WHITESPACE}][^\\u0000]*$"
# String inputs are trimmed before they are checked: a pattern allows the padding around.
_PADDING = f"[{_WHITESPACE}]*"


def customer_schemas() -> dict[str, Any]:
    writable = _writable_properties()
    return {
        "Customer": {
            "type": "object",
            "properties": {field: _public_property(field) for field in PUBLIC_FIELDS},
            "required": list(PUBLIC_FIELDS),
            "additionalProperties": False,
        },
        "CustomerCreate": {
            "type": "object",
            "properties": writable,
            "required": ["name"],
            "additionalProperties": False,
        },
        "CustomerUpdate": {
            "type": "object",
            "properties": writable,
            "additionalProperties": False,
        },
        "CustomerResponse": one_of("Customer"),
        "CustomerList": page_of("Customer"),
    }


def _public_property(field: str) -> dict[str, Any]:
    if field == "archived_at":
        return {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When the customer was archived; null while active.",
        }
    if field in _SERVER_FORMATS:
        return {"type": "string", "format": _SERVER_FORMATS[field]}
    if field in ("organization_id", "name"):
        return {"type": "string"}
    return {"type": ["string", "null"]}


def _writable_properties() -> dict[str, Any]:
    """What a client may send: strings without NUL, and "" (stored as null) where optional."""
    writable: dict[str, Any] = {
        field: {"type": ["string", "null"], "maxLength": max_length, "pattern": NO_NUL}
        for field, max_length in WRITABLE_FIELDS.items()
    }
    writable["name"] = {
        "type": "string",
        "minLength": 1,
        "maxLength": WRITABLE_FIELDS["name"],
        "pattern": _NOT_BLANK,
    }
    # Each form a typed branch of its own, null included, so that a generated client
    # sees a string or None rather than anything.
    writable["email"] = {
        "anyOf": [
            {
                "type": "string",
                "format": "email",
                "maxLength": _EMAIL_MAX_LENGTH,
                "pattern": NO_NUL,
                "not": _special_use_email(),
            },
            {"type": "string", "maxLength": 0},
            {"type": "null"},
        ],
        "description": (
            "An email address, checked once trimmed; addresses at special-use names are refused."
        ),
    }
    writable["website"] = {
        "anyOf": [*_website_forms(), {"type": "null"}],
        "description": (
            "An http or https URL, or a bare domain such as acme.com (stored as https://acme.com)."
        ),
    }
    writable["country_code"]["pattern"] = _country_code_pattern()
    writable["country_code"]["description"] = "ISO 3166-1 alpha-2, any case; stored in upper case."
    return writable


def _website_forms() -> list[dict[str, Any]]:
    """A URL, a bare domain (which gains https:// and must still fit), or "" (stored as null)."""
    stored_max = WRITABLE_FIELDS["website"]
    bare_max = stored_max - len("https://")
    return [
        {
            "type": "string",
            "maxLength": stored_max,
            "pattern": _padded(f"{WEBSITE_SCHEME}{BARE_WEBSITE}"),
        },
        {"type": "string", "maxLength": bare_max, "pattern": _padded(BARE_WEBSITE)},
        {"type": "string", "maxLength": stored_max, "pattern": _padded("")},
    ]


def _padded(pattern: str) -> str:
    """Strings matching `pattern` once trimmed."""
    return f"^{_PADDING}(?:{pattern}){_PADDING}$"


def _special_use_email() -> dict[str, str]:
    """Addresses at special-use names (RFC 6761), such as x@host.invalid, cannot get mail."""
    names = "|".join(_any_case(name) for name in REFUSED_EMAIL_DOMAINS)
    return {"pattern": f"[@.](?:{names})$"}


def _any_case(word: str) -> str:
    return "".join(f"[{char.upper()}{char.lower()}]" for char in word)


def _country_code_pattern() -> str:
    """Any assigned ISO 3166-1 alpha-2 code in any case, or "" (stored as null)."""
    second_letters: dict[str, str] = {}
    for code in sorted(COUNTRY_CODES):
        second_letters[code[0]] = second_letters.get(code[0], "") + code[1] + code[1].lower()
    alternatives = (
        f"[{first}{first.lower()}][{seconds}]" for first, seconds in second_letters.items()
    )
    return _padded(f"(?:{'|'.join(alternatives)})?")
