"""Reading an HTML form or OAuth2 request body (application/x-www-form-urlencoded)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

FORM_TYPE = "application/x-www-form-urlencoded"


class BadForm(Exception):
    """The body is not a form we take; the message says why, for the client."""


async def read_form(request: Request, max_bytes: int) -> dict[str, str]:
    """The form's fields. Each may appear once (RFC 6749 section 3.1): a repeated field
    would leave a doubt about which one was meant."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise BadForm(f"The body must be sent as {FORM_TYPE}.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise BadForm(f"The body is larger than {max_bytes} bytes.")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadForm("The body is not UTF-8.") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise BadForm(f"The parameter {name} is given more than once.")
        fields[name] = value
    return fields


def single_query(request: Request) -> dict[str, str]:
    """The query's parameters, each once (BadForm otherwise)."""
    fields: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in fields:
            raise BadForm(f"The parameter {name} is given more than once.")
        fields[name] = value
    return fields
