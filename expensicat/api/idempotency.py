"""Idempotent POSTs: a retry with the same Idempotency-Key gets the first answer back.

Any POST handler can use it. The key is claimed before the write; the answer (status,
headers and body) is recorded in the same transaction as the write, so a retry finds
both or neither, and is replayed exactly, whatever happened to the record since.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from starlette.responses import Response

from expensicat.api.endpoint import Call, Parameter
from expensicat.api.errors import NOT_FOUND, ErrorType, error_response
from expensicat.api.responses import JSON_TYPE
from expensicat.api.shared import shared
from expensicat.errors import ValidationFailed
from expensicat.keys import KeyClaim, KeyHold, KeyStore
from expensicat.timestamps import timestamp

# Keys are kept at least this long, as the API promises.
KEY_RETENTION = timedelta(hours=24)
# A write holding a key longer than this is presumed dead and its key free again; far
# above the statement timeout, so a live request never loses its claim.
KEY_LEASE = timedelta(seconds=60)
# 1 to 255 printable ASCII characters; HTTP itself trims spaces at either end.
KEY_PATTERN = "^[!-~]([ -~]{0,253}[!-~])?$"
_KEY = re.compile(KEY_PATTERN)
# Headers a replay carries as the first answer did; the rest are the server's own.
_REPLAYED_HEADERS = ("location", "etag")

IDEMPOTENCY_KEY_IN_USE = ErrorType(
    409,
    "IDEMPOTENCY_KEY_IN_USE",
    "A request with this Idempotency-Key is still in progress; retry shortly.",
    "a request with this Idempotency-Key is still in flight",
    ("Retry-After",),
)
IDEMPOTENCY_KEY_REUSED = ErrorType(
    422,
    "IDEMPOTENCY_KEY_REUSED",
    "This Idempotency-Key was already used with a different request body.",
    "the Idempotency-Key was used with a different request",
)
KEY_PARAMETER = Parameter(
    "Idempotency-Key",
    "header",
    "Makes retries safe: a retry with the same key and body within 24 hours returns the "
    "original response and does nothing again.",
    {"type": "string", "pattern": KEY_PATTERN},
)

T = TypeVar("T")
Write = Callable[[KeyHold | None], Awaitable[bool]]


def checked_with_key(call: Call, parse: Callable[[], T]) -> T:
    """`parse()`, with a malformed Idempotency-Key reported together with its problems."""
    key = call.header("idempotency-key")
    problems = {}
    if key is not None and not _KEY.fullmatch(key):
        problems["Idempotency-Key"] = ["Must be 1 to 255 printable ASCII characters."]
    try:
        parsed = parse()
    except ValidationFailed as failed:
        raise ValidationFailed({**failed.details, **problems}) from None
    if problems:
        raise ValidationFailed(problems)
    return parsed


async def once(call: Call, body: Mapping[str, Any], response: Response, write: Write) -> Response:
    """Do `write` and answer `response`; with an Idempotency-Key, at most once per key.

    `write` gets the held key, to record the answer on in the write's own transaction; it
    returns False when the claim was lost meanwhile, and then wrote nothing.
    """
    key = call.header("idempotency-key")
    if key is None:
        await write(None)
        return response
    keys: KeyStore = shared(call.request).keys
    organization_id = call.organization_id
    request_hash = fingerprint(call.request.method, call.request.url.path, body)
    now = datetime.now(UTC)
    lease_until = timestamp(now + KEY_LEASE)
    claim = await keys.claim_key(
        organization_id, key, request_hash, timestamp(now), lease_until,
        expired_before=timestamp(now - KEY_RETENTION),
    )  # fmt: skip
    if not claim.claimed:
        replay = _replay(claim, request_hash)
        metrics = shared(call.request).metrics
        if metrics is not None:
            metrics.replays.inc()
        return replay
    try:
        written = await write(KeyHold(key, lease_until, _recorded(response)))
    except BaseException:
        await keys.release_key(organization_id, key)
        raise
    if not written:
        raise _in_use()
    return response


def fingerprint(method: str, path: str, body: Mapping[str, Any]) -> str:
    """The same request gives the same fingerprint, whatever its key order or spacing."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(b"%s %s\n%s" % (method.encode(), path.encode(), canonical)).hexdigest()


def erased_answer(resource: str) -> str:
    """What a retry replays once the record its request made is erased: a 404, as for any
    request about it, and nothing of what the first answer held."""
    gone = NOT_FOUND(f"No such {resource}: it was erased.")
    return _recorded(error_response(gone))


def _recorded(response: Response) -> str:
    headers = {name: value for name, value in response.headers.items() if name in _REPLAYED_HEADERS}
    body = bytes(response.body).decode()
    return orjson.dumps({"status": response.status_code, "headers": headers, "body": body}).decode()


def _replay(claim: KeyClaim, request_hash: str) -> Response:
    if claim.request_hash and claim.request_hash != request_hash:
        raise IDEMPOTENCY_KEY_REUSED()
    if claim.response is None:
        raise _in_use()
    recorded = orjson.loads(claim.response)
    headers = {**recorded["headers"], "Idempotent-Replayed": "true"}
    return Response(recorded["body"], recorded["status"], headers, media_type=JSON_TYPE)


def _in_use() -> Exception:
    return IDEMPOTENCY_KEY_IN_USE(headers={"Retry-After": "1"})
