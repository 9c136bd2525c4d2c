"""The one error envelope, and the mapping from every failure to it."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from expensicat.api.responses import json_response
from expensicat.customers.errors import (
    CustomerNotFound,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    ValidationFailed,
    VersionMismatch,
)
from expensicat.db.errors import DatabaseUnavailable

RETRY_AFTER_SECONDS = "2"

# The code for each status the framework itself may raise (routing, methods).
_CODE_BY_STATUS = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """An answer other than success: status, code, message, details and extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> Response:
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return json_response(body, error.status, error.headers)


def validation_error(details: Mapping[str, list[str]]) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", "The request is invalid.", details)


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "No such customer.")


def service_unavailable(unreachable: str = "its database") -> ApiError:
    return ApiError(
        503,
        "SERVICE_UNAVAILABLE",
        f"The service cannot reach {unreachable}; try again shortly.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def precondition_failed() -> ApiError:
    return ApiError(
        412, "PRECONDITION_FAILED", "The customer has changed since the ETag in If-Match."
    )


def internal_error() -> ApiError:
    return ApiError(500, "INTERNAL_ERROR", "Something went wrong on our side.")


async def handle_api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(error)


async def handle_http_exception(request: Request, error: Exception) -> Response:
    """The framework's own errors (no such route, wrong method) in our envelope."""
    assert isinstance(error, HTTPException)
    status = error.status_code
    code = _CODE_BY_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    message = {
        404: "No such resource.",
        405: f"Method {request.method} is not allowed here.",
    }.get(status, HTTPStatus(status).phrase)
    headers = dict(error.headers or {})
    if status == 405:
        headers["Allow"] = _allowed_methods(request)
    return error_response(ApiError(status, code, message, headers=headers))


def _allowed_methods(request: Request) -> str:
    """Every method served at this path; the framework names only the first route's."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


DOMAIN_ERRORS = (
    CustomerNotFound,
    VersionMismatch,
    ValidationFailed,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    DatabaseUnavailable,
)


def from_domain(error: Exception) -> ApiError:
    """The HTTP answer to a failure the service or the database reported."""
    if isinstance(error, ValidationFailed):
        return validation_error(error.details)
    if isinstance(error, CustomerNotFound):
        return not_found()
    if isinstance(error, VersionMismatch):
        return precondition_failed()
    if isinstance(error, IdempotencyKeyInUse):
        return ApiError(
            409,
            "IDEMPOTENCY_KEY_IN_USE",
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            headers={"Retry-After": "1"},
        )
    if isinstance(error, IdempotencyKeyReused):
        return ApiError(
            422,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was already used with a different request body.",
        )
    if isinstance(error, DatabaseUnavailable):
        return service_unavailable()
    return internal_error()


async def handle_domain_error(request: Request, error: Exception) -> Response:
    return error_response(from_domain(error))
