"""The token, revocation (RFC 7009) and introspection (RFC 7662) endpoints: forms in,
JSON out, and RFC 6749's errors (`{"error", "error_description"}`), as those RFCs say."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from expensicat.api.forms import BadForm, read_form
from expensicat.api.responses import json_response
from expensicat.api.shared import shared
from expensicat.oauth.parts import parts
from expensicat.oauth.records import Client
from expensicat.oauth.service import AuthorizationServer, OAuthError, Tokens

# RFC 6749 section 5.1: token answers are never cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


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
