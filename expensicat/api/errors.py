"""The one error envelope: every error type declared once, and every failure mapped to one.

Handlers raise these types and the OpenAPI document describes them from the same
declarations, so a status, its code and its description live in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from expensicat.api.conditional import etag
from expensicat.api.responses import json_response
from expensicat.api.shared import shared
from expensicat.db.errors import DatabaseUnavailable
from expensicat.errors import Expired, NotFound, ValidationFailed, VersionMismatch

RETRY_AFTER_SECONDS = "2"


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


@dataclass(frozen=True, slots=True)
class ErrorType:
    """One kind of error answer: its status, code, usual message, what it means, and the
    response headers that come with it."""

    status: int
    code: str
    message: str
    description: str
    headers: tuple[str, ...] = ()

    def __call__(
        self,
        message: str | None = None,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiError:
        return ApiError(self.status, self.code, message or self.message, details, headers)


VALIDATION_ERROR = ErrorType(
    400, "VALIDATION_ERROR", "The request is invalid.", "details name each field and its problems"
)
INVALID_JSON = ErrorType(
    400, "INVALID_JSON", "The request body is not valid JSON.", "the body is not a JSON object"
)
UNAUTHORIZED = ErrorType(
    401,
    "UNAUTHORIZED",
    "Authentication is required: send a Bearer token.",
    "no token, or one that is malformed, expired or not ours",
    ("WWW-Authenticate",),
)
FORBIDDEN = ErrorType(
    403,
    "FORBIDDEN",
    "The token lacks the scope this endpoint needs.",
    "the token lacks the scope this endpoint needs",
    ("WWW-Authenticate",),
)
NOT_FOUND = ErrorType(
    404, "NOT_FOUND", "No such resource.", "no such record in the caller's organization"
)
METHOD_NOT_ALLOWED = ErrorType(
    405, "METHOD_NOT_ALLOWED", "Method not allowed.", "the path does not serve this method"
)
CURSOR_EXPIRED = ErrorType(
    410,
    "CURSOR_EXPIRED",
    "This cursor is older than the changes kept: resync from the list, then follow the feed "
    "from the cursor of ?from=now taken before it.",
    "the cursor is older than the retention of changes: resync",
)
PRECONDITION_FAILED = ErrorType(
    412,
    "PRECONDITION_FAILED",
    "The record has changed since the ETag in If-Match.",
    "If-Match does not match the current ETag, which the answer carries",
    ("ETag",),
)
PAYLOAD_TOO_LARGE = ErrorType(
    413, "PAYLOAD_TOO_LARGE", "The request body is too large.", "the body is over the size limit"
)
UNSUPPORTED_MEDIA_TYPE = ErrorType(
    415,
    "UNSUPPORTED_MEDIA_TYPE",
    "The request body must be sent as Content-Type: application/json.",
    "the body is not application/json",
)
RATE_LIMITED = ErrorType(
    429,
    "RATE_LIMITED",
    "Too many requests for this organization; try again after Retry-After seconds.",
    "the request budget is spent; retry after Retry-After",
    ("Retry-After",),
)
INTERNAL_ERROR = ErrorType(
    500, "INTERNAL_ERROR", "Something went wrong on our side.", "an unexpected fault"
)
SERVICE_UNAVAILABLE = ErrorType(
    503,
    "SERVICE_UNAVAILABLE",
    "The service cannot reach its database; try again shortly.",
    "the database cannot be reached; retry after Retry-After",
    ("Retry-After",),
)

# The type of each status the framework itself may raise (routing, methods, ...).
_FRAMEWORK_ERRORS: dict[int, ErrorType] = {}
for _type in (
    VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED,
    PRECONDITION_FAILED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, RATE_LIMITED,
    SERVICE_UNAVAILABLE,
):  # fmt: skip
    _FRAMEWORK_ERRORS[_type.status] = _type


def error_response(error: ApiError) -> Response:
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return json_response(body, error.status, error.headers)


def service_unavailable(unreachable: str = "its database") -> ApiError:
    return SERVICE_UNAVAILABLE(
        f"The service cannot reach {unreachable}; try again shortly.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def from_domain(error: Exception) -> ApiError:
    """The HTTP answer to a failure a service or the database reported."""
    if isinstance(error, ValidationFailed):
        return VALIDATION_ERROR(details=error.details)
    if isinstance(error, NotFound):
        return NOT_FOUND(f"No such {error.resource}.")
    if isinstance(error, VersionMismatch):
        return PRECONDITION_FAILED(
            f"The {error.resource} has changed since the ETag in If-Match.",
            headers={"ETag": etag(error.current)},
        )
    if isinstance(error, Expired):
        return CURSOR_EXPIRED()
    if isinstance(error, DatabaseUnavailable):
        return service_unavailable()
    return INTERNAL_ERROR()


DOMAIN_ERRORS = (ValidationFailed, NotFound, VersionMismatch, Expired, DatabaseUnavailable)


async def handle_api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(error)


async def handle_domain_error(request: Request, error: Exception) -> Response:
    if isinstance(error, DatabaseUnavailable):
        count_database_error(request, error)
    return error_response(from_domain(error))


def count_database_error(request: Request, error: DatabaseUnavailable) -> None:
    """One more database failure of this class, for the metrics."""
    metrics = shared(request).metrics
    if metrics is not None:
        metrics.database_errors.labels(str(error)).inc()


async def handle_http_exception(request: Request, error: Exception) -> Response:
    """The framework's own errors (no such route, wrong method) in our envelope."""
    assert isinstance(error, HTTPException)
    status = error.status_code
    known = _FRAMEWORK_ERRORS.get(status)
    code = known.code if known else "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST"
    message = {
        404: NOT_FOUND.message,
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
