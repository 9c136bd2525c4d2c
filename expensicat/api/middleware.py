"""Plain ASGI middleware: request ids, the access log and the metrics, the last line of
error defence, errors raised by routes answered in the envelope, and closing connections
that still carry an unread body."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from expensicat.api.endpoint import CALLER, route_template
from expensicat.api.errors import INTERNAL_ERROR, error_response
from expensicat.auth.principal import Principal

if TYPE_CHECKING:  # only the app factory loads the metrics client
    from expensicat.api.metrics import Metrics

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]

access_log = logging.getLogger("expensicat.access")
error_log = logging.getLogger("expensicat.errors")

# A client may pass its own id for correlation, as long as it is short and plain.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# W3C Trace Context: version-trace_id-parent_id-flags, lower-case hex; version ff is
# invalid, and so are all-zero ids. A future version may append fields after the flags.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?")


class RequestContextMiddleware:
    """Give every request an id, log one line for it, count it in the metrics, and turn any
    crash into a clean 500 (logged and counted as such)."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        # Ids are a random per-process prefix and a counter: unique across workers and
        # restarts without asking the kernel for randomness on every request.
        self._id_prefix = os.urandom(8).hex()
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _client_request_id(scope) or f"{self._id_prefix}{next(self._ids):016x}"
        status = 500
        response_started = False
        metrics = self.metrics
        if metrics is not None:
            metrics.request_started()

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            # Where it failed, but not the error's message: a database error quotes the
            # row it refused, and rows hold personal data.
            error_log.error(
                "unhandled %s in request %s, traceback (most recent call last):\n%s",
                type(error).__name__,
                request_id,
                "".join(traceback.format_tb(error.__traceback__)).rstrip(),
            )
            if not response_started:
                await error_response(INTERNAL_ERROR())(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if metrics is not None:
                metrics.request_finished(scope, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, status, seconds, request_id)


def _log_access(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    """One line per request: in text, its method, path, status, time and id; in JSON, also
    the route template and who called. Never the query string, a token or a body."""
    caller: Principal | None = scope.get(CALLER)
    fields = {
        "request_id": request_id,
        "method": scope["method"],
        "route": route_template(scope),
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "organization_id": caller.organization_id if caller else None,
        "user_id": caller.subject if caller and caller.client_id is None else None,
        "client_id": caller.client_id if caller else None,
    }
    access_log.info(
        "%s %s %d %.1fms request_id=%s",
        scope["method"],
        scope["path"],
        status,
        fields["duration_ms"],
        request_id,
        extra=fields,
    )


def _client_request_id(scope: Scope) -> str | None:
    """The trace id of a valid traceparent, else a well-formed X-Request-Id, else None."""
    request_id = None
    for name, value in scope["headers"]:
        if name == b"traceparent":
            trace_id = _trace_id(value.decode("latin-1"))
            if trace_id is not None:
                return trace_id
        elif name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            request_id = candidate if _CLIENT_REQUEST_ID.fullmatch(candidate) else None
    return request_id


def _trace_id(traceparent: str) -> str | None:
    match = _TRACEPARENT.fullmatch(traceparent.strip())
    if match is None:
        return None
    version, trace_id, parent_id, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or not int(trace_id, 16):
        return None
    if not int(parent_id, 16):
        return None
    return trace_id


class CloseAfterUnreadBody:
    """Answer `Connection: close` when the app answers before reading the whole body.

    A request refused before its body is read (too large, not JSON, no token, over budget)
    leaves the rest of that body on the connection, and the server drops the connection
    after answering. Said in the answer, a client opens a new connection for its next
    request instead of sending it down one that is being closed under it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        unread = True

        async def receive_tracked() -> Message:
            nonlocal unread
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                unread = False
            return message

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and unread:
                message["headers"] = [*message["headers"], (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive_tracked, send_closing)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


class ErrorAnswers:
    """Answer what a route raised (an ApiError, a domain error, the router's 404 and 405)
    with the response its handler makes; anything else goes on up, to become a 500.

    It takes the place of Starlette's two exception layers, which wrapped every request's
    `send` twice and built a Request for it whether or not anything failed: together 4 µs
    of CPU on a read by id, measured in-process. Here a request that raises nothing costs a
    `try`. Routes answer only once their handler has returned, so nothing has been sent when
    an error comes up.
    """

    def __init__(self, app: ASGIApp, handlers: Mapping[type[Exception], ErrorHandler]) -> None:
        self.app = app
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as error:
            handler = next(
                (self.handlers[kind] for kind in type(error).__mro__ if kind in self.handlers),
                None,
            )
            if handler is None:
                raise
            response = await handler(Request(scope, receive), error)
            # One error may answer several requests (the readers of one batch): its
            # traceback must not grow with each.
            error.__traceback__ = None
            await response(scope, receive, send)
