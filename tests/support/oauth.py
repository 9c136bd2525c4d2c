"""Driving the authorization server as a browser and a client app would, in tests."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from starlette.testclient import TestClient

from expensicat.identity.cookies import COOKIE
from expensicat.oauth import clients
from tests.support.accounts import PASSWORD, sign_in_page, store

AUTHORIZE = "/api/auth/oauth2/authorize"
TOKEN = "/api/auth/oauth2/token"
REDIRECT = "http://127.0.0.1:8765/callback"
ALL_SCOPES = "invoices:read invoices:write offline_access"


@dataclass
class App:
    """A registered client: its id, and its secret when it is confidential."""

    client_id: str
    secret: str | None = None


def register(
    client: TestClient,
    *,
    public: bool = True,
    redirect_uris: tuple[str, ...] = (REDIRECT,),
    org: str | None = None,
) -> App:
    assert client.portal is not None
    registered = client.portal.call(
        clients.register, store(client).oauth, "Books Sync", [*redirect_uris], public, org
    )
    return App(registered.client.id, registered.secret)


def signed_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """The browser session cookie of `email`, as a header (the test client keeps no Secure
    cookie over http, and its jar is shared by every test)."""
    response = sign_in_page(client, {"email": email, "password": password}, follow_redirects=False)
    assert response.status_code == 200, response.text
    return {"Cookie": f"{COOKIE}={response.cookies[COOKIE]}"}


@dataclass
class Pkce:
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_params(app: App, pkce: Pkce, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": ALL_SCOPES,
        "state": "xyz-state",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value != ""}


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def consent(
    client: TestClient, cookie: dict[str, str], params: dict[str, str], decision: str = "allow"
) -> httpx2.Response:
    """Load the consent page, then answer it."""
    page = client.get(AUTHORIZE, params=params, headers=cookie, follow_redirects=False)
    assert page.status_code == 200, page.text
    form = {**params, "csrf_token": csrf_of(page.text), "decision": decision}
    return client.post(AUTHORIZE, data=form, headers=cookie, follow_redirects=False)


def redirected_query(response: httpx2.Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def code_for(
    client: TestClient, cookie: dict[str, str], app: App, pkce: Pkce, **params: str
) -> str:
    return redirected_query(consent(client, cookie, authorize_params(app, pkce, **params)))["code"]


def token_request(client: TestClient, app: App, **form: str) -> httpx2.Response:
    if app.secret is None:
        return client.post(TOKEN, data={"client_id": app.client_id, **form})
    return client.post(TOKEN, data=form, auth=(app.client_id, app.secret))


def exchange(client: TestClient, app: App, code: str, pkce: Pkce) -> httpx2.Response:
    return token_request(
        client,
        app,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=pkce.verifier,
    )


def tokens(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer: dict[str, Any] = response.json()
    return answer


def assert_oauth_error(response: httpx2.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    assert set(response.json()) == {"error", "error_description"}
