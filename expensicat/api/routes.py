"""The HTTP endpoints: parse the request, call the service, shape the answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from expensicat.api.body import read_json_object
from expensicat.api.conditional import etag, if_match_versions, none_match
from expensicat.api.errors import service_unavailable
from expensicat.api.responses import json_response
from expensicat.api.security import authenticate
from expensicat.auth.principal import READ_SCOPE, WRITE_SCOPE
from expensicat.auth.verifier import TokenVerifier
from expensicat.customers.service import CustomerService
from expensicat.customers.store import CustomerStore, StoredCustomer
from expensicat.db.errors import DatabaseUnavailable

API_PREFIX = "/api/v1"
# A readiness probe must answer before the orchestrator gives up on it, even when the
# database is silent rather than refusing.
READINESS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Services:
    """What the handlers need, built once per process when the app starts."""

    customers: CustomerService
    verifier: TokenVerifier
    store: CustomerStore
    max_body_bytes: int


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def list_customers(request: Request) -> Response:
    """List customers, newest first, one page at a time."""
    ctx = services(request)
    principal = await authenticate(request, ctx.verifier, READ_SCOPE)
    page = await ctx.customers.list(principal.organization_id, request.query_params)
    meta = {"count": len(page.customers), "next_cursor": page.next_cursor}
    return json_response({"data": page.customers, "meta": meta})


async def create_customer(request: Request) -> Response:
    """Create a customer."""
    ctx = services(request)
    principal = await authenticate(request, ctx.verifier, WRITE_SCOPE)
    body = await read_json_object(request, ctx.max_body_bytes)
    key = request.headers.get("idempotency-key")
    created = await ctx.customers.create(principal.organization_id, body, key)
    headers = {"Location": f"{API_PREFIX}/customers/{created.stored.customer['id']}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _customer_response(created.stored, 201, headers)


async def get_customer(request: Request) -> Response:
    """Get one customer by id."""
    ctx = services(request)
    principal = await authenticate(request, ctx.verifier, READ_SCOPE)
    found = await ctx.customers.get(principal.organization_id, request.path_params["id"])
    tag = etag(found.version)
    if none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    return _customer_response(found)


async def update_customer(request: Request) -> Response:
    """Change some fields of a customer: absent fields stay, null clears."""
    ctx = services(request)
    principal = await authenticate(request, ctx.verifier, WRITE_SCOPE)
    body = await read_json_object(request, ctx.max_body_bytes)
    updated = await ctx.customers.update(
        principal.organization_id,
        request.path_params["id"],
        body,
        if_match_versions(request.headers.get("if-match")),
    )
    return _customer_response(updated)


async def healthz(request: Request) -> Response:
    """The process is alive."""
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """The database answers within a second; 503 otherwise."""
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await services(request).store.ping()
    except (DatabaseUnavailable, TimeoutError):
        raise service_unavailable() from None
    return json_response({"status": "ready"})


def _customer_response(
    stored: StoredCustomer, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return json_response(
        {"data": stored.customer}, status, {**(headers or {}), "ETag": etag(stored.version)}
    )


routes = [
    Route(f"{API_PREFIX}/customers", list_customers, methods=["GET"]),
    Route(f"{API_PREFIX}/customers", create_customer, methods=["POST"]),
    Route(f"{API_PREFIX}/customers/{{id}}", get_customer, methods=["GET"]),
    Route(f"{API_PREFIX}/customers/{{id}}", update_customer, methods=["PATCH"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
