"""The authorization server over HTTP: the authorization endpoint and its consent page,
the token, revocation and introspection endpoints (RFC 6749's JSON errors there, as the
RFCs require), and the metadata and keys clients discover it by."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from html import escape
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from expensicat.api.endpoint import Answer, Call, Endpoint
from expensicat.api.forms import BadForm, read_form, single_query
from expensicat.api.pages import error_page, hidden, page
from expensicat.api.responses import json_response
from expensicat.api.shared import shared
from expensicat.identity.http import parts as sign_in_parts
from expensicat.identity.http import signin_url
from expensicat.oauth.keys import SigningKeys
from expensicat.oauth.records import SCOPES, Client
from expensicat.oauth.service import (
    AuthorizationRequest,
    AuthorizationServer,
    OAuthError,
    Tokens,
    UntrustedRedirect,
)

AUTHORIZE = "/api/auth/oauth2/authorize"
TOKEN = "/api/auth/oauth2/token"
REVOKE = "/api/auth/oauth2/revoke"
INTROSPECT = "/api/auth/oauth2/introspect"
JWKS = "/.well-known/jwks.json"
METADATA = "/.well-known/oauth-authorization-server"
# RFC 6749 section 5.1: token answers are never cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CSRF_FIELD = "csrf_token"
AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True, slots=True)
class OAuthParts:
    server: AuthorizationServer
    keys: SigningKeys
    issuer: str


def parts(request: Request) -> OAuthParts:
    found: OAuthParts = request.app.state.oauth
    return found


async def authorize(request: Request) -> Response:
    """Check the request; send a stranger to sign in, and show a signed-in person the
    consent page."""
    try:
        params = single_query(request)
    except BadForm as error:
        return error_page("Cannot authorize", str(error))
    return await _authorization(request, params, consented=None)


async def consent(request: Request) -> Response:
    """The consent page's answer: a code for the client, or access_denied."""
    try:
        form = await read_form(request, shared(request).max_body_bytes)
    except BadForm as error:
        return error_page("Cannot authorize", str(error))
    if not sign_in_parts(request).browsers.csrf_holds(request, form.get(CSRF_FIELD, "")):
        return error_page(
            "Cannot authorize",
            "This form has expired or did not come from this site. Start again from the app.",
            403,
        )
    params = {name: form[name] for name in AUTHORIZE_FIELDS if name in form}
    return await _authorization(request, params, consented=form.get("decision") == "allow")


async def _authorization(
    request: Request, params: dict[str, str], consented: bool | None
) -> Response:
    server = parts(request).server
    try:
        checked = await server.authorization_request(params)
    except UntrustedRedirect:
        return error_page(
            "Unknown application",
            "The application is unknown, or asked to be answered at an address it did not "
            "register. Nothing was shared with it.",
        )
    except OAuthError as error:
        return _redirect_error(request, params, error)
    person = sign_in_parts(request).browsers.signed_in(request)
    if person is None:
        return RedirectResponse(signin_url(params), 303)
    if consented is None:
        return _consent_page(request, checked, person.organization_id, params)
    if not consented:
        denied = OAuthError("access_denied", "The person declined.")
        return _redirect_error(request, params, denied)
    code = await server.issue_code(checked, person.organization_id, person.subject)
    return _redirect(request, checked.redirect_uri, {"code": code, "state": checked.state})


def _redirect_error(request: Request, params: dict[str, str], error: OAuthError) -> Response:
    answer = {"error": error.error, "error_description": error.description}
    return _redirect(request, params["redirect_uri"], {**answer, "state": params.get("state")})


def _redirect(request: Request, redirect_uri: str, values: dict[str, str | None]) -> Response:
    """Back to the client, with `values` added to its redirect URI's query, and `iss` so
    that a client of several servers knows which one answered (RFC 9207)."""
    added = {name: value for name, value in values.items() if value is not None}
    added["iss"] = parts(request).issuer
    scheme, netloc, path, query, _ = urlsplit(redirect_uri)
    query = f"{query}&{urlencode(added)}" if query else urlencode(added)
    return RedirectResponse(urlunsplit((scheme, netloc, path, query, "")), 303)


