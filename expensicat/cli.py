"""The `expensicat` command: serve the API, mint session tokens, migrate the database."""

from __future__ import annotations

import click

from expensicat.auth.session import SessionTokens
from expensicat.config import ConfigError, Settings
from expensicat.db.migrate import upgrade
from expensicat.logs import configure_logging
from expensicat.server import run


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def main() -> None:
    """Expensicat Customers: the customer book, served over HTTP."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Apply pending schema migrations before serving.",
)
def serve(host: str, port: int, workers: int, migrate: bool) -> None:
    """Serve the API."""
    settings = load_settings()
    configure_logging(settings.log_level)
    try:
        if migrate:
            upgrade(settings)
        settings.resolve_session_secret()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    run(
        "expensicat.api.app:create_app_from_env",
        host=host,
        port=port,
        workers=workers,
        factory=True,
        log_level=settings.log_level,
    )


@main.group()
def token() -> None:
    """Session tokens."""


@token.command("create")
@click.option("--org", "organization_id", required=True, help="Organization id (org_id).")
@click.option("--user", "user_id", required=True, help="User id (sub).")
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(1), help="Seconds.")
def create_token(organization_id: str, user_id: str, ttl: int) -> None:
    """Print a session JWT signed with the configured secret."""
    settings = load_settings()
    try:
        secret = settings.resolve_session_secret()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    tokens = SessionTokens(secret, settings.session_issuer, settings.session_audience)
    click.echo(tokens.issue(organization_id, user_id, ttl))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations."""
    settings = load_settings()
    configure_logging(settings.log_level)
    upgrade(settings)
    click.echo("Database schema is up to date.")
