"""Settings, read once from `EXPENSICAT_*` environment variables, one section per component.

Each variable is declared once, as a field with its name, type, default and meaning; the
README's configuration table and `expensicat serve --help` are rendered from those fields.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, ValidationError, model_validator

from expensicat.envvars import (
    PREFIX,
    Flag,
    Positive,
    Section,
    ZeroOrPositive,
    check,
    explain,
    refused,
    setting,
)
from expensicat.webhooks.addresses import IPNetwork, networks
from expensicat.webhooks.policy import DEFAULT_SCHEDULE, DEFAULT_TIMEOUT_SECONDS, DeliveryPolicy

DEFAULT_DATA_DIR = Path("data")
SECRET_FILE_NAME = "session-secret"
MIN_SECRET_LENGTH = 32
# Buckets count time in microseconds, so one token per microsecond is the finest rate.
MAX_RATE_LIMIT_PER_SECOND = 1_000_000
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """The environment asks for something unsafe or malformed; the service refuses to start."""


def _names_a_database(url: str) -> bool:
    names_a_file = url.startswith("sqlite:///") and url != "sqlite:///"
    return names_a_file or url.startswith(("postgresql:", "postgres:"))


DatabaseUrl = Annotated[
    str, check(_names_a_database, "must be sqlite:///path/to/file.db or postgresql://...")
]
RedisUrl = Annotated[
    str,
    check(
        lambda url: url.startswith(REDIS_SCHEMES), "must start with redis://, rediss:// or unix://"
    ),
]


def _origins(listed: str) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in listed.split(",") if origin.strip())


# An origin is a scheme, a host and maybe a port: no path, no trailing slash, no wildcard.
_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)
CorsOrigins = Annotated[
    str,
    check(
        lambda listed: all(_ORIGIN.fullmatch(origin) for origin in _origins(listed)),
        "must be exact origins such as https://app.example.com, separated by commas",
    ),
]
_LISTEN = re.compile(r"on|off|(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}")
MetricsListen = Annotated[
    str,
    AfterValidator(str.lower),
    check(lambda value: bool(_LISTEN.fullmatch(value)), "must be on, off or HOST:PORT"),
]
LogFormat = Annotated[str, check(("text", "json").__contains__, "must be text or json")]
LogLevel = Annotated[
    str,
    AfterValidator(str.upper),
    check(LOG_LEVELS.__contains__, "must be DEBUG, INFO, WARNING or ERROR"),
]


class DatabaseSettings(Section):
    """Where customers are stored, and how the PostgreSQL store talks to its server."""

    # Required here: from_env puts the embedded database in DATA_DIR when the URL is unset.
    url: DatabaseUrl = setting(
        "DATABASE_URL", ...,
        "`sqlite:///path/to/file.db` (relative to the working folder; an absolute path takes "
        "four slashes: `sqlite:////var/lib/expensicat/customers.db`) or "
        "`postgresql://user:password@host:5432/db` (on the same machine, its Unix socket: "
        "`postgresql://user:password@/db?host=/var/run/postgresql`)",
        shown="`sqlite:///data/expensicat.db` (inside `EXPENSICAT_DATA_DIR`)",
    )  # fmt: skip
    pool_size: Positive = setting(
        "DB_POOL_SIZE", 8,
        "PostgreSQL connections per worker process. With more statements in flight a worker "
        "takes several answers per wake-up: on 2 cores shared with PostgreSQL, reads by id "
        "went from about 7,800 to 8,500 a second at 8 against 4, and no further at 16. Name "
        "searches take turns within it (`EXPENSICAT_DB_SEARCHES`)",
    )  # fmt: skip
    searches: Positive = setting(
        "DB_SEARCHES", 2,
        "name searches (`q`) each worker process runs on PostgreSQL at once; the others wait "
        "their turn, within the statement timeout. Many at once share the database's cores "
        "and all finish late: on 2 cores, `q=acm` p99 49–55 ms at 2, 67–69 ms at 4, 90–93 ms "  # noqa: RUF001
        "with no bound and 8 connections",
    )  # fmt: skip
    statement_cache: Flag = setting(
        "DB_STATEMENT_CACHE", True,
        "prepared-statement cache; set `false` behind PgBouncer in transaction mode",
    )  # fmt: skip
    statement_timeout_ms: Positive = setting(
        "STATEMENT_TIMEOUT_MS", 5000,
        "upper bound on every database statement and on waiting for a connection",
    )  # fmt: skip

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        """The database file named by a `sqlite:///path` URL."""
        return Path(self.url.removeprefix("sqlite:///"))


class SessionSettings(Section):
    """Session tokens: the service's own JWTs, signed with a shared secret."""

    secret: Annotated[str, Field(min_length=MIN_SECRET_LENGTH)] | None = setting(
        "SESSION_SECRET", None,
        f"HS256 secret for session tokens, at least {MIN_SECRET_LENGTH} characters. Unset with "
        f"SQLite: generated on first start into a `{SECRET_FILE_NAME}` file (mode 0600) beside "
        f"the database file, `DATA_DIR/{SECRET_FILE_NAME}` by default. Required with "
        "PostgreSQL, identical on every instance",
        shown="generated",
    )  # fmt: skip
    issuer: str | None = setting(
        "SESSION_ISSUER", None,
        "when set, session tokens must carry this `iss` (and `token create` sets it)",
    )  # fmt: skip
    audience: str | None = setting(
        "SESSION_AUDIENCE", None, "when set, session tokens must carry this `aud`"
    )


