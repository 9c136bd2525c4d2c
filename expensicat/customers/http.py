"""The customers endpoints: each declared once, with its handler. A handler parses the
request, calls the service and shapes the answer; the runner has already authenticated
the caller, spent the budget and checked the scope."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from expensicat.api.conditional import IF_MATCH_PATTERN, etag, if_match_versions, none_match
from expensicat.api.endpoint import Answer, Call, Endpoint, Parameter
from expensicat.api.errors import NOT_FOUND, PRECONDITION_FAILED, VALIDATION_ERROR
from expensicat.api.idempotency import checked_with_key, erased_answer, once
from expensicat.api.responses import json_response
from expensicat.auth.principal import READ_SCOPE, WRITE_SCOPE
from expensicat.customers import examples
from expensicat.customers.fields import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_LENGTH
from expensicat.customers.listing import ARCHIVED, SORTS, TIME_FILTERS
from expensicat.customers.schemas import NO_NUL
from expensicat.customers.service import CustomerService
from expensicat.customers.store import StoredCustomer
from expensicat.keys import KeyHold
from expensicat.paging import NEWEST_FIRST

CUSTOMERS = "/api/v1/customers"
CUSTOMER = "/api/v1/customers/{id}"


def customers(request: Request) -> CustomerService:
    found: CustomerService = request.app.state.customers
    return found


async def list_customers(call: Call) -> Response:
    """List customers, newest first, one page at a time."""
    params = call.request.query_params.multi_items()
    page = await customers(call.request).list(call.organization_id, params)
    meta = {"count": len(page.customers), "next_cursor": page.next_cursor}
    return json_response({"data": page.customers, "meta": meta})


async def create_customer(call: Call) -> Response:
    """Create a customer."""
    body = await call.json()
    service = customers(call.request)
    draft = checked_with_key(call, lambda: service.draft(call.organization_id, body))
    location = {"Location": f"{CUSTOMERS}/{draft.customer['id']}"}

    async def create(hold: KeyHold | None) -> bool:
        return await service.create(draft, call.actor, hold)

    return await once(call, body, _customer_response(draft, 201, location), create)


async def get_customer(call: Call) -> Response:
    """Get one customer by id."""
    found = await customers(call.request).get(call.organization_id, call.path("id"))
    tag = etag(found.version)
    if none_match(call.header("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    return _customer_response(found)


async def update_customer(call: Call) -> Response:
    """Change some fields of a customer: absent fields stay, null clears."""
    body = await call.json()
    updated = await customers(call.request).update(
        call.organization_id,
        call.path("id"),
        body,
        call.actor,
        if_match_versions(call.header("if-match")),
    )
    return _customer_response(updated)


async def archive_customer(call: Call) -> Response:
    """Archive a customer: left out of lists unless asked for, kept and still editable."""
    return await _set_archived(call, archiving=True)


async def restore_customer(call: Call) -> Response:
    """Restore an archived customer to the active ones."""
    return await _set_archived(call, archiving=False)


async def _set_archived(call: Call, archiving: bool) -> Response:
    changed = await customers(call.request).set_archived(
        call.organization_id,
        call.path("id"),
        archiving,
        call.actor,
        if_match_versions(call.header("if-match")),
    )
    return _customer_response(changed)


async def erase_customer(call: Call) -> Response:
    """Erase a customer for good, with every value of it the service holds."""
    await customers(call.request).erase(
        call.organization_id,
        call.path("id"),
        erased_answer("customer"),
        call.actor,
        if_match_versions(call.header("if-match")),
    )
    return Response(status_code=204)


def _customer_response(
    stored: StoredCustomer, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return json_response(
        {"data": stored.customer}, status, {**(headers or {}), "ETag": etag(stored.version)}
    )


_FILTER_TEXT = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "[^ ]"}
IF_MATCH = Parameter(
    "If-Match",
    "header",
    "Only change the customer while it still has this ETag.",
    {"type": "string", "pattern": IF_MATCH_PATTERN, "examples": ['"1"', "*"]},
)

ENDPOINTS = (
    Endpoint(
        "GET",
        CUSTOMERS,
        "listCustomers",
        "List customers",
        list_customers,
        (Answer(200, "A page of customers.", "CustomerList", example=examples.PAGE),),
        scope=READ_SCOPE,
        description="Newest first. Follow meta.next_cursor for the next page.",
        parameters=(
            Parameter(
                "cursor",
                "query",
                "Pagination cursor from meta.next_cursor of the previous page.",
                {"type": "string"},
            ),
            Parameter(
                "limit",
                "query",
                f"Number of items per page (1-{MAX_PAGE_SIZE}).",
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                },
            ),
            Parameter(
                "q",
                "query",
                "Search by name: a substring, ignoring case and accents.",
                {"type": "string", "maxLength": MAX_QUERY_LENGTH, "pattern": NO_NUL},
            ),
            Parameter(
                "archived",
                "query",
                "Which customers: false, the active ones (the default); true, the archived "
                "ones; any, both.",
                {"type": "string", "enum": list(ARCHIVED), "default": "false"},
            ),
            Parameter(
                "sort",
                "query",
                "The order: by created_at (the default, newest first), updated_at or name "
                "(the folded name); a leading - for descending. Ties go by id.",
                {"type": "string", "enum": list(SORTS), "default": NEWEST_FIRST},
            ),
            Parameter("email", "query", "The whole address, ignoring case.", _FILTER_TEXT),
            Parameter(
                "tax_id", "query", "The whole tax id, ignoring spaces and case.", _FILTER_TEXT
            ),
            Parameter(
                "country_code",
                "query",
                "ISO 3166-1 alpha-2, any case.",
                {"type": "string", "pattern": "^ *[A-Za-z]{2} *$"},
            ),
            *(
                Parameter(
                    name,
                    "query",
                    f"Only customers {name.replace('_', ' ', 1)} this RFC 3339 date-time.",
                    {"type": "string", "format": "date-time"},
                )
                for name in TIME_FILTERS
            ),
        ),
        errors=(VALIDATION_ERROR,),
    ),
    Endpoint(
        "POST",
        CUSTOMERS,
        "createCustomer",
        "Create customer",
        create_customer,
        (
            Answer(
                201,
                "The created customer.",
                "CustomerResponse",
                ("Location", "ETag", "Idempotent-Replayed"),
                examples.ONE,
            ),
        ),
        scope=WRITE_SCOPE,
        request_body="CustomerCreate",
        request_example=examples.CREATE,
        errors=(VALIDATION_ERROR,),
        idempotent=True,
    ),
    Endpoint(
        "GET",
        CUSTOMER,
        "getCustomer",
        "Get customer",
        get_customer,
        (
            Answer(200, "The customer.", "CustomerResponse", ("ETag",), examples.ONE),
            Answer(304, "Not modified since the ETag in If-None-Match.", None, ("ETag",)),
        ),
        scope=READ_SCOPE,
        parameters=(
            Parameter(
                "If-None-Match",
                "header",
                "Answer 304 when the customer still has this ETag.",
                {"type": "string"},
            ),
        ),
        errors=(NOT_FOUND,),
    ),
    Endpoint(
        "PATCH",
        CUSTOMER,
        "updateCustomer",
        "Update customer",
        update_customer,
        (
            Answer(
                200,
                "The updated customer.",
                "CustomerResponse",
                ("ETag",),
                {"data": examples.UPDATED},
            ),
        ),
        scope=WRITE_SCOPE,
        description="Fields absent from the body stay as they are; null clears a field.",
        parameters=(IF_MATCH,),
        request_body="CustomerUpdate",
        request_example=examples.UPDATE,
        errors=(VALIDATION_ERROR, NOT_FOUND, PRECONDITION_FAILED),
    ),
    Endpoint(
        "POST",
        f"{CUSTOMER}/archive",
        "archiveCustomer",
        "Archive customer",
        archive_customer,
        (Answer(200, "The archived customer.", "CustomerResponse", ("ETag",), examples.ARCHIVED),),
        scope=WRITE_SCOPE,
        description=(
            "Archived customers are left out of lists unless archived=true or archived=any is "
            "given; they can still be read and changed. Archiving an archived customer "
            "changes nothing."
        ),
        parameters=(IF_MATCH,),
        errors=(VALIDATION_ERROR, NOT_FOUND, PRECONDITION_FAILED),
    ),
    Endpoint(
        "POST",
        f"{CUSTOMER}/restore",
        "restoreCustomer",
        "Restore customer",
        restore_customer,
        (Answer(200, "The restored customer.", "CustomerResponse", ("ETag",), examples.ONE),),
        scope=WRITE_SCOPE,
        description="Brings an archived customer back among the active ones.",
        parameters=(IF_MATCH,),
        errors=(VALIDATION_ERROR, NOT_FOUND, PRECONDITION_FAILED),
    ),
    Endpoint(
        "DELETE",
        CUSTOMER,
        "eraseCustomer",
        "Erase customer",
        erase_customer,
        (Answer(204, "Erased: every later request for this id is a 404."),),
        scope=WRITE_SCOPE,
        description=(
            "Erases the customer for good (a GDPR erasure): the record, and the stored answers "
            "of idempotent requests that named it. The id is never issued again."
        ),
        parameters=(IF_MATCH,),
        errors=(VALIDATION_ERROR, NOT_FOUND, PRECONDITION_FAILED),
    ),
)
