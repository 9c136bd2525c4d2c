"""`expensicat oauth client ...` and `expensicat keys rotate`, on the database `serve` uses."""

from __future__ import annotations

from typing import Any

import click
import orjson

from expensicat.auth.session import derive_key
from expensicat.cli_common import load_settings, session_secret, with_store
from expensicat.db.store import Store
from expensicat.oauth import clients
from expensicat.oauth.keys import new_key
from expensicat.oauth.records import Client
from expensicat.sealing import Sealer


def _shown(client: Client, secret: str | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "client_id": client.id,
        "name": client.name,
        "type": "confidential" if client.confidential else "public",
        "redirect_uris": list(client.redirect_uris),
        "organization_id": client.organization_id,
        "created_at": client.created_at,
    }
    if secret is not None:
        shown["client_secret"] = secret
    return shown


def _echo(value: dict[str, Any]) -> None:
    click.echo(orjson.dumps(value).decode())


@click.group()
def oauth() -> None:
    """The built-in OAuth2 authorization server."""


@oauth.group("client")
def client() -> None:
    """Applications that may ask people for access (OAuth2 clients)."""


@client.command("create")
@click.option("--name", required=True, help="Shown to people on the consent page.")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="Where codes are sent, matched exactly (repeatable).",
)
@click.option("--public", is_flag=True, help="A client that cannot keep a secret (app, SPA).")
@click.option(
    "--org",
    "organization_id",
    help="The organization a confidential client acts for with client_credentials.",
)
def create_client(
    name: str, redirect_uris: tuple[str, ...], public: bool, organization_id: str | None
) -> None:
    """Register a client; prints it as JSON, with its secret (shown this once)."""
    uris = [*redirect_uris]
    registered = with_store(
        lambda store: clients.register(store.oauth, name, uris, public, organization_id)
    )
    _echo(_shown(registered.client, registered.secret))


@client.command("list")
def list_clients() -> None:
    """Print every client, one JSON object a line (never a secret)."""
    for found in with_store(lambda store: store.oauth.clients()):
        _echo(_shown(found))


@client.command("delete")
@click.argument("client_id")
def delete_client(client_id: str) -> None:
    """Remove a client: its codes and refresh tokens stop working."""
    with_store(lambda store: clients.delete(store.oauth, client_id))
    click.echo(f"Client {client_id} is deleted.", err=True)


@client.command("rotate-secret")
@click.argument("client_id")
def rotate_secret(client_id: str) -> None:
    """Give a confidential client a new secret; the old one stops working at once."""
    secret = with_store(lambda store: clients.rotate_secret(store.oauth, client_id))
    _echo({"client_id": client_id, "client_secret": secret})


@click.group()
def keys() -> None:
    """The authorization server's signing keys."""


@keys.command("rotate")
def rotate_keys() -> None:
    """Add a signing key; servers sign with it within a minute, and keep publishing the
    old one until every token it signed has expired."""
    sealer = Sealer(derive_key(session_secret(load_settings(), create=False), "sealing"))

    async def add(store: Store) -> str:
        key = new_key(sealer)
        await store.oauth.insert_signing_key(key)
        return key.kid

    click.echo(orjson.dumps({"kid": with_store(add)}).decode())
