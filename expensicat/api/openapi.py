"""The OpenAPI 3.1 document, built from the same field rules the server enforces."""

from __future__ import annotations

import sys
from typing import Any

from expensicat.auth.principal import READ_SCOPE, WRITE_SCOPE
from expensicat.customers.fields import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    PUBLIC_FIELDS,
    WRITABLE_FIELDS,
)
from expensicat.customers.validation import (
    BARE_WEBSITE,
    COUNTRY_CODES,
    IDEMPOTENCY_KEY_PATTERN,
    REFUSED_EMAIL_DOMAINS,
    WEBSITE_SCHEME,
)

_REF = "#/components/schemas/"
_ERRORS = {
    "400": "The request is invalid: VALIDATION_ERROR (details per field) or INVALID_JSON.",
    "401": "UNAUTHORIZED: no token, or one that is malformed, expired or not ours.",
    "403": "FORBIDDEN: the token lacks the scope this endpoint needs.",
    "404": "NOT_FOUND: no such customer in the caller's organization.",
    "409": "IDEMPOTENCY_KEY_IN_USE: a create with this Idempotency-Key is still in flight.",
    "412": "PRECONDITION_FAILED: If-Match does not match the current ETag.",
    "413": "PAYLOAD_TOO_LARGE: the body is over the size limit.",
    "415": "UNSUPPORTED_MEDIA_TYPE: the body is not application/json.",
    "422": "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used with a different body.",
    "429": "RATE_LIMITED: the organization's request budget is spent; retry after Retry-After.",
    "500": "INTERNAL_ERROR: an unexpected fault.",
    "503": "SERVICE_UNAVAILABLE: the database cannot be reached; retry after Retry-After.",
}
_SERVER_FORMATS = {"id": "uuid", "created_at": "date-time", "updated_at": "date-time"}
# RFC 5321 caps a whole address at 254 characters, and the email check enforces that.
_EMAIL_MAX_LENGTH = 254
# The server refuses NUL in any string (PostgreSQL cannot store it) and a name that is blank
# once trimmed. Whitespace is spelled out: regex engines disagree on what \s matches.
_NO_NUL = "^[^\\u0000]*$"
_WHITESPACE = "".join(
    f"\\u{ord(char):04x}" for char in map(chr, range(sys.maxunicode + 1)) if char.isspace()
)
_NOT_BLANK = f"^[^\\u0000]*[^\\u0000{_WHITESPACE}][^\\u0000]*$"
# String inputs are trimmed before they are checked: a pattern allows the padding around.
_PADDING = f"[{_WHITESPACE}]*"


def build_openapi() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Expensicat Customers API",
            "version": "1.0.0",
            "description": (
                "The people and companies an organization bills. Each organization has a "
                "request budget: every answer to an authenticated request carries "
                "RateLimit-Limit (the burst), RateLimit-Remaining and RateLimit-Reset "
                "(seconds until the budget is whole again); over budget is a 429. Every answer "
                "carries X-Request-Id: the client's own when it sends a short, plain one, a new "
                "one otherwise."
            ),
        },
        "servers": [{"url": "/"}],
        "security": _security(READ_SCOPE),
        "paths": {
            "/api/v1/customers": {"get": _list_operation(), "post": _create_operation()},
            "/api/v1/customers/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "get": _get_operation(),
                "patch": _update_operation(),
            },
        },
        "components": {"schemas": _schemas(), "securitySchemes": _security_schemes()},
    }


def _list_operation() -> dict[str, Any]:
    return {
        "operationId": "listCustomers",
        "summary": "List customers",
        "description": "Newest first. Follow meta.next_cursor for the next page.",
        "security": _security(READ_SCOPE),
        "parameters": [
            {
                "name": "cursor",
                "in": "query",
                "description": "Pagination cursor from meta.next_cursor of the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": "limit",
                "in": "query",
                "description": f"Number of items per page (1-{MAX_PAGE_SIZE}).",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                },
            },
            {
                "name": "q",
                "in": "query",
                "description": "Search by name: a substring, ignoring case and accents.",
                "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH, "pattern": _NO_NUL},
            },
        ],
        "responses": {
            "200": _json("A page of customers.", "CustomerList"),
            **_errors("400", "401", "403", "429", "500", "503"),
        },
    }


def _create_operation() -> dict[str, Any]:
    return {
        "operationId": "createCustomer",
        "summary": "Create customer",
        "security": _security(WRITE_SCOPE),
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "description": (
                    "Makes retries safe: a retry with the same key and body within 24 hours "
                    "returns the original response and creates nothing."
                ),
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            }
        ],
        "requestBody": _request_body("CustomerCreate"),
        "responses": {
            "201": {
                **_json("The created customer.", "CustomerResponse"),
                "headers": {
                    "Location": _header("The new customer's URL path."),
                    "ETag": _header("The customer's current entity tag."),
                    "Idempotent-Replayed": _header("true when this is a replayed response."),
                },
            },
            **_errors("400", "401", "403", "409", "413", "415", "422", "429", "500", "503"),
        },
    }


def _get_operation() -> dict[str, Any]:
    return {
        "operationId": "getCustomer",
        "summary": "Get customer",
        "security": _security(READ_SCOPE),
        "parameters": [
            {
                "name": "If-None-Match",
                "in": "header",
                "description": "Answer 304 when the customer still has this ETag.",
                "schema": {"type": "string"},
            }
        ],
        "responses": {
            "200": {
                **_json("The customer.", "CustomerResponse"),
                "headers": {"ETag": _header("The customer's current entity tag.")},
            },
            "304": {
                "description": "Not modified since the ETag in If-None-Match.",
                "headers": {"ETag": _header("The customer's current entity tag.")},
            },
            **_errors("401", "403", "404", "429", "500", "503"),
        },
    }


