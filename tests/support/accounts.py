"""People who sign in, made for a test in the database of the app under test."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx2
from starlette.testclient import TestClient

from expensicat.db.store import Store
from expensicat.identity.cookies import SIGNIN_COOKIE
from expensicat.identity.service import IdentityService

PASSWORD = "correct horse battery staple"


def store(client: TestClient) -> Store:
    """The store of the app under test."""
    found: Store = client.app.state.database  # type: ignore[attr-defined]
    return found


def identity(client: TestClient) -> IdentityService:
    service: IdentityService = client.app.state.sign_in.identity  # type: ignore[attr-defined]
    return service


def new_user(client: TestClient, *organizations: str, password: str = PASSWORD) -> str:
    """A new user of these organizations; their email."""
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    assert client.portal is not None, "the client must be started (used as a context manager)"
    client.portal.call(identity(client).create_user, email, password, [*organizations])
    return email


def sign_in_page(
    client: TestClient, form: dict[str, str], url: str = "/signin", **kwargs: Any
) -> httpx2.Response:
    """Post the sign-in form as a browser does: after loading the page, with its nonce
    cookie and the form's token (sent by hand: the test client keeps no Secure cookie over
    plain http, and its jar is shared by every test)."""
    page = client.get(url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    headers = {"Cookie": f"{SIGNIN_COOKIE}={page.cookies[SIGNIN_COOKIE]}"}
    return client.post(url, data={**form, "csrf_token": token.group(1)}, headers=headers, **kwargs)
