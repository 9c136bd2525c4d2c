"""Bearer authentication (RFC 6750) and scope checks for each endpoint."""

from __future__ import annotations

from starlette.requests import Request

from expensicat.api.errors import ApiError, service_unavailable
from expensicat.api.ratelimit import spend_budget
from expensicat.auth.oauth2 import KeysUnavailable
from expensicat.auth.principal import InvalidToken, Principal
from expensicat.auth.verifier import TokenVerifier

REALM = 'realm="expensicat"'


async def authenticate(request: Request, verifier: TokenVerifier, scope: str) -> Principal:
    """The caller behind the request's bearer token, allowed `scope`; 401, 403 or 429 otherwise."""
    header = request.headers.get("authorization")
    if header is None:
        raise _unauthorized("Authentication is required: send a Bearer token.", None)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("The Authorization header must be 'Bearer <token>'.", "invalid_request")
    try:
        principal = await verifier.verify(token)
    except InvalidToken as error:
        raise _unauthorized(str(error), "invalid_token") from None
    except KeysUnavailable:
        raise service_unavailable("the authorization server's signing keys") from None
    # Counted before the scope check: refused requests cost the service as much.
    await spend_budget(request, principal.organization_id)
    if not principal.may(scope):
        raise ApiError(
            403,
            "FORBIDDEN",
            f"The token lacks the {scope} scope.",
            {"required_scope": scope},
            {"WWW-Authenticate": f'Bearer {REALM}, error="insufficient_scope", scope="{scope}"'},
        )
    return principal


def _unauthorized(message: str, error: str | None) -> ApiError:
    challenge = f"Bearer {REALM}"
    if error is not None:
        description = message.replace('"', "'")
        challenge += f', error="{error}", error_description="{description}"'
    return ApiError(401, "UNAUTHORIZED", message, headers={"WWW-Authenticate": challenge})
