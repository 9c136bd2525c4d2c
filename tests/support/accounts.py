"""People who sign in, made for a test in the database of the app under test."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

from expensicat.db.store import Store
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