class OAuth2Settings(Section):
    """Access tokens from an external authorization server; off unless all three are set."""

    jwks_url: str | None = setting(
        "OAUTH2_JWKS_URL", None,
        "the authorization server's JWKS; setting it (with the two below) accepts OAuth2 "
        "access tokens",
    )  # fmt: skip
    issuer: str | None = setting("OAUTH2_ISSUER", None, "the `iss` access tokens must carry")
    audience: str | None = setting(
        "OAUTH2_AUDIENCE", None, "a value access tokens' `aud` must contain"
    )

    @model_validator(mode="after")
    def _all_or_none(self) -> Self:
        given = (self.jwks_url, self.issuer, self.audience)
        if any(given) and not all(given):
            raise refused(
                "OAuth2 needs all of EXPENSICAT_OAUTH2_JWKS_URL, EXPENSICAT_OAUTH2_ISSUER "
                "and EXPENSICAT_OAUTH2_AUDIENCE"
            )
        return self


_ISSUER = re.compile(r"https?://[^\s?#]+")
IssuerUrl = Annotated[
    str,
    AfterValidator(lambda url: url.rstrip("/")),
    check(
        lambda url: bool(_ISSUER.fullmatch(url)),
        "must be the server's public URL, such as https://customers.example.com",
    ),
]


class AuthorizationServerSettings(Section):
    """The built-in OAuth2 authorization server: its name and the lifetimes of its tokens."""

    issuer: IssuerUrl = setting(
        "AUTH_ISSUER", "http://127.0.0.1:8000",
        "the server's public URL, as browsers and clients reach it: the `iss` of the access "
        "tokens it issues (and their `aud`) and the base of the URLs its metadata lists",
    )  # fmt: skip
    access_token_ttl_seconds: Annotated[Positive, Field(le=3600)] = setting(
        "AUTH_ACCESS_TOKEN_TTL_SECONDS", 900,
        "lifetime of the access tokens it issues, at most an hour; revoking a grant stops its "
        "refresh tokens at once, while its access tokens run out within this time",
    )  # fmt: skip
    refresh_token_ttl_days: Positive = setting(
        "AUTH_REFRESH_TOKEN_TTL_DAYS", 30,
        "lifetime of each refresh token; every refresh answers a new one",
    )  # fmt: skip


