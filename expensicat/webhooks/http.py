"""The webhook endpoints API: each operation declared once, with its handler and schemas."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from expensicat.api.endpoint import Answer, Call, Endpoint, Parameter
from expensicat.api.errors import NOT_FOUND, VALIDATION_ERROR
from expensicat.api.openapi import one_of, page_of
from expensicat.api.responses import json_response
from expensicat.auth.principal import WEBHOOKS_READ_SCOPE, WEBHOOKS_WRITE_SCOPE
from expensicat.webhooks.records import ALL_EVENTS, EVENTS, Attempt, WebhookEndpoint
from expensicat.webhooks.service import MAX_PAGE, Page, WebhookService, WithSecret
from expensicat.webhooks.validation import MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH, URL_PATTERN

ENDPOINTS_PATH = "/api/v1/webhook_endpoints"
ENDPOINT_PATH = "/api/v1/webhook_endpoints/{id}"


def webhooks(request: Request) -> WebhookService:
    found: WebhookService = request.app.state.webhooks
    return found


async def create_endpoint(call: Call) -> Response:
    """Register an endpoint; the answer shows its signing secret, this once."""
    created = await webhooks(call.request).create(call.organization_id, await call.json())
    location = {"Location": f"{ENDPOINTS_PATH}/{created.endpoint['id']}"}
    return json_response({"data": _with_secret(created)}, 201, location)


async def list_endpoints(call: Call) -> Response:
    """List the organization's endpoints, newest first."""
    params = call.request.query_params.multi_items()
    return _page(await webhooks(call.request).list(call.organization_id, params))


async def get_endpoint(call: Call) -> Response:
    """Get one endpoint."""
    found = await webhooks(call.request).get(call.organization_id, call.path("id"))
    return json_response({"data": found})


async def update_endpoint(call: Call) -> Response:
    """Change an endpoint's url, events, description or whether it is enabled."""
    body = await call.json()
    updated = await webhooks(call.request).update(call.organization_id, call.path("id"), body)
    return json_response({"data": updated})


async def delete_endpoint(call: Call) -> Response:
    """Delete an endpoint, with what it still owed and its log."""
    await webhooks(call.request).delete(call.organization_id, call.path("id"))
    return Response(status_code=204)


async def rotate_secret(call: Call) -> Response:
    """A new signing secret; the old one signs beside it for 24 hours."""
    rotated = await webhooks(call.request).rotate_secret(call.organization_id, call.path("id"))
    return json_response({"data": _with_secret(rotated)})


async def send_test(call: Call) -> Response:
    """Send a webhook.test event now; the answer is the attempt."""
    attempt = await webhooks(call.request).send_test(call.organization_id, call.path("id"))
    return json_response({"data": attempt})


async def list_attempts(call: Call) -> Response:
    """The delivery log: every attempt to the endpoint, newest first, kept 30 days."""
    params = call.request.query_params.multi_items()
    page = await webhooks(call.request).attempts(call.organization_id, call.path("id"), params)
    return _page(page)


async def redeliver(call: Call) -> Response:
    """Send events again: every one queued since a moment, or one by id."""
    body = await call.json()
    queued = await webhooks(call.request).redeliver(call.organization_id, call.path("id"), body)
    return json_response({"data": {"queued": queued}}, 202)


def _with_secret(shown: WithSecret) -> dict[str, Any]:
    return {**shown.endpoint, "secret": shown.secret}


def _page(page: Page[WebhookEndpoint] | Page[Attempt]) -> Response:
    meta = {"count": len(page.items), "next_cursor": page.next_cursor}
    return json_response({"data": page.items, "meta": meta})