def _consent_page(
    request: Request, checked: AuthorizationRequest, organization_id: str, params: dict[str, str]
) -> Response:
    scopes = "".join(f"<li>{escape(SCOPES[scope])}</li>" for scope in checked.scope.split())
    csrf = sign_in_parts(request).browsers.csrf_token(request)
    body = f"""<h1>Allow {escape(checked.client.name)}?</h1>
<p><strong>{escape(checked.client.name)}</strong> asks to act for you in the organization
<strong>{escape(organization_id)}</strong>. It will be able to:</p>
<ul class="scopes">{scopes}</ul>
<p class="muted">You will be sent back to {
        escape(urlsplit(checked.redirect_uri).netloc or checked.redirect_uri)
    }.</p>
<form method="post" action="{AUTHORIZE}">{hidden({**params, CSRF_FIELD: csrf})}
<div class="actions">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div></form>"""
    return page(f"Allow {checked.client.name}", body)


async def token(request: Request) -> Response:
    """RFC 6749 section 3.2: authorization_code, refresh_token and client_credentials."""
    try:
        form, client = await _client_request(request)
        tokens = await _grant(parts(request).server, client, form)
    except OAuthError as error:
        return oauth_error(error)
    return json_response(tokens.as_json(), headers=NO_STORE)


async def _grant(server: AuthorizationServer, client: Client, form: dict[str, str]) -> Tokens:
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return await server.exchange_code(
            client,
            _required(form, "code"),
            _required(form, "redirect_uri"),
            _required(form, "code_verifier"),
        )
    if grant_type == "refresh_token":
        return await server.refresh(client, _required(form, "refresh_token"), form.get("scope"))
    if grant_type == "client_credentials":
        return await server.client_credentials(client, form.get("scope"))
    raise OAuthError(
        "unsupported_grant_type", "Use authorization_code, refresh_token or client_credentials."
    )


async def revoke(request: Request) -> Response:
    """RFC 7009: always 200 for a well-formed request, whether the token was known or not."""
    try:
        form, client = await _client_request(request)
        await parts(request).server.revoke(client, _required(form, "token"))
    except OAuthError as error:
        return oauth_error(error)
    return Response(status_code=200, headers=NO_STORE)


async def introspect(request: Request) -> Response:
    """RFC 7662, for confidential clients, about their own tokens."""
    try:
        form, client = await _client_request(request)
        answer = await parts(request).server.introspect(client, _required(form, "token"))
    except OAuthError as error:
        return oauth_error(error)
    return json_response(answer, headers=NO_STORE)


async def _client_request(request: Request) -> tuple[dict[str, str], Client]:
    """The form, and the client that sent it (HTTP Basic or form credentials, RFC 6749
    section 2.3.1; a public client names itself with client_id alone)."""
    try:
        form = await read_form(request, shared(request).max_body_bytes)
    except BadForm as error:
        raise OAuthError("invalid_request", str(error)) from None
    basic = _basic_credentials(request.headers.get("authorization"))
    if basic is not None and ("client_id" in form or "client_secret" in form):
        raise OAuthError("invalid_request", "Authenticate the client one way only.")
    client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret"))
    client = await parts(request).server.authenticate(client_id, secret)
    return form, client


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "Authenticate the client with HTTP Basic.", 401)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "The Basic credentials are malformed.", 401) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "The Basic credentials are malformed.", 401)
    # RFC 6749 section 2.3.1: both parts are form-encoded before being joined.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise OAuthError("invalid_request", f"{name} is required.")
    return value


def oauth_error(error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="expensicat"'
    body = {"error": error.error, "error_description": error.description}
    return json_response(body, error.status, headers)


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
ROUTES = [
    Route(AUTHORIZE, authorize, methods=["GET"]),
    Route(AUTHORIZE, consent, methods=["POST"]),
    Route(TOKEN, token, methods=["POST"]),
    Route(REVOKE, revoke, methods=["POST"]),
    Route(INTROSPECT, introspect, methods=["POST"]),
]
