"""Bearer authentication (RFC 6750) and scope checks."""

from __future__ import annotations

from starlette.requests import Request

from expensicat.api.errors import FORBIDDEN, UNAUTHORIZED, ApiError, service_unavailable
from expensicat.api.shared import shared
from expensicat.auth.oauth2 import KeysUnavailable
from expensicat.auth.principal import InvalidToken, Principal

REALM = 'realm="expensicat"'


async def authenticate(request: Request) -> Principal:
    """The caller behind the request's bearer token; 401 (or 503) otherwise."""
    header = request.headers.get("authorization")
    if header is None:
        raise _unauthorized(UNAUTHORIZED.message, None)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("The Authorization header must be 'Bearer <token>'.", "invalid_request")
    try:
        return await shared(request).verifier.verify(token)
    except InvalidToken as error:
        raise _unauthorized(str(error), "invalid_token") from None
    except KeysUnavailable:
        raise service_unavailable("the authorization server's signing keys") from None


def require_scope(principal: Principal, scope: str) -> None:
    """403 unless the caller's token grants `scope`."""
    if not principal.may(scope):
        raise FORBIDDEN(
            f"The token lacks the {scope} scope.",
            {"Authorization": [f"The token must grant the {scope} scope."]},
            {"WWW-Authenticate": f'Bearer {REALM}, error="insufficient_scope", scope="{scope}"'},
        )


def _unauthorized(message: str, error: str | None) -> ApiError:
    challenge = f"Bearer {REALM}"
    if error is not None:
        description = message.replace('"', "'")
        challenge += f', error="{error}", error_description="{description}"'
    return UNAUTHORIZED(message, headers={"WWW-Authenticate": challenge})
