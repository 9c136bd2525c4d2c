"""Per-organization budgets on the wire: 429 over budget, RateLimit headers on every answer.

The organization is known only once its token is verified, so `spend_budget` runs in
authentication and leaves its decision in the request scope; the middleware then adds
the headers to whatever response follows, success or error (IETF draft RateLimit header
fields: Limit is the burst, Remaining what is left of it, Reset the seconds until full).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from expensicat.api.errors import ApiError
from expensicat.ratelimit import Decision, Limiter

_LIMITER = "expensicat.limiter"
_DECISION = "expensicat.rate_limit"


class RateLimitMiddleware:
    """Hands the limiter to the request and writes the decision's headers on the way out."""

    def __init__(self, app: ASGIApp, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[_LIMITER] = self.limiter

        async def send_with_budget(message: Message) -> None:
            decision: Decision | None = scope.get(_DECISION)
            if message["type"] == "http.response.start" and decision is not None:
                message["headers"] = [*message["headers"], *_headers(decision)]
            await send(message)

        await self.app(scope, receive, send_with_budget)


async def spend_budget(request: Request, organization_id: str) -> None:
    """Count this request against the organization's budget; 429 when it is spent."""
    limiter: Limiter | None = request.scope.get(_LIMITER)
    if limiter is None:
        return
    decision = await limiter.take(organization_id)
    request.scope[_DECISION] = decision
    if not decision.allowed:
        raise ApiError(
            429,
            "RATE_LIMITED",
            "Too many requests for this organization; try again after Retry-After seconds.",
            headers={"Retry-After": str(decision.retry_after)},
        )


def _headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-limit", b"%d" % decision.limit),
        (b"ratelimit-remaining", b"%d" % decision.remaining),
        (b"ratelimit-reset", b"%d" % decision.reset),
    ]
