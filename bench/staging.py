"""A database made ready for the service: migrated, seeded, and the environment to serve
it with."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime
from pathlib import Path

from bench.databases import BenchError, Database
from bench.dataset import BIG_ORG, SEARCH_TERM, CustomerFactory, Generated, Layout
from bench.progress import say


def service_env(database: Database, folder: Path, secret: str) -> dict[str, str]:
    """What `expensicat serve` runs with under load: no rate limit, no access log."""
    return {
        "EXPENSICAT_DATABASE_URL": database.url,
        "EXPENSICAT_DATA_DIR": str(folder),
        "EXPENSICAT_SESSION_SECRET": secret,
        "EXPENSICAT_RATE_LIMIT_PER_SECOND": "0",
        # The access log would dominate; the benchmark measures it once on its own.
        "EXPENSICAT_LOG_LEVEL": "WARNING",
        # The webhook receiver runs on this machine, on plain http.
        "EXPENSICAT_WEBHOOK_ALLOW_HTTP": "true",
        "EXPENSICAT_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    }


def migrate(expensicat: Path, env: dict[str, str], cwd: Path | None = None) -> None:
    """`expensicat db upgrade` with the given program, on the database `env` names."""
    result = subprocess.run(
        [str(expensicat), "db", "upgrade"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    if result.returncode != 0:
        raise BenchError(f"{expensicat} db upgrade failed:\n{result.stdout}{result.stderr}")


def seed(database: Database, layout: Layout, end_of_history: datetime) -> tuple[float, Generated]:
    """Load the customer book; how long it took, and what the big organization holds."""
    name = database.name
    say(name, f"seeding {layout.customers:,} customers over {layout.organizations} orgs")
    started = time.perf_counter()
    factory = CustomerFactory(1, end_of_history)
    generated = Generated()
    database.load(factory.rows(factory.owners(layout), database.stamp, BIG_ORG, generated))
    seconds = time.perf_counter() - started
    say(
        name,
        f"seeded {generated.rows:,} rows in {seconds:.1f} s "
        f"({generated.rows / seconds:,.0f} rows/s); the big org has {layout.big_org:,}, "
        f"{generated.matches:,} of them match q={SEARCH_TERM}",
    )
    return seconds, generated