def webhook_schemas(allow_http: bool) -> dict[str, Any]:
    endpoint_properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid"},
        "organization_id": {"type": "string"},
        "url": {"type": "string", "maxLength": MAX_URL_LENGTH},
        "events": {"type": "array", "items": {"type": "string"}},
        "description": {"type": ["string", "null"]},
        "enabled": {"type": "boolean"},
        "disabled_reason": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    }
    writable: dict[str, Any] = {
        "url": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_URL_LENGTH,
            "pattern": URL_PATTERN.format(scheme="https?" if allow_http else "https"),
            "description": "Where to deliver: https (http too where the server allows it).",
        },
        "events": {
            "anyOf": [
                {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"type": "string", "enum": list(EVENTS)},
                },
                {"type": "array", "items": {"const": ALL_EVENTS}, "minItems": 1, "maxItems": 1},
            ],
            "description": 'The event types to deliver, or ["*"] for all of them.',
        },
        "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_LENGTH},
    }
    attempt_properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid"},
        "event_id": {"type": "string", "format": "uuid"},
        "type": {"type": "string"},
        "attempted_at": {"type": "string", "format": "date-time"},
        "status_code": {"type": ["integer", "null"]},
        "duration_ms": {"type": "integer", "minimum": 0},
        "error": {"type": ["string", "null"]},
        "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
    }
    return {
        "WebhookEndpoint": _object(endpoint_properties),
        "WebhookEndpointWithSecret": _object(
            {**endpoint_properties, "secret": {"type": "string", "pattern": "^whsec_"}}
        ),
        "WebhookEndpointCreate": {
            "type": "object",
            "properties": writable,
            "required": ["url", "events"],
            "additionalProperties": False,
        },
        "WebhookEndpointUpdate": {
            "type": "object",
            "properties": {**writable, "enabled": {"type": "boolean"}},
            "additionalProperties": False,
        },
        "WebhookEndpointResponse": one_of("WebhookEndpoint"),
        "WebhookEndpointSecretResponse": one_of("WebhookEndpointWithSecret"),
        "WebhookEndpointList": page_of("WebhookEndpoint"),
        "WebhookAttempt": _object(attempt_properties),
        "WebhookAttemptResponse": one_of("WebhookAttempt"),
        "WebhookAttemptList": page_of("WebhookAttempt"),
        "Redelivery": {
            "type": "object",
            "properties": {
                "since": {"type": "string", "format": "date-time"},
                "event_id": {"type": "string", "format": "uuid"},
            },
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
        },
        "Redelivered": _object({"queued": {"type": "integer", "minimum": 0}}),
        "RedeliveryResponse": one_of("Redelivered"),
    }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_EXAMPLE: dict[str, Any] = {
    "id": "01a22111-d838-7469-a872-5c0ffee1e7d5",
    "organization_id": "acme",
    "url": "https://books.example.com/hooks/expensicat",
    "events": ["customer.created", "customer.updated"],
    "description": "Accounting sync",
    "enabled": True,
    "disabled_reason": None,
    "created_at": "2026-11-28T07:32:27.320641Z",
    "updated_at": "2026-11-28T07:32:27.320641Z",
}
_SECRET_EXAMPLE = {**_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
_ATTEMPT_EXAMPLE = {
    "id": "01a22112-0b6e-7c2a-9d1e-1f0a4b3c2d1e",
    "event_id": "01a22111-d838-7469-a872-4b12c0a1e7d5",
    "type": "customer.created",
    "attempted_at": "2026-11-28T07:32:27.512311Z",
    "status_code": 200,
    "duration_ms": 84,
    "error": None,
    "next_attempt_at": None,
}
_PAGE_PARAMETERS = (
    Parameter(
        "cursor", "query", "Pagination cursor from meta.next_cursor of the previous page.",
        {"type": "string"},
    ),
    Parameter(
        "limit", "query", f"Number of items per page (1-{MAX_PAGE}).",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 20},
    ),
)  # fmt: skip
_TAG = "webhooks"

