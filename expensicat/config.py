"""Settings, read once from `EXPENSICAT_*` environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SECRET_FILE_NAME = "session-secret"
MIN_SECRET_LENGTH = 32
# Buckets count time in microseconds, so one token per microsecond is the finest rate.
MAX_RATE_LIMIT_PER_SECOND = 1_000_000
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class ConfigError(Exception):
    """The environment asks for something unsafe or malformed; the service refuses to start."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    data_dir: Path
    session_secret: str | None
    session_issuer: str | None
    session_audience: str | None
    oauth2_jwks_url: str | None
    oauth2_issuer: str | None
    oauth2_audience: str | None
    max_body_bytes: int
    db_pool_size: int
    db_statement_cache: bool
    statement_timeout_ms: int
    log_level: str
    rate_limit_per_second: int
    rate_limit_burst: int
    redis_url: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(f"EXPENSICAT_{name}", "").strip()
            return value or None

        data_dir = Path(get("DATA_DIR") or "data")
        settings = cls(
            database_url=get("DATABASE_URL") or f"sqlite:///{data_dir / 'expensicat.db'}",
            data_dir=data_dir,
            session_secret=get("SESSION_SECRET"),
            session_issuer=get("SESSION_ISSUER"),
            session_audience=get("SESSION_AUDIENCE"),
            oauth2_jwks_url=get("OAUTH2_JWKS_URL"),
            oauth2_issuer=get("OAUTH2_ISSUER"),
            oauth2_audience=get("OAUTH2_AUDIENCE"),
            max_body_bytes=_positive_int("MAX_BODY_BYTES", get("MAX_BODY_BYTES"), 65536),
            db_pool_size=_positive_int("DB_POOL_SIZE", get("DB_POOL_SIZE"), 4),
            db_statement_cache=_flag("DB_STATEMENT_CACHE", get("DB_STATEMENT_CACHE"), True),
            statement_timeout_ms=_positive_int(
                "STATEMENT_TIMEOUT_MS", get("STATEMENT_TIMEOUT_MS"), 5000
            ),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            rate_limit_per_second=_rate(get("RATE_LIMIT_PER_SECOND")),
            rate_limit_burst=_positive_int("RATE_LIMIT_BURST", get("RATE_LIMIT_BURST"), 200),
            redis_url=get("REDIS_URL"),
        )
        settings.check()
        return settings

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        """The database file named by a `sqlite:///path` URL."""
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def oauth2_enabled(self) -> bool:
        return self.oauth2_jwks_url is not None

    def check(self) -> None:
        names_a_file = (
            self.database_url.startswith("sqlite:///") and self.database_url != "sqlite:///"
        )
        if not (names_a_file or self.database_url.startswith(("postgresql:", "postgres:"))):
            raise ConfigError(
                "EXPENSICAT_DATABASE_URL must be sqlite:///path/to/file.db or postgresql://..."
            )
        if self.session_secret is not None and len(self.session_secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"EXPENSICAT_SESSION_SECRET must be at least {MIN_SECRET_LENGTH} characters long"
            )
        oauth2 = (self.oauth2_jwks_url, self.oauth2_issuer, self.oauth2_audience)
        if any(oauth2) and not all(oauth2):
            raise ConfigError(
                "OAuth2 needs all of EXPENSICAT_OAUTH2_JWKS_URL, EXPENSICAT_OAUTH2_ISSUER "
                "and EXPENSICAT_OAUTH2_AUDIENCE"
            )
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError("EXPENSICAT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        if self.rate_limit_per_second > MAX_RATE_LIMIT_PER_SECOND:
            raise ConfigError(
                f"EXPENSICAT_RATE_LIMIT_PER_SECOND must be at most {MAX_RATE_LIMIT_PER_SECOND}"
            )
        if self.redis_url is not None and not self.redis_url.startswith(REDIS_SCHEMES):
            raise ConfigError("EXPENSICAT_REDIS_URL must start with redis://, rediss:// or unix://")

    def resolve_session_secret(self) -> str:
        """The configured secret, or one generated once and kept beside the embedded database.

        Every process that shares the data directory reads the same file, so `serve` workers
        and `token create` agree without any set-up.
        """
        if self.session_secret is not None:
            return self.session_secret
        if not self.is_sqlite:
            raise ConfigError("EXPENSICAT_SESSION_SECRET must be set when using PostgreSQL")
        path = self.sqlite_path.parent / SECRET_FILE_NAME
        if not path.exists():
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


def _positive_int(name: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"EXPENSICAT_{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"EXPENSICAT_{name} must be greater than zero")
    return value


def _rate(raw: str | None) -> int:
    """Requests per second per organization; 0 turns rate limiting off."""
    if raw is not None and raw.isdigit() and int(raw) == 0:
        return 0
    return _positive_int("RATE_LIMIT_PER_SECOND", raw, 100)


def _flag(name: str, raw: str | None, default: bool) -> bool:
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"EXPENSICAT_{name} must be true or false, got {raw!r}")