class HttpSettings(Section):
    """Limits on what a request may send."""

    max_body_bytes: Positive = setting("MAX_BODY_BYTES", 65536, "largest accepted request body")
    cors_origins: CorsOrigins = setting(
        "CORS_ORIGINS", "",
        "browser origins allowed to call the API from their pages, comma-separated and matched "
        "exactly (`https://app.example.com,http://localhost:5173`); none by default",
        shown="none",
    )  # fmt: skip

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return _origins(self.cors_origins)


class RateLimitSettings(Section):
    """Each organization's request budget, and where the buckets holding it are shared."""

    per_second: Annotated[ZeroOrPositive, Field(le=MAX_RATE_LIMIT_PER_SECOND)] = setting(
        "RATE_LIMIT_PER_SECOND", 100,
        "requests per second each organization may make, as a sustained rate; `0` turns rate "
        "limiting off",
    )  # fmt: skip
    burst: Positive = setting(
        "RATE_LIMIT_BURST", 200,
        "requests an organization may make at once before the sustained rate applies",
    )  # fmt: skip
    redis_url: RedisUrl | None = setting(
        "REDIS_URL", None,
        "`redis://host:6379/0`: share the budgets of several hosts through Redis; unset, the "
        "worker processes of one host share them through a file in `DATA_DIR`",
    )  # fmt: skip


class MetricsSettings(Section):
    """Prometheus metrics: on the API's port, on an address of their own, or off."""

    listen: MetricsListen = setting(
        "METRICS", "on",
        "`on` serves Prometheus metrics at `/metrics` on the API's port; `HOST:PORT` serves "
        "them there instead (by one process per host); `off` turns them off. They hold no "
        "organization or personal data",
    )  # fmt: skip

    @property
    def enabled(self) -> bool:
        return self.listen != "off"

    @property
    def address(self) -> tuple[str, int] | None:
        """The separate address to serve them on; None for the API's own port."""
        if self.listen in ("on", "off"):
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class ChangesSettings(Section):
    """How long the changes feed keeps each change."""

    retention_days: Positive = setting(
        "CHANGES_RETENTION_DAYS", 30,
        "days each change stays in the changes feed; a cursor whose next changes were "
        "purged is a 410 `CURSOR_EXPIRED`, and its client resyncs",
    )  # fmt: skip

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)


def _cidrs(listed: str) -> bool:
    try:
        networks(listed)
    except ValueError:
        return False
    return True


def _seconds(listed: str) -> bool:
    try:
        return all(float(part) > 0 for part in listed.split(","))
    except ValueError:
        return False


Networks = Annotated[
    str, check(_cidrs, "must be CIDRs separated by commas, such as 127.0.0.1/32,10.1.0.0/16")
]
Schedule = Annotated[
    str, check(_seconds, "must be positive numbers of seconds separated by commas, such as 1,2,4")
]


class WebhookSettings(Section):
    """Delivering webhooks: where from, where to, and how persistently."""

    worker: Flag = setting(
        "WEBHOOK_WORKER", True,
        "deliver webhooks from `serve` itself (in one process per host); `false` where "
        "`expensicat worker` processes deliver them instead",
    )  # fmt: skip
    allow_http: Flag = setting(
        "WEBHOOK_ALLOW_HTTP", False,
        "accept `http://` endpoint URLs, for development and tests; otherwise https only",
    )  # fmt: skip
    allowed_networks: Networks = setting(
        "WEBHOOK_ALLOWED_NETWORKS", "",
        "CIDRs that deliveries may reach although they are loopback, private, link-local or "
        "otherwise not public (on-premises receivers); none by default",
        shown="none",
    )  # fmt: skip
    retry_schedule: Schedule = setting(
        "WEBHOOK_RETRY_SCHEDULE", ",".join(str(s) for s in DEFAULT_SCHEDULE),
        "seconds to wait before each retry of a failed delivery (jittered by a fifth); after "
        "the last, the event is marked failed",
    )  # fmt: skip
    disable_after_seconds: Positive = setting(
        "WEBHOOK_DISABLE_AFTER_SECONDS", 5 * 24 * 3600,
        "an endpoint whose every delivery failed for this long is disabled, with the reason",
    )  # fmt: skip
    concurrency: Positive = setting(
        "WEBHOOK_CONCURRENCY", 10, "deliveries in flight at once to each endpoint"
    )  # fmt: skip
    timeout_seconds: Positive = setting(
        "WEBHOOK_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS,
        "a delivery not answered within this long failed, and is retried; a worker that "
        "dies while sending frees its deliveries after three times this",
    )  # fmt: skip

    @property
    def networks(self) -> tuple[IPNetwork, ...]:
        return networks(self.allowed_networks)

    @property
    def policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            schedule=tuple(float(part) for part in self.retry_schedule.split(",")),
            disable_after=timedelta(seconds=self.disable_after_seconds),
            concurrency=self.concurrency,
            timeout=self.timeout_seconds,
        )


