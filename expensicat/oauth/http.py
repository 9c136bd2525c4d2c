"""The authorization server over HTTP: the routes of its browser-facing and form-taking
endpoints, and the endpoints the OpenAPI document declares."""

from __future__ import annotations

from starlette.routing import Route

from expensicat.oauth.authorize_http import authorize, consent
from expensicat.oauth.discovery_http import ENDPOINTS, SCHEMAS
from expensicat.oauth.parts import AUTHORIZE, INTROSPECT, REVOKE, TOKEN, OAuthParts
from expensicat.oauth.token_http import introspect, revoke, token

__all__ = ["ENDPOINTS", "ROUTES", "SCHEMAS", "OAuthParts"]

ROUTES = [
    Route(AUTHORIZE, authorize, methods=["GET"]),
    Route(AUTHORIZE, consent, methods=["POST"]),
    Route(TOKEN, token, methods=["POST"]),
    Route(REVOKE, revoke, methods=["POST"]),
    Route(INTROSPECT, introspect, methods=["POST"]),
]
