"""Reading a request body as one JSON object, within the size limit."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from expensicat.api.errors import (
    INVALID_JSON,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    ApiError,
)


async def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    _require_json(request.headers.get("content-type", ""))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise INVALID_JSON() from None
    if not isinstance(value, dict):
        raise INVALID_JSON("The request body must be a JSON object.")
    return value


def _require_json(content_type: str) -> None:
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise UNSUPPORTED_MEDIA_TYPE()


def _too_large(max_bytes: int) -> ApiError:
    return PAYLOAD_TOO_LARGE(
        f"The request body is larger than {max_bytes} bytes.",
        {"body": [f"Must be at most {max_bytes} bytes."]},
    )
