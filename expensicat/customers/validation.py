"""Turning untrusted input into clean values, collecting every broken rule at once."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import pycountry
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from expensicat.customers.fields import (
    SERVER_FIELDS,
    WRITABLE_FIELDS,
)
from expensicat.errors import ValidationFailed

COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
# PostgreSQL cannot store or compare NUL in text, so no input may carry one.
NUL_MESSAGE = "Must not contain NUL characters."
# Special-use names (RFC 6761) no mail reaches; .test is left to example and test data.
REFUSED_EMAIL_DOMAINS = tuple(name for name in SPECIAL_USE_DOMAIN_NAMES if name != "test")

# A website is an http(s) URL whose host is a DNS name or IPv4 address, or the same without
# its scheme (a bare domain, stored with https://). URLs are ASCII (RFC 3986), so an
# internationalized domain is written in its xn-- form. The OpenAPI document states these
# same patterns, so the fuzzer and the server agree on what is valid.
_LABEL = "[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?"
_PORT = "(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
WEBSITE_SCHEME = "[Hh][Tt][Tt][Pp][Ss]?://"
BARE_WEBSITE = f"(?:{_LABEL}\\.)+{_LABEL}(?::{_PORT})?(?:[/?#][!-~]*)?"
_WEBSITE = re.compile(f"(?:{WEBSITE_SCHEME})?{BARE_WEBSITE}")


class _Errors:
    def __init__(self) -> None:
        self.details: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.details.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.details:
            raise ValidationFailed(self.details)


def parse_create(body: Mapping[str, Any]) -> dict[str, str | None]:
    """Validate a create body: `name` is required, every other field optional."""
    errors = _Errors()
    values = _parse_fields(body, errors)
    if "name" not in body:
        errors.add("name", "This field is required.")
    errors.raise_if_any()
    return values


def parse_update(body: Mapping[str, Any]) -> dict[str, str | None]:
    """Validate a PATCH body: only the fields present change; null clears all but `name`."""
    errors = _Errors()
    values = _parse_fields(body, errors)
    errors.raise_if_any()
    return values


def _parse_fields(body: Mapping[str, Any], errors: _Errors) -> dict[str, str | None]:
    for field in body.keys() - WRITABLE_FIELDS.keys():
        errors.add(field, _unknown_field(field))
    values: dict[str, str | None] = {}
    for field, max_length in WRITABLE_FIELDS.items():
        if field in body:
            values[field] = _parse_field(field, body[field], max_length, errors)
    return values


def _unknown_field(field: str) -> str:
    if field in SERVER_FIELDS:
        return "Unknown field: is set by the server."
    # A misspelt field gets the name it probably meant.
    close = difflib.get_close_matches(field, WRITABLE_FIELDS, n=1, cutoff=0.75)
    if close:
        return f"Unknown field; did you mean `{close[0]}`?"
    return "Unknown field: is not a known field."


def _parse_field(field: str, raw: Any, max_length: int, errors: _Errors) -> str | None:
    if raw is None:
        if field == "name":
            errors.add(field, "Must not be null.")
        return None
    if not isinstance(raw, str):
        errors.add(field, "Must be a string." if field == "name" else "Must be a string or null.")
        return None
    # The limit counts what was sent, spaces included, as the OpenAPI maxLength says.
    if len(raw) > max_length:
        errors.add(field, f"Must be at most {max_length} characters.")
        return None
    value = raw.strip()
    if "\x00" in value:
        errors.add(field, NUL_MESSAGE)
        return None
    if not value:
        if field == "name":
            errors.add(field, "Must not be blank.")
        return None
    normalize = _NORMALIZERS.get(field)
    if normalize is None:
        return value
    try:
        return normalize(value)
    except ValueError as error:
        errors.add(field, str(error))
        return None


def _normalize_email(value: str) -> str:
    try:
        # Refuses the REFUSED_EMAIL_DOMAINS, and accepts addresses at .test.
        validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise ValueError(f"Must be a valid email address: {error}") from None
    return value


def _normalize_website(value: str) -> str:
    """Accept an http(s) URL, or a bare domain which is stored as https://domain."""
    if not _WEBSITE.fullmatch(value):
        raise ValueError("Must be an http or https URL, or a domain such as acme.com.")
    url = value if "://" in value else f"https://{value}"
    if len(url) > WRITABLE_FIELDS["website"]:
        raise ValueError(f"Must be at most {WRITABLE_FIELDS['website']} characters.")
    return url


def _normalize_country_code(value: str) -> str:
    code = value.upper()
    if code not in COUNTRY_CODES:
        raise ValueError("Must be an ISO 3166-1 alpha-2 country code, such as DE or US.")
    return code


_NORMALIZERS = {
    "email": _normalize_email,
    "website": _normalize_website,
    "country_code": _normalize_country_code,
}