ENDPOINTS = (
    Endpoint(
        "POST",
        ENDPOINTS_PATH,
        "createWebhookEndpoint",
        "Create webhook endpoint",
        create_endpoint,
        (
            Answer(
                201,
                "The endpoint, with its signing secret (shown this once).",
                "WebhookEndpointSecretResponse",
                ("Location",),
                {"data": _SECRET_EXAMPLE},
            ),
        ),
        scope=WEBHOOKS_WRITE_SCOPE,
        description=(
            "Deliveries follow Standard Webhooks 1.0: headers webhook-id (the event's id, the "
            "same on every retry), webhook-timestamp and webhook-signature; body {type, "
            "timestamp, data, customer_version}."
        ),
        request_body="WebhookEndpointCreate",
        request_example={"url": _EXAMPLE["url"], "events": _EXAMPLE["events"]},
        errors=(VALIDATION_ERROR,),
        tag=_TAG,
    ),
    Endpoint(
        "GET",
        ENDPOINTS_PATH,
        "listWebhookEndpoints",
        "List webhook endpoints",
        list_endpoints,
        (
            Answer(
                200,
                "A page of endpoints, newest first.",
                "WebhookEndpointList",
                example={"data": [_EXAMPLE], "meta": {"count": 1, "next_cursor": None}},
            ),
        ),
        scope=WEBHOOKS_READ_SCOPE,
        parameters=_PAGE_PARAMETERS,
        errors=(VALIDATION_ERROR,),
        tag=_TAG,
    ),
    Endpoint(
        "GET",
        ENDPOINT_PATH,
        "getWebhookEndpoint",
        "Get webhook endpoint",
        get_endpoint,
        (Answer(200, "The endpoint.", "WebhookEndpointResponse", example={"data": _EXAMPLE}),),
        scope=WEBHOOKS_READ_SCOPE,
        errors=(NOT_FOUND,),
        tag=_TAG,
    ),
    Endpoint(
        "PATCH",
        ENDPOINT_PATH,
        "updateWebhookEndpoint",
        "Update webhook endpoint",
        update_endpoint,
        (Answer(200, "The endpoint.", "WebhookEndpointResponse", example={"data": _EXAMPLE}),),
        scope=WEBHOOKS_WRITE_SCOPE,
        description="Enabling a disabled endpoint forgives its failures so far.",
        request_body="WebhookEndpointUpdate",
        request_example={"enabled": True},
        errors=(VALIDATION_ERROR, NOT_FOUND),
        tag=_TAG,
    ),
    Endpoint(
        "DELETE",
        ENDPOINT_PATH,
        "deleteWebhookEndpoint",
        "Delete webhook endpoint",
        delete_endpoint,
        (Answer(204, "Deleted."),),
        scope=WEBHOOKS_WRITE_SCOPE,
        errors=(NOT_FOUND,),
        tag=_TAG,
    ),
    Endpoint(
        "POST",
        f"{ENDPOINT_PATH}/rotate_secret",
        "rotateWebhookSecret",
        "Rotate webhook signing secret",
        rotate_secret,
        (
            Answer(
                200,
                "The endpoint with its new secret; for 24 hours deliveries carry a signature "
                "by each.",
                "WebhookEndpointSecretResponse",
                example={"data": _SECRET_EXAMPLE},
            ),
        ),
        scope=WEBHOOKS_WRITE_SCOPE,
        errors=(NOT_FOUND,),
        tag=_TAG,
    ),
    Endpoint(
        "POST",
        f"{ENDPOINT_PATH}/test",
        "testWebhookEndpoint",
        "Send a test event",
        send_test,
        (
            Answer(
                200,
                "How the webhook.test delivery went.",
                "WebhookAttemptResponse",
                example={"data": {**_ATTEMPT_EXAMPLE, "type": "webhook.test"}},
            ),
        ),
        scope=WEBHOOKS_WRITE_SCOPE,
        errors=(NOT_FOUND,),
        tag=_TAG,
    ),
    Endpoint(
        "GET",
        f"{ENDPOINT_PATH}/deliveries",
        "listWebhookDeliveries",
        "List delivery attempts",
        list_attempts,
        (
            Answer(
                200,
                "A page of attempts, newest first.",
                "WebhookAttemptList",
                example={"data": [_ATTEMPT_EXAMPLE], "meta": {"count": 1, "next_cursor": None}},
            ),
        ),
        scope=WEBHOOKS_READ_SCOPE,
        parameters=_PAGE_PARAMETERS,
        errors=(VALIDATION_ERROR, NOT_FOUND),
        tag=_TAG,
    ),
    Endpoint(
        "POST",
        f"{ENDPOINT_PATH}/redeliver",
        "redeliverWebhookEvents",
        "Redeliver events",
        redeliver,
        (
            Answer(
                202,
                "How many events will be sent again.",
                "RedeliveryResponse",
                example={"data": {"queued": 3}},
            ),
        ),
        scope=WEBHOOKS_WRITE_SCOPE,
        request_body="Redelivery",
        request_example={"since": "2026-11-28T00:00:00Z"},
        errors=(VALIDATION_ERROR, NOT_FOUND),
        tag=_TAG,
    ),
)
