"""`expensicat user ...`: people who sign in, managed on the database `serve` uses."""

from __future__ import annotations

import sys

import click
import orjson

from expensicat.cli_common import with_store
from expensicat.db.store import Store
from expensicat.identity.passwords import Passwords
from expensicat.identity.service import IdentityService
from expensicat.identity.store import User
from expensicat.identity.throttle import SignInThrottle
from expensicat.timestamps import timestamp, utc_now


def _service(store: Store) -> IdentityService:
    return IdentityService(store.identity, Passwords(), SignInThrottle())


def _password(from_stdin: bool) -> str:
    """From standard input (its first line), or typed twice at a prompt that hides it."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _shown(user: User) -> str:
    return orjson.dumps(
        {
            "id": user.id,
            "email": user.email,
            "organizations": list(user.organizations),
            "disabled": user.disabled_at is not None,
            "created_at": user.created_at,
        }
    ).decode()


EMAIL = click.option("--email", required=True, help="The address the user signs in with.")
PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input's first line."
)


@click.group()
def user() -> None:
    """People who sign in, and the organizations they belong to."""


@user.command("create")
@click.option(
    "--org", "organizations", required=True, multiple=True, help="An organization (repeatable)."
)
@EMAIL
@PASSWORD_STDIN
def create_user(organizations: tuple[str, ...], email: str, password_stdin: bool) -> None:
    """Create a user in one or more organizations; prints the user as JSON."""
    password = _password(password_stdin)
    created = with_store(
        lambda store: _service(store).create_user(email, password, [*organizations])
    )
    click.echo(_shown(created))


@user.command("list")
def list_users() -> None:
    """Print every user, one JSON object a line."""
    for found in with_store(lambda store: _service(store).users()):
        click.echo(_shown(found))


@user.command("join")
@EMAIL
@click.option("--org", "organization_id", required=True, help="The organization to join.")
def join(email: str, organization_id: str) -> None:
    """Make a user a member of one more organization."""
    with_store(lambda store: _service(store).join(email, organization_id))
    click.echo(f"{email} is a member of {organization_id}.", err=True)


@user.command("disable")
@EMAIL
def disable(email: str) -> None:
    """Stop a user from signing in, and revoke what they granted apps (refresh tokens);
    session and access tokens they hold run out on their own, within the hour."""

    async def disable_and_revoke(store: Store) -> None:
        disabled = await _service(store).disable(email)
        await store.oauth.revoke_grants_of_subject(disabled.id, timestamp(utc_now()))

    with_store(disable_and_revoke)
    click.echo(f"{email} is disabled; the apps they allowed can no longer refresh.", err=True)


@user.command("set-password")
@EMAIL
@PASSWORD_STDIN
def set_password(email: str, password_stdin: bool) -> None:
    """Give a user a new password."""
    password = _password(password_stdin)
    with_store(lambda store: _service(store).set_password(email, password))
    click.echo(f"The password of {email} is changed.", err=True)
