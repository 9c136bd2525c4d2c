"""Signing in over HTTP: the JSON session endpoint for apps and scripts, and the sign-in
page for browsers (which the OAuth2 consent page sends people to)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from expensicat.api.endpoint import Answer, Call, Endpoint
from expensicat.api.errors import RATE_LIMITED, UNAUTHORIZED, VALIDATION_ERROR
from expensicat.api.forms import BadForm, read_form, single_query
from expensicat.api.pages import error_page, hidden, page
from expensicat.api.responses import json_response
from expensicat.api.shared import shared
from expensicat.auth.session import SessionTokens
from expensicat.identity.cookies import BrowserSessions
from expensicat.identity.service import (
    SIGN_IN_FAILED,
    IdentityService,
    SignedIn,
    SignInFailed,
    TooManyTries,
)

SESSION_TTL_SECONDS = 3600
SESSION_FIELDS = {"email", "password", "organization_id"}
# Where the sign-in page may send a browser back to: our own authorization endpoint only,
# so that `next` can never be an open redirect.
NEXT_PREFIX = "/api/auth/oauth2/authorize?"
NO_STORE = {"Cache-Control": "no-store"}
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class SignInParts:
    identity: IdentityService
    sessions: SessionTokens
    browsers: BrowserSessions


def parts(request: Request) -> SignInParts:
    found: SignInParts = request.app.state.sign_in
    return found


async def create_session(call: Call) -> Response:
    """Sign in with an email and a password: the session JWT the API accepts."""
    request = call.request
    email, password, organization_id = _credentials(await call.json())
    try:
        signed_in = await _sign_in(request, email, password, organization_id)
    except SignInFailed:
        raise UNAUTHORIZED(SIGN_IN_FAILED) from None
    except TooManyTries as error:
        message = "Too many sign-in attempts; try again after Retry-After seconds."
        raise RATE_LIMITED(message, headers=_retry_after(error)) from None
    token = parts(request).sessions.issue(
        signed_in.organization_id, signed_in.user_id, SESSION_TTL_SECONDS
    )
    data = {
        "token": token,
        "token_type": "Bearer",
        "expires_in": SESSION_TTL_SECONDS,
        "user_id": signed_in.user_id,
        "organization_id": signed_in.organization_id,
        "organizations": list(signed_in.organizations),
    }
    return json_response({"data": data}, headers=NO_STORE)


async def logout(call: Call) -> Response:
    """End the browser session: its cookie is cleared."""
    response = Response(status_code=204, headers=NO_STORE)
    parts(call.request).browsers.end(call.request, response)
    return response


async def signin_page(request: Request) -> Response:
    try:
        query = single_query(request)
    except BadForm as error:
        return error_page("Cannot sign in", str(error))
    return _form(request, _next(query.get("next", "")))


async def signin_submit(request: Request) -> Response:
    try:
        form = await read_form(request, shared(request).max_body_bytes)
    except BadForm as error:
        return error_page("Cannot sign in", str(error))
    next_path = _next(form.get("next", ""))
    if not parts(request).browsers.signin_token_holds(request, form.get(CSRF_FIELD, "")):
        message = "This form has expired or did not come from this site. Try again."
        return _form(request, next_path, form.get("email", ""), message, 403)
    organization_id = form.get("organization_id", "").strip() or None
    email = form.get("email", "")
    try:
        signed_in = await _sign_in(request, email, form.get("password", ""), organization_id)
    except SignInFailed:
        return _form(request, next_path, email, SIGN_IN_FAILED, 401)
    except TooManyTries as error:
        message = "Too many tries. Wait a moment, then try again."
        return _form(request, next_path, email, message, 429, _retry_after(error))
    response = (
        RedirectResponse(next_path, 303)
        if next_path
        else page("Signed in", "<h1>You are signed in</h1><p>You may close this page.</p>")
    )
    parts(request).browsers.start(request, response, signed_in.user_id, signed_in.organization_id)
    return response


async def _sign_in(
    request: Request, email: str, password: str, organization_id: str | None
) -> SignedIn:
    address = request.client.host if request.client else ""
    return await parts(request).identity.sign_in(email, password, organization_id, address)


def _retry_after(error: TooManyTries) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(error.retry_after)))}


def _credentials(body: dict[str, Any]) -> tuple[str, str, str | None]:
    problems: dict[str, list[str]] = {
        name: ["Unknown field."] for name in body if name not in SESSION_FIELDS
    }
    for name in ("email", "password"):
        if not isinstance(body.get(name), str) or not body[name]:
            problems[name] = ["Required: a string."]
    organization_id = body.get("organization_id")
    if organization_id is not None and not isinstance(organization_id, str):
        problems["organization_id"] = ["Must be a string or null."]
    if problems:
        raise VALIDATION_ERROR(details=problems)
    return body["email"], body["password"], organization_id


def _next(candidate: str) -> str:
    """Where to go after signing in: our authorization endpoint, or nowhere."""
    return candidate if candidate.startswith(NEXT_PREFIX) else ""


def _form(
    request: Request,
    next_path: str,
    email: str = "",
    problem: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    error = f'<p class="error" role="alert">{escape(problem)}</p>' if problem else ""
    browsers = parts(request).browsers
    nonce = browsers.signin_nonce(request)
    fields = {
        CSRF_FIELD: browsers.signin_token(nonce),
        **({"next": next_path} if next_path else {}),
    }
    body = f"""<h1>Sign in</h1>{error}
