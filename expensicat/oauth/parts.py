"""What the authorization server's HTTP modules share: where its endpoints are, and the
parts the application gives them."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from expensicat.oauth.keys import SigningKeys
from expensicat.oauth.service import AuthorizationServer

AUTHORIZE = "/api/auth/oauth2/authorize"
TOKEN = "/api/auth/oauth2/token"
REVOKE = "/api/auth/oauth2/revoke"
INTROSPECT = "/api/auth/oauth2/introspect"
JWKS = "/.well-known/jwks.json"
METADATA = "/.well-known/oauth-authorization-server"


@dataclass(frozen=True, slots=True)
class OAuthParts:
    server: AuthorizationServer
    keys: SigningKeys
    issuer: str


def parts(request: Request) -> OAuthParts:
    found: OAuthParts = request.app.state.oauth
    return found
