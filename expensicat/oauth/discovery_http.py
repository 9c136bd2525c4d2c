"""How clients discover the authorization server: its metadata (RFC 8414) and its public
keys (RFC 7517), declared as endpoints of the OpenAPI document."""

from __future__ import annotations

from starlette.responses import Response

from expensicat.api.endpoint import Answer, Call, Endpoint
from expensicat.api.responses import json_response
from expensicat.oauth.parts import AUTHORIZE, INTROSPECT, JWKS, METADATA, REVOKE, TOKEN, parts
from expensicat.oauth.records import SCOPES


async def jwks(call: Call) -> Response:
    """The public keys access tokens are signed with (RFC 7517)."""
    keys = await parts(call.request).keys.jwks()
    return json_response(keys, headers={"Cache-Control": "max-age=300"})


async def metadata(call: Call) -> Response:
    """RFC 8414."""
    return json_response(
        server_metadata(parts(call.request).issuer), headers={"Cache-Control": "max-age=300"}
    )


def server_metadata(issuer: str) -> dict[str, object]:
    client_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE,
        "token_endpoint": issuer + TOKEN,
        "revocation_endpoint": issuer + REVOKE,
        "introspection_endpoint": issuer + INTROSPECT,
        "jwks_uri": issuer + JWKS,
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [*client_methods, "none"],
        "revocation_endpoint_auth_methods_supported": [*client_methods, "none"],
        "introspection_endpoint_auth_methods_supported": client_methods,
        "authorization_response_iss_parameter_supported": True,
    }


_KEY_EXAMPLE = {
    "kty": "EC",
    "crv": "P-256",
    "x": "wwmFzAeG7xX2XyFzY2vlqKMALoCGyCKjGV6HN0oelEM",
    "y": "blRsMKX2_pHaM8bX3hx-nPQK5vPHzvqWUekK0EhKzWU",
    "kid": "ScQgn_JmrCj8hJzPS6d3bIRKnL5hJCq8G455cUYBCw4",
    "use": "sig",
    "alg": "ES256",
}
_STRING = {"type": "string"}
_STRINGS = {"type": "array", "items": _STRING}
SCHEMAS = {
    "JsonWebKeySet": {
        "type": "object",
        "properties": {
            "keys": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": dict.fromkeys(_KEY_EXAMPLE, _STRING),
                    "required": list(_KEY_EXAMPLE),
                },
            }
        },
        "required": ["keys"],
    },
    "AuthorizationServerMetadata": {
        "type": "object",
        "properties": {
            name: {"type": "boolean"} if isinstance(value, bool) else
            _STRINGS if isinstance(value, list) else _STRING
            for name, value in server_metadata("https://customers.example.com").items()
        },
        "required": ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"],
    },
}  # fmt: skip
ENDPOINTS = (
    Endpoint(
        "GET", JWKS, "getJsonWebKeySet", "Signing keys", jwks,
        (Answer(200, "The published public keys.", "JsonWebKeySet",
                example={"keys": [_KEY_EXAMPLE]}),),
        description=(
            "The public keys of the built-in authorization server, to check its access "
            "tokens with; a rotated-out key stays until every token it signed has expired."
        ),
        budget=None, tag="oauth2",
    ),
    Endpoint(
        "GET", METADATA, "getAuthorizationServerMetadata", "Authorization server metadata",
        metadata,
        (Answer(200, "Where the endpoints are, and what they support (RFC 8414).",
                "AuthorizationServerMetadata",
                example=server_metadata("https://customers.example.com")),),
        description=(
            "The built-in OAuth2 authorization server described for clients. Its token, "
            "revocation and introspection endpoints take forms and answer RFC 6749's errors, "
            "as those RFCs say, so they are described by this metadata and the RFCs."
        ),
        budget=None, tag="oauth2",
    ),
)  # fmt: skip