<form method="post" action="/signin">{hidden(fields)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required
 value="{escape(email)}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="organization_id">Organization <span class="muted">(optional)</span></label>
<input id="organization_id" name="organization_id" type="text" autocomplete="organization">
<div class="actions"><button type="submit">Sign in</button></div>
</form>"""
    response = page("Sign in", body, status, headers)
    browsers.remember(request, response, nonce)
    return response


def signin_url(authorize_query: dict[str, str]) -> str:
    """The sign-in page, sending the browser back to this authorization request after."""
    return "/signin?" + urlencode({"next": NEXT_PREFIX + urlencode(authorize_query)})


_SESSION_EXAMPLE = {
    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMWEy...",
    "token_type": "Bearer",
    "expires_in": SESSION_TTL_SECONDS,
    "user_id": "01a24061-1388-72bf-8a08-cc467c4cb310",
    "organization_id": "acme",
    "organizations": ["acme", "globex"],
}
ENDPOINTS = (
    Endpoint(
        "POST", "/api/auth/session", "createSession", "Sign in", create_session,
        (Answer(200, "A session token for the user in the organization.", "Session",
                example={"data": _SESSION_EXAMPLE}),),
        description=(
            "Takes an email and a password (and optionally the organization, else the "
            "user's first) and answers the session JWT the API accepts, for an hour. Every "
            "failure is the same 401; repeated failures are slowed with 429 and Retry-After."
        ),
        request_body="SignIn",
        request_example={"email": "alice@example.com", "password": "correct horse battery"},
        errors=(UNAUTHORIZED, RATE_LIMITED), budget=None, tag="sign-in",
    ),
    Endpoint(
        "POST", "/api/auth/session/logout", "logout", "End the browser session", logout,
        (Answer(204, "The browser session cookie is cleared."),),
        description="Clears the cookie that /signin set; API tokens run out on their own.",
        budget=None, tag="sign-in",
    ),
)  # fmt: skip
SCHEMAS = {
    "SignIn": {
        "type": "object",
        "properties": {
            "email": {"type": "string", "minLength": 1},
            "password": {"type": "string", "minLength": 1},
            "organization_id": {"type": ["string", "null"]},
        },
        "required": ["email", "password"],
        "additionalProperties": False,
    },
    "Session": {
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "token": {"type": "string"},
                    "token_type": {"type": "string", "enum": ["Bearer"]},
                    "expires_in": {"type": "integer"},
                    "user_id": {"type": "string"},
                    "organization_id": {"type": "string"},
                    "organizations": {"type": "array", "items": {"type": "string"}},
                },
                "required": list(_SESSION_EXAMPLE),
            }
        },
        "required": ["data"],
    },
}
ROUTES = [
    Route("/signin", signin_page, methods=["GET"]),
    Route("/signin", signin_submit, methods=["POST"]),
]
