"""An authorization server of our own, and apps that trust it, on every backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from expensicat.config import Settings
from tests.support.apps import oauth2_settings, serving
from tests.support.jwks import (
    JwksServer,
    SigningKey,
    ec_key,
    ed25519_key,
    rsa_key,
)


@pytest.fixture(scope="session")
def signing_keys() -> dict[str, SigningKey]:
    """One published key per accepted algorithm (RSA keys are slow to make: once per run)."""
    return {key.algorithm: key for key in (rsa_key("rsa-1"), ec_key("ec-1"), ed25519_key("ed-1"))}


@pytest.fixture(scope="module")
def jwks(signing_keys: dict[str, SigningKey]) -> Iterator[JwksServer]:
    server = JwksServer()
    server.publish(*signing_keys.values())
    with server.running():
        yield server


@pytest.fixture(scope="module")
def oauth2_client(
    backend_settings: Settings, jwks: JwksServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = oauth2_settings(backend_settings, tmp_path_factory.mktemp("oauth2"), jwks.url)
    with serving(settings) as client:
        yield client
