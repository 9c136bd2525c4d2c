"""Apps of their own: the real application built from settings a test chooses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.testclient import TestClient

from expensicat.api.app import create_app
from expensicat.config import Settings
from tests.conftest import Api, make_settings, statement_cache
from tests.support.jwks import AUDIENCE, ISSUER
from tests.support.tokens import bearer


@contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    """A client for the app built from `settings`, started and stopped like a server."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def signed_in(client: TestClient, org: str, token: str) -> Api:
    """An Api helper that presents `token` instead of a session for `org`."""
    api = Api(client, org)
    api.headers = bearer(token)
    return api


def oauth2_settings(backend: Settings, data_dir: Path, jwks_url: str) -> Settings:
    """The backend's database, with OAuth2 access tokens from `jwks_url` accepted."""
    return make_settings(
        backend.database.url,
        data_dir,
        db_statement_cache=statement_cache(backend),
        oauth2_jwks_url=jwks_url,
        oauth2_issuer=ISSUER,
        oauth2_audience=AUDIENCE,
    )
