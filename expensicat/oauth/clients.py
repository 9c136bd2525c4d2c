"""Registering OAuth2 clients: their redirect URIs checked, their secrets shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from expensicat.errors import NotFound, ValidationFailed
from expensicat.oauth.records import Client
from expensicat.oauth.store import OAuthStore
from expensicat.oauth.tokens import digest, new_secret
from expensicat.timestamps import timestamp, utc_now

LOOPBACK_HOSTS = {"127.0.0.1", "[::1]", "::1", "localhost"}


class NoSuchClient(NotFound):
    resource = "client"


@dataclass(frozen=True, slots=True)
class Registered:
    client: Client
    secret: str | None  # shown this once; only its digest is kept


def redirect_uri_problems(uri: str) -> list[str]:
    """https, or http to a loopback address (a native app, RFC 8252); never a fragment."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        return [f"{uri}: a redirect URI has no fragment."]
    if parts.scheme == "https" and parts.hostname:
        return []
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return []
    return [f"{uri}: must be https://, or http:// to a loopback address."]


async def register(
    store: OAuthStore,
    name: str,
    redirect_uris: list[str],
    public: bool,
    organization_id: str | None,
) -> Registered:
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name"] = ["Must not be blank."]
    uri_problems = [problem for uri in redirect_uris for problem in redirect_uri_problems(uri)]
    if uri_problems:
        problems["redirect-uri"] = uri_problems
    if public and not redirect_uris:
        problems["redirect-uri"] = ["A public client needs at least one."]
    if public and organization_id is not None:
        problems["org"] = ["Only a confidential client acts for an organization on its own."]
    if problems:
        raise ValidationFailed(problems)
    secret = None if public else new_secret()
    client = Client(
        id="ec_" + secrets.token_urlsafe(16),
        name=name.strip(),
        redirect_uris=tuple(dict.fromkeys(redirect_uris)),
        organization_id=organization_id,
        created_at=timestamp(utc_now()),
        secret_hash=None if secret is None else digest(secret),
    )
    await store.insert_client(client)
    return Registered(client, secret)


async def rotate_secret(store: OAuthStore, client_id: str) -> str:
    """A new secret for a confidential client; the old one stops working at once."""
    secret = new_secret()
    if not await store.set_client_secret(client_id, digest(secret)):
        raise NoSuchClient
    return secret


async def delete(store: OAuthStore, client_id: str) -> None:
    if not await store.delete_client(client_id):
        raise NoSuchClient
