"""One database per backend, served in turn by each commit, round after round."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import servers
from bench.ab.checkouts import Checkout
from bench.ab.options import AbOptions
from bench.ab.report import Comparison
from bench.databases import BenchError, Database, open_database
from bench.dataset import BIG_ORG
from bench.fixtures import Fixtures, check, prepare
from bench.progress import say
from bench.report import milliseconds
from bench.scenarios import CREATE, GET, LIST, SEARCH, saturate
from bench.staging import migrate, seed, service_env

# Creates last: they go to an organization of their own, and the reads never follow them
# within one server's run.
SCENARIOS = (GET, LIST, SEARCH, CREATE)


def run_order(rounds: int) -> list[tuple[str, str]]:
    """Old then new in odd rounds, new then old in even ones: neither always goes first."""
    return [("old", "new") if number % 2 == 0 else ("new", "old") for number in range(rounds)]


def compare_on(
    kind: str, checkouts: dict[str, Checkout], options: AbOptions, folder: Path
) -> list[Comparison]:
    """Every scenario on one fresh database of `kind`, measured for each commit."""
    folder.mkdir(parents=True)
    database = open_database(kind, folder)
    try:
        return Rounds(database, checkouts, options, folder).execute()
    finally:
        database.close()


class Rounds:
    def __init__(
        self,
        database: Database,
        checkouts: dict[str, Checkout],
        options: AbOptions,
        folder: Path,
    ) -> None:
        self.database = database
        self.checkouts = checkouts
        self.options = options
        self.folder = folder
        self.secret = secrets.token_urlsafe(48)
        self.env = service_env(database, folder, self.secret)
        self.comparisons = {s.key: Comparison(database.name, s.label) for s in SCENARIOS}

    def execute(self) -> list[Comparison]:
        new, bench = self.checkouts["new"], self.options.bench
        say(self.database.name, f"migrating with {new.label}")
        migrate(new.bindir / "expensicat", self.env, new.folder)
        _, generated = seed(self.database, bench.layout, datetime.now(UTC) - timedelta(days=1))
        assert generated.keys is not None
        fixtures = prepare(self.secret, BIG_ORG, generated.keys, bench.depth, self.folder)
        for number, order in enumerate(run_order(self.options.rounds), 1):
            for role in order:
                self._serve(number, self.checkouts[role], fixtures)
        return list(self.comparisons.values())

    def _serve(self, number: int, checkout: Checkout, fixtures: Fixtures) -> None:
        """Start the commit's server, check its answers, run every scenario, stop it."""
        name, bench = self.database.name, self.options.bench
        say(name, f"round {number}/{self.options.rounds}: {checkout.label}")
        # Each run starts with the previous run's writes on disk, not still to be written.
        self.database.checkpoint()
        log = self.folder / f"{checkout.role}.log"
        try:
            env = {**self.env, **self.options.env[checkout.role]}
            with servers.service(
                env, bench.workers, log, checkout.bindir, checkout.folder
            ) as service:
                check(service.base_url, fixtures)
                for scenario in SCENARIOS:
                    measured = saturate(scenario, service, fixtures, bench.load)
                    self.comparisons[scenario.key].rounds[checkout.role].append(measured)
                    failed = f", {measured.errors:,} errors" if measured.failed else ""
                    say(
                        name,
                        f"  {scenario.label}: {measured.rate:,.0f} req/s, "
                        f"p99 {milliseconds(measured.p99_ms)} ms{failed}",
                    )
        except BenchError as error:
            migrated = self.checkouts["new"].label
            raise BenchError(
                f"{checkout.label} on {name} (migrated by {migrated}): {error}"
            ) from None