def _update_operation() -> dict[str, Any]:
    return {
        "operationId": "updateCustomer",
        "summary": "Update customer",
        "description": "Fields absent from the body stay as they are; null clears a field.",
        "security": _security(WRITE_SCOPE),
        "parameters": [
            {
                "name": "If-Match",
                "in": "header",
                "description": "Only update while the customer still has this ETag.",
                "schema": {"type": "string"},
            }
        ],
        "requestBody": _request_body("CustomerUpdate"),
        "responses": {
            "200": {
                **_json("The updated customer.", "CustomerResponse"),
                "headers": {"ETag": _header("The customer's new entity tag.")},
            },
            **_errors("400", "401", "403", "404", "412", "413", "415", "429", "500", "503"),
        },
    }


def _schemas() -> dict[str, Any]:
    customer_properties = {
        field: (
            {"type": "string", "format": _SERVER_FORMATS[field]}
            if field in _SERVER_FORMATS
            else {"type": "string"}
            if field in ("organization_id", "name")
            else {"type": ["string", "null"]}
        )
        for field in PUBLIC_FIELDS
    }
    writable = _writable_properties()
    return {
        "Customer": {
            "type": "object",
            "properties": customer_properties,
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
        "CustomerResponse": {
            "type": "object",
            "properties": {"data": {"$ref": f"{_REF}Customer"}},
            "required": ["data"],
        },
        "CustomerList": {
            "type": "object",
            "properties": {
                "data": {"type": "array", "items": {"$ref": f"{_REF}Customer"}},
                "meta": {
                    "type": "object",
                    "properties": {
                        "count": {"type": "integer", "minimum": 0},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                    "required": ["count", "next_cursor"],
                },
            },
            "required": ["data", "meta"],
        },
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "pattern": "^[A-Z][A-Z_]*$"},
                        "message": {"type": "string"},
                        "details": {"type": "object", "additionalProperties": True},
                    },
                    "required": ["code", "message", "details"],
                }
            },
            "required": ["error"],
        },
    }


def _writable_properties() -> dict[str, Any]:
    """What a client may send: strings without NUL, and "" (stored as null) where optional."""
    writable: dict[str, Any] = {
        field: {"type": ["string", "null"], "maxLength": max_length, "pattern": _NO_NUL}
        for field, max_length in WRITABLE_FIELDS.items()
    }
    writable["name"] = {
        "type": "string",
        "minLength": 1,
        "maxLength": WRITABLE_FIELDS["name"],
        "pattern": _NOT_BLANK,
    }
    writable["email"]["anyOf"] = [
        {"format": "email", "not": _special_use_email()},
        {"maxLength": 0},
    ]
    writable["email"]["maxLength"] = _EMAIL_MAX_LENGTH
    writable["email"]["description"] = (
        "An email address, checked once trimmed; addresses at special-use names are refused."
    )
    writable["website"]["anyOf"] = _website_forms()
    writable["website"]["description"] = (
        "An http or https URL, or a bare domain such as acme.com (stored as https://acme.com)."
    )
    writable["country_code"]["pattern"] = _country_code_pattern()
    writable["country_code"]["description"] = "ISO 3166-1 alpha-2, any case; stored in upper case."
    return writable


def _website_forms() -> list[dict[str, Any]]:
    """A URL, a bare domain (which gains https:// and must still fit), or "" (stored as null)."""
    stored_max = WRITABLE_FIELDS["website"]
    bare_max = stored_max - len("https://")
    return [
        {"pattern": _padded(f"{WEBSITE_SCHEME}{BARE_WEBSITE}")},
        {"pattern": _padded(BARE_WEBSITE), "maxLength": bare_max},
        {"pattern": _padded("")},
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


def _security_schemes() -> dict[str, Any]:
    return {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A session JWT (HS256, may read and write) or an OAuth2 access token "
                f"(RFC 9068) from the deployment's authorization server. {READ_SCOPE} or "
                f"{WRITE_SCOPE} lets a token read customers; {WRITE_SCOPE} lets it create "
                "and update them."
            ),
        }
    }


def _security(scope: str) -> list[dict[str, list[str]]]:
    """OpenAPI 3.1 lets a bearer requirement name the roles (here: scopes) it needs."""
    return [{"bearer": [scope]}]


def _json(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"{_REF}{schema}"}}},
    }


def _request_body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"{_REF}{schema}"}}},
    }


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


_RETRY_AFTER = {"Retry-After": _header("Seconds to wait before retrying.")}
_CHALLENGE = {"WWW-Authenticate": _header("The Bearer challenge (RFC 6750), with the error.")}
_ERROR_HEADERS = {
    "401": _CHALLENGE,
    "403": _CHALLENGE,
    "409": _RETRY_AFTER,
    "429": _RETRY_AFTER,
    "503": _RETRY_AFTER,
}


def _errors(*statuses: str) -> dict[str, Any]:
    errors = {status: _json(_ERRORS[status], "Error") for status in statuses}
    for status, headers in _ERROR_HEADERS.items():
        if status in errors:
            errors[status]["headers"] = headers
    return errors
