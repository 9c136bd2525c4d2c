"""Cross-origin requests from browsers (CORS), for origins on an exact allow-list only.

Starlette's middleware does the protocol; what it allows comes from the endpoint
declarations: their methods, the request headers they read, the response headers the
document names.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from expensicat.api.endpoint import Endpoint
from expensicat.api.errors import ApiError, error_response
from expensicat.api.idempotency import KEY_PARAMETER
from expensicat.api.openapi import HEADERS

# Browsers may cache an answered preflight this long (seconds).
PREFLIGHT_MAX_AGE = 600


class EnvelopedCORSMiddleware(CORSMiddleware):
    """A refused preflight answers in the error envelope, like every other refusal."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        message = bytes(response.body).decode() or "The CORS preflight request is not allowed."
        return error_response(ApiError(403, "FORBIDDEN", f"{message}."))


def cors(origins: tuple[str, ...], endpoints: Iterable[Endpoint]) -> list[Middleware]:
    """The middleware for `origins`; none when no origin is allowed."""
    if not origins:
        return []
    endpoints = list(endpoints)
    headers = {"Authorization", "Content-Type"}
    for endpoint in endpoints:
        headers |= {p.name for p in endpoint.parameters if p.location == "header"}
        if endpoint.idempotent:
            headers.add(KEY_PARAMETER.name)
    return [
        Middleware(
            EnvelopedCORSMiddleware,
            allow_origins=list(origins),
            allow_methods=sorted({endpoint.method for endpoint in endpoints}),
            allow_headers=sorted(headers),
            expose_headers=sorted(HEADERS),
            max_age=PREFLIGHT_MAX_AGE,
        )
    ]
