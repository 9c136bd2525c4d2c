"""The OpenAPI 3.1 document, generated from the endpoint declarations and the error types
the server raises, so that it describes exactly what the server does."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from expensicat.api import errors
from expensicat.api.endpoint import Endpoint
from expensicat.api.errors import ErrorType
from expensicat.api.idempotency import (
    IDEMPOTENCY_KEY_IN_USE,
    IDEMPOTENCY_KEY_REUSED,
    KEY_PARAMETER,
)
from expensicat.auth.principal import READ_SCOPE, WRITE_SCOPE

_REF = "#/components/schemas/"
_PATH_PARAMETER = re.compile(r"{(\w+)}")
HEADERS = {
    "X-Request-Id": "The request's id: the client's own when well formed, else a new one.",
    "RateLimit-Limit": "The request budget's burst.",
    "RateLimit-Remaining": "What is left of the burst.",
    "RateLimit-Reset": "Seconds until the budget is whole again.",
    "ETag": "The record's current entity tag.",
    "Location": "The new record's URL path.",
    "Idempotent-Replayed": "true when this is a replayed response.",
    "Retry-After": "Seconds to wait before retrying.",
    "WWW-Authenticate": "The Bearer challenge (RFC 6750), with the error.",
}
DESCRIPTION = (
    "The people and companies an organization bills. Each organization has a request "
    "budget: every answer to an authenticated request carries RateLimit-Limit (the burst), "
    "RateLimit-Remaining and RateLimit-Reset (seconds until the budget is whole again); "
    "over budget is a 429. Every answer carries X-Request-Id: the client's own when it "
    "sends a short, plain one, a new one otherwise."
)
# What any endpoint may answer: an unknown or repeated query parameter, or a failure of
# the service itself.
_ALWAYS = (errors.VALIDATION_ERROR, errors.INTERNAL_ERROR, errors.SERVICE_UNAVAILABLE)
_AUTHENTICATED = (errors.UNAUTHORIZED, errors.FORBIDDEN)
_BUDGETED = (errors.RATE_LIMITED,)
_WITH_BODY = (errors.INVALID_JSON, errors.PAYLOAD_TOO_LARGE, errors.UNSUPPORTED_MEDIA_TYPE)
_IDEMPOTENT = (errors.VALIDATION_ERROR, IDEMPOTENCY_KEY_IN_USE, IDEMPOTENCY_KEY_REUSED)
# Headers every answer carries, and those of every answer to a request that spent a budget.
_COMMON_HEADERS = ("X-Request-Id",)
_BUDGET_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def one_of(schema: str) -> dict[str, Any]:
    """The body of an answer with one item: {"data": <schema>}."""
    return {"type": "object", "properties": {"data": {"$ref": _REF + schema}}, "required": ["data"]}


def page_of(schema: str, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body of a page of items: {"data": [<schema>...], "meta": {"count",
    "next_cursor"}}, the cursor null on the last page unless `meta` says otherwise."""
    properties = {
        "count": {"type": "integer", "minimum": 0},
        "next_cursor": {"type": ["string", "null"]},
        **(meta or {}),
    }
    return {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": {"$ref": _REF + schema}},
            "meta": {"type": "object", "properties": properties, "required": list(properties)},
        },
        "required": ["data", "meta"],
    }


def build_openapi(endpoints: Iterable[Endpoint], schemas: Mapping[str, Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        item = paths.setdefault(endpoint.path, _path_item(endpoint.path))
        item[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Expensicat Customers API",
            "version": "1.0.0",
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "security": _security(READ_SCOPE),
        "paths": paths,
        "components": {
            "schemas": {**schemas, "Error": _ERROR_SCHEMA},
            "securitySchemes": _security_schemes(),
        },
    }


def _path_item(path: str) -> dict[str, Any]:
    names = _PATH_PARAMETER.findall(path)
    if not names:
        return {}
    return {
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in names
        ]
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    operation["tags"] = [endpoint.tag]
    operation["security"] = _security(endpoint.scope) if endpoint.scope else []
    parameters = [*endpoint.parameters, *([KEY_PARAMETER] if endpoint.idempotent else [])]
    if parameters:
        operation["parameters"] = [
            {"name": p.name, "in": p.location, "description": p.description, "schema": p.schema}
            for p in parameters
        ]
    if endpoint.request_body:
        content = _json(endpoint.request_body, endpoint.request_example)
        operation["requestBody"] = {"required": True, "content": content}
    common = _COMMON_HEADERS + (_BUDGET_HEADERS if endpoint.budget else ())
    operation["responses"] = {
        **_answers(endpoint, common),
        **_errors(_error_types(endpoint), common),
    }
    return operation


def _answers(endpoint: Endpoint, common: tuple[str, ...]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for answer in endpoint.answers:
        documented: dict[str, Any] = {"description": answer.description}
        if answer.schema:
            documented["content"] = _json(answer.schema, answer.example)
        documented["headers"] = _headers((*answer.headers, *common))
        answers[str(answer.status)] = documented
    return answers


def _error_types(endpoint: Endpoint) -> list[ErrorType]:
    implied = [
        *endpoint.errors,
        *(_AUTHENTICATED if endpoint.scope else ()),
        *(_BUDGETED if endpoint.budget else ()),
        *(_WITH_BODY if endpoint.request_body else ()),
        *(_IDEMPOTENT if endpoint.idempotent else ()),
        *_ALWAYS,
    ]
    return list(dict.fromkeys(implied))


def _errors(types: Iterable[ErrorType], common: tuple[str, ...]) -> dict[str, Any]:
    """One response per status, naming each code it may carry, with the first as example."""
    by_status: dict[int, list[ErrorType]] = {}
    for error_type in types:
        by_status.setdefault(error_type.status, []).append(error_type)
    documented: dict[str, Any] = {}
    for status in sorted(by_status):
        alike = by_status[status]
        example = {"error": {"code": alike[0].code, "message": alike[0].message, "details": {}}}
        headers = [name for e in alike for name in e.headers]
        documented[str(status)] = {
            "description": "; or ".join(f"{e.code}: {e.description}" for e in alike) + ".",
            "headers": _headers(dict.fromkeys([*headers, *common])),
            "content": _json("Error", example),
        }
    return documented


def _headers(names: Iterable[str]) -> dict[str, Any]:
    return {name: {"description": HEADERS[name], "schema": {"type": "string"}} for name in names}


def _json(schema: str, example: Any = None) -> dict[str, Any]:
    media_type: dict[str, Any] = {"schema": {"$ref": f"{_REF}{schema}"}}
    if example is not None:
        media_type["example"] = example
    return {"application/json": media_type}


def _security(scope: str) -> list[dict[str, list[str]]]:
    """OpenAPI 3.1 lets a bearer requirement name the roles (here: scopes) it needs."""
    return [{"bearer": [scope]}]


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


_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^[A-Z][A-Z_]*$"},
                "message": {"type": "string"},
                "details": {
                    "type": "object",
                    "description": "Each offending field, parameter or header, with its problems.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}
