"""Request budgets on the wire: 429 over budget, RateLimit headers on every answer.

Budgets are spent by the endpoint runner, apart from authentication: keyed by the
caller's organization where a token names one, by the client's address where none does.
The decision rides in the request scope to the middleware, which adds its headers to
whatever response follows, success or error, the last-resort 500 included (IETF draft
RateLimit header fields: Limit is the burst, Remaining what is left of it, Reset the
seconds until full).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from expensicat.api.errors import RATE_LIMITED
from expensicat.api.shared import shared
from expensicat.auth.principal import Principal
from expensicat.ratelimit import Decision

_DECISION = "expensicat.rate_limit"


@dataclass(frozen=True, slots=True)
class Budget:
    """A named budget an endpoint spends from; each name counts on its own."""

    name: str

    def key(self, request: Request, principal: Principal | None) -> str:
        if principal is not None:
            return f"{self.name}:org:{principal.organization_id}"
        address = request.client.host if request.client else "unknown"
        return f"{self.name}:address:{address}"


# What every API request spends, reads and writes alike.
REQUESTS = Budget("requests")


async def spend(request: Request, budget: Budget, principal: Principal | None) -> None:
    """Count this request against its budget; 429 when the budget is spent."""
    parts = shared(request)
    if parts.limiter is None:
        return
    decision = await parts.limiter.take(budget.key(request, principal))
    request.scope[_DECISION] = decision
    if not decision.allowed:
        if parts.metrics is not None:
            parts.metrics.rate_limited.inc()
        raise RATE_LIMITED(headers={"Retry-After": str(decision.retry_after)})


class RateLimitHeaders:
    """Writes the request's budget decision, if one was made, into the response head."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_budget(message: Message) -> None:
            decision: Decision | None = scope.get(_DECISION)
            if message["type"] == "http.response.start" and decision is not None:
                message["headers"] = [*message["headers"], *_headers(decision)]
            await send(message)

        await self.app(scope, receive, send_with_budget)


def _headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-limit", b"%d" % decision.limit),
        (b"ratelimit-remaining", b"%d" % decision.remaining),
        (b"ratelimit-reset", b"%d" % decision.reset),
    ]
