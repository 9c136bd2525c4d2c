"""What every endpoint shares, built once per process when the app starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from expensicat.auth.verifier import TokenVerifier
from expensicat.keys import KeyStore
from expensicat.ratelimit import Limiter

if TYPE_CHECKING:  # the idempotency component itself runs on top of the shared parts
    from expensicat.api.metrics import Metrics


@dataclass(frozen=True, slots=True)
class Shared:
    verifier: TokenVerifier
    limiter: Limiter | None
    keys: KeyStore
    max_body_bytes: int
    metrics: Metrics | None = None


def shared(request: Request) -> Shared:
    found: Shared = request.app.state.shared
    return found