class LogSettings(Section):
    """What goes to standard error."""

    level: LogLevel = setting(
        "LOG_LEVEL", "INFO",
        "`DEBUG`, `INFO` (one access-log line per request), `WARNING` or `ERROR`",
    )  # fmt: skip
    format: LogFormat = setting(
        "LOG_FORMAT", "text",
        "`text` (one plain line per event) or `json` (one JSON object per line, for log "
        "collectors: time, level, logger, message, and for each request its id, method, route "
        "template, status, duration in ms, organization and the token's user or client)",
    )  # fmt: skip


class Settings(Section):
    """Everything the service reads from its environment; each component gets its section."""

    data_dir: Path = setting(
        "DATA_DIR", DEFAULT_DATA_DIR,
        "folder for the embedded database and the generated session secret",
    )  # fmt: skip
    database: DatabaseSettings
    session: SessionSettings
    oauth2: OAuth2Settings
    authorization_server: AuthorizationServerSettings
    http: HttpSettings
    rate_limit: RateLimitSettings
    metrics: MetricsSettings
    changes: ChangesSettings
    webhooks: WebhookSettings
    log: LogSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `env` (the process environment by default); blank means unset."""
        env = os.environ if env is None else env
        variables = {
            name: value.strip()
            for name, value in env.items()
            if name.startswith(PREFIX) and value.strip()
        }
        data_dir = Path(variables.get(f"{PREFIX}DATA_DIR", DEFAULT_DATA_DIR))
        variables.setdefault(f"{PREFIX}DATABASE_URL", f"sqlite:///{data_dir / 'expensicat.db'}")
        # Each section picks its own variables out of the same mapping.
        values: dict[str, Any] = {**variables, **dict.fromkeys(cls.sections(), variables)}
        try:
            return cls(**values)
        except ValidationError as error:
            raise ConfigError(explain(error)) from None

    @property
    def session_secret_file(self) -> Path:
        """Where the generated secret is kept: beside the embedded database."""
        return self.database.sqlite_path.parent / SECRET_FILE_NAME

    def resolve_session_secret(self, create: bool = True) -> str:
        """The configured secret, or one generated once and kept beside the embedded database.

        Every process that shares the data directory reads the same file, so `serve` workers
        and `token create` agree without any set-up. Only a server creates the file: a
        secret made elsewhere would sign tokens that no server accepts.
        """
        if self.session.secret is not None:
            return self.session.secret
        if not self.database.is_sqlite:
            raise ConfigError("EXPENSICAT_SESSION_SECRET must be set when using PostgreSQL")
        path = self.session_secret_file
        if not path.exists():
            if not create:
                raise ConfigError(
                    f"No session secret: EXPENSICAT_SESSION_SECRET is unset and {path} does not "
                    "exist. Start the server once (it creates the file), run this from the "
                    "server's folder, or set EXPENSICAT_DATA_DIR or EXPENSICAT_SESSION_SECRET "
                    "as the server has them"
                )
            _create_secret_file(path)
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"{path} holds fewer than {MIN_SECRET_LENGTH} characters; "
                "delete it to have a new secret generated"
            )
        return secret


def _create_secret_file(path: Path) -> None:
    """Write a fresh secret under a temporary name, then link it into place.

    The link fails if another process won the race, so every process ends up reading
    the same complete file and never a half-written one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(48))
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
