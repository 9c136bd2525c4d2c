"""Endpoints declared once. The routes and the OpenAPI document are both built from these
declarations, so what the server does and what the document says cannot drift apart.

Adding an endpoint means one declaration and one handler: the runner authenticates the
caller, spends the request budget and checks the scope before the handler runs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from starlette.convertors import StringConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from expensicat.api.auth import authenticate, require_scope
from expensicat.api.body import read_json_object
from expensicat.api.errors import ErrorType
from expensicat.api.ratelimit import REQUESTS, Budget, spend
from expensicat.api.shared import shared
from expensicat.auth.principal import Principal
from expensicat.changes.records import Actor
from expensicat.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Call:
    """One request to an endpoint, with the caller its token names (when it needs one)."""

    request: Request
    principal: Principal | None

    @property
    def organization_id(self) -> str:
        assert self.principal is not None, "only endpoints with a scope have a caller"
        return self.principal.organization_id

    @property
    def actor(self) -> Actor:
        """Who the changes this request makes are recorded as made by."""
        assert self.principal is not None, "only endpoints with a scope have a caller"
        if self.principal.client_id is None:
            return {"type": "user", "id": self.principal.subject}
        return {"type": "client", "id": self.principal.client_id}

    def path(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    async def json(self) -> dict[str, Any]:
        """The body as one JSON object, within the configured size limit."""
        return await read_json_object(self.request, shared(self.request).max_body_bytes)


Handler = Callable[[Call], Awaitable[Response]]
# Who called, left in the request's scope by the runner for the access log.
CALLER = "expensicat.caller"


def route_template(scope: Scope) -> str | None:
    """The path template of the route that took the request (the router names it), such as
    /api/v1/customers/{id}; None when no route did."""
    path = getattr(scope.get("route"), "path", None)
    return _declared_path(path) if isinstance(path, str) else None


def routes(endpoints: Iterable[Endpoint]) -> list[Route]:
    """The endpoints' routes. A path parameter never takes a fixed segment that another
    path has in its place: /customers/changes is the feed for every method, never the
    customer "changes", so a method the feed does not serve is a 405 that names its own."""
    endpoints = list(endpoints)
    paths = [endpoint.path for endpoint in endpoints]
    return [endpoint.route(_routed(endpoint.path, paths)) for endpoint in endpoints]


def _routed(path: str, paths: list[str]) -> str:
    segments = path.split("/")
    for n, segment in enumerate(segments):
        if not _PARAMETER.fullmatch(segment):
            continue
        fixed = tuple(
            sorted(
                {
                    other[n]
                    for other in (p.split("/") for p in paths)
                    if len(other) > n
                    and other[:n] == segments[:n]
                    and not _PARAMETER.match(other[n])
                }
            )
        )
        if fixed:
            segments[n] = f"{segment[:-1]}:{_segment_other_than(fixed)}}}"
    return "/".join(segments)


@cache
def _segment_other_than(fixed: tuple[str, ...]) -> str:
    """The name of a convertor (registered once) that takes a segment unless it is one of
    `fixed`."""
    name = "segment_not_" + "_".join(fixed)
    excluded = "|".join(re.escape(segment) for segment in fixed)

    class OtherSegment(StringConvertor):
        regex = f"(?!(?:{excluded})(?:/|$))[^/]+"

    register_url_convertor(name, OtherSegment())
    return name


_PARAMETER = re.compile(r"\{[a-z_]+\}")


@cache
def _declared_path(path: str) -> str:
    """The path as declared, without the convertors `routes` put in."""
    return re.sub(r":[a-z_]+\}", "}", path)


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: Literal["query", "header"]
    description: str
    schema: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful answer: its status, what it means, its body's schema and its headers."""

    status: int
    description: str
    schema: str | None = None
    headers: tuple[str, ...] = ()
    example: Any = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    operation_id: str
    summary: str
    handler: Handler
    answers: tuple[Answer, ...]
    # The scope a bearer token must grant; None for endpoints anyone may call.
    scope: str | None = None
    description: str | None = None
    parameters: tuple[Parameter, ...] = ()
    request_body: str | None = None
    request_example: Any = None
    # The errors of this endpoint's own; those of authentication, budgets, bodies and
    # idempotency are implied by the fields above.
    errors: tuple[ErrorType, ...] = ()
    budget: Budget | None = REQUESTS
    idempotent: bool = False
    tag: str = "customers"

    def route(self, path: str | None = None) -> Route:
        """The route that runs this endpoint, at its path or at `path` (the same path with
        convertors in its parameters: see `routes`)."""
        declared = frozenset(p.name for p in self.parameters if p.location == "query")
        run = _Runner(self, declared)
        return Route(path or self.path, run, methods=[self.method], name=self.operation_id)

    async def _run(self, request: Request, declared: frozenset[str]) -> Response:
        principal = None
        if self.scope is not None:
            principal = await authenticate(request)
            request.scope[CALLER] = principal
        if self.budget is not None:
            # Counted before the scope check: refused requests cost the service as much.
            await spend(request, self.budget, principal)
        if self.scope is not None:
            assert principal is not None
            require_scope(principal, self.scope)
        if request.scope["query_string"]:
            _check_query(request, declared)
        return await self.handler(Call(request, principal))


@dataclass(frozen=True, slots=True)
class _Runner:
    """An endpoint as the plain ASGI app its route calls. Its errors go up to the app's
    exception handlers as they are; a function would have the route wrap every request in
    a second, identical layer of them."""

    endpoint: Endpoint
    declared: frozenset[str]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.endpoint._run(Request(scope, receive), self.declared)
        await response(scope, receive, send)


def _check_query(request: Request, declared: frozenset[str]) -> None:
    """Refuse a query parameter the endpoint does not declare, or one given twice: silently
    ignored, it would answer a question other than the one asked."""
    names = [name for name, _ in request.query_params.multi_items()]
    problems: dict[str, list[str]] = {}
    for name in names:
        if name not in declared:
            problems[name] = ["Unknown query parameter."]
        elif names.count(name) > 1:
            problems[name] = ["Given more than once; give it once."]
    if problems:
        raise ValidationFailed(problems)
