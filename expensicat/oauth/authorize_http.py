"""The authorization endpoint (RFC 6749 section 4.1.1) and its consent page: a stranger is
sent to sign in, a signed-in person asked, and the client answered at its redirect URI."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from expensicat.api.forms import BadForm, read_form, single_query
from expensicat.api.pages import error_page, hidden, page
from expensicat.api.shared import shared
from expensicat.identity.http import parts as sign_in_parts
from expensicat.identity.http import signin_url
from expensicat.oauth.parts import AUTHORIZE, parts
from expensicat.oauth.records import SCOPES
from expensicat.oauth.service import AuthorizationRequest, OAuthError, UntrustedRedirect

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
