"""The `expensicat` command: serve the API, run the background work, mint session tokens,
migrate the database."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import signal
import socket
from pathlib import Path

import click

from expensicat.auth.session import SESSION_SCOPES, SessionTokens, derive_key
from expensicat.background.worker import run_worker
from expensicat.cli_common import load_settings, migrate_database, session_secret
from expensicat.config import Settings
from expensicat.db import open_store
from expensicat.db.errors import DatabaseUnavailable
from expensicat.envvars import variables
from expensicat.identity.commands import user
from expensicat.logs import configure_logging
from expensicat.oauth.commands import keys, oauth
from expensicat.sealing import Sealer
from expensicat.server import run
from expensicat.webhooks.delivery import Sender
from expensicat.webhooks.dispatch import Dispatcher

# Where `serve`'s workers write their metrics, in the data directory.
METRICS_DIR_NAME = "metrics"


def share_metrics_between_workers(folder: Path) -> None:
    """Have every worker write its metrics into `folder`, emptied first: figures of an
    earlier run would be added to this one's. Set before any worker loads the client."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def require_free_port(host: str, port: int) -> None:
    """Refuse to start on a port another process listens on.

    The server's own workers share their socket (SO_REUSEPORT), which would also let it
    share a port with an unrelated server and split the requests between the two; a plain
    bind, which no listener allows, tells first.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Connections of a server that just stopped may linger in TIME_WAIT: no listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = "it is already in use" if error.errno == errno.EADDRINUSE else error.strerror
            raise click.ClickException(f"Cannot listen on {host} port {port}: {reason}.") from None


def _not_blank(context: click.Context, parameter: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("must not be blank")
    return value


class ServeCommand(click.Command):
    """`serve`, whose help ends with every environment variable the service reads."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Environment variables"):
            formatter.write_text("Values are trimmed; a blank value counts as unset.")
            for variable in variables(Settings):
                formatter.write_paragraph()
                formatter.write_text(variable.name)
                with formatter.indentation():
                    # Markdown in the declarations, for the README; plain text on a terminal.
                    text = f"{variable.meaning}  [default: {variable.default}]"
                    formatter.write_text(text.replace("`", ""))
        super().format_epilog(ctx, formatter)


@click.group()
@click.version_option(package_name="expensicat", message="expensicat %(version)s")
def main() -> None:
    """Expensicat Customers: the customer book, served over HTTP."""


@main.command(cls=ServeCommand)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on; one in use stops the start.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes sharing the port; one per core is a good start.",
)
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Apply pending schema migrations before serving.",
)
def serve(host: str, port: int, workers: int, migrate: bool) -> None:
    """Serve the API."""
    settings = load_settings()
    configure_logging(settings.log)
    require_free_port(host, port)
    session_secret(settings)
    if migrate:
        migrate_database(settings)
    if settings.metrics.enabled:
        share_metrics_between_workers(settings.data_dir / METRICS_DIR_NAME)
    run(
        "expensicat.api.app:create_app_from_env",
        host=host,
        port=port,
        workers=workers,
        factory=True,
        log_level=settings.log.level,
    )


@main.command()
def worker() -> None:
    """Run the background work alone (housekeeping), until SIGTERM or SIGINT.

    Every `serve` also offers to run it; one process per host does, under a lease in the
    data directory, so a worker started here takes it while no server holds it.
    """
    settings = load_settings()
    configure_logging(settings.log)
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        store = await open_store(settings.database)
    except DatabaseUnavailable as error:
        raise click.ClickException(f"Cannot reach the database: {error}") from None
    sealer = Sealer(derive_key(session_secret(settings), "sealing"))
    sender = Sender(settings.webhooks.networks, settings.webhooks.timeout_seconds)
    dispatcher = Dispatcher(store.webhooks, sender, sealer, settings.webhooks.policy)
    try:
        await run_worker(
            settings.data_dir, store, settings.changes.retention, stop, dispatcher=dispatcher
        )
    finally:
        await sender.close()
        await store.close()


@main.group()
def token() -> None:
    """Session tokens."""


@token.command("create")
@click.option(
    "--org", "organization_id", required=True, callback=_not_blank, help="Organization id (org_id)."
)
@click.option("--user", "user_id", required=True, callback=_not_blank, help="User id (sub).")
@click.option(
    "--ttl",
    default=3600,
    show_default=True,
    type=click.IntRange(1),
    help="Lifetime in seconds. Servers allow 60 s of clock skew, so a token lives up to a "
    "minute past its expiry.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(sorted(SESSION_SCOPES)),
    help="Restrict the token to this scope (repeatable); by default it may read and write.",
)
def create_token(organization_id: str, user_id: str, ttl: int, scopes: tuple[str, ...]) -> None:
    """Print a session JWT signed with the server's secret."""
    settings = load_settings()
    secret = session_secret(settings, create=False)
    source = (
        "EXPENSICAT_SESSION_SECRET"
        if settings.session.secret is not None
        else str(settings.session_secret_file)
    )
    click.echo(f"Signed with the session secret from {source}.", err=True)
    tokens = SessionTokens(secret, settings.session.issuer, settings.session.audience)
    click.echo(tokens.issue(organization_id, user_id, ttl, frozenset(scopes) or None))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations."""
    settings = load_settings()
    configure_logging(settings.log)
    migrate_database(settings)
    click.echo("Database schema is up to date.")


main.add_command(user)
main.add_command(oauth)
main.add_command(keys)
