"""One benchmark run on one database: migrate, seed, serve, load, measure."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import oauth, paced, servers, webhooks, wrk
from bench.databases import Database, open_database
from bench.dataset import (
    ABSENT_TERM,
    BIG_ORG,
    COMMON_TERMS,
    HUGE_ORG,
    SEARCH_TERM,
    SEARCH_TERMS,
    SPARSE_TERM,
    CustomerFactory,
    Generated,
    without_terms,
)
from bench.erasure import erase_note
from bench.fixtures import (
    API,
    Fixtures,
    check,
    check_deep,
    feed_head_cursor,
    prepare,
    sample_customer,
    session_token,
)
from bench.floor import PATH as FLOOR_PATH
from bench.options import TARGETS, Options
from bench.progress import say
from bench.report import (
    ABSENT_LIMIT,
    DEPTH_LIMIT,
    IMPORT_LIMIT,
    OAUTH_GET_LIMIT,
    RSS_LIMIT_MB,
    SCALE_LIMIT,
    SEED_LIMIT_SECONDS,
    WEBHOOK_CREATE_LIMIT,
    WEBHOOK_RATE_TARGET,
    BackendReport,
    Row,
    combined,
    cost_note,
    soak_note,
    verdict,
)
from bench.scenarios import (
    CREATE,
    FEED_WALK,
    GET,
    LIST,
    NAME_WALK,
    SEARCH,
    WALK,
    Scenario,
    feed_head,
    filter_scenarios,
    saturate,
    search,
)
from bench.servers import Server
from bench.staging import migrate, seed, service_env
from expensicat.timestamps import timestamp, utc_now

SOAK_SAMPLE_SECONDS = 60


def run_backend(kind: str, options: Options, folder: Path) -> BackendReport:
    folder.mkdir(parents=True)
    database = open_database(kind, folder)
    try:
        return Run(database, options, folder).execute()
    finally:
        database.close()


class Run:
    def __init__(self, database: Database, options: Options, folder: Path) -> None:
        self.database = database
        self.options = options
        self.folder = folder
        self.secret = secrets.token_urlsafe(48)
        self.env = service_env(database, folder, self.secret)
        self.targets = TARGETS.get(database.name, {})
        self.end_of_history = datetime.now(UTC) - timedelta(days=1)

    def execute(self) -> BackendReport:
        migrate(servers.BIN / "expensicat", self.env)
        seconds, generated = seed(self.database, self.options.layout, self.end_of_history)
        assert generated.keys is not None
        report = BackendReport(self.database.name, generated.rows, seconds)
        report.notes.append(
            f"seeding {generated.rows:,} customers took {seconds:.1f} s "
            f"(limit {SEED_LIMIT_SECONDS} s: {verdict(seconds, SEED_LIMIT_SECONDS)})"
        )
        fixtures = prepare(self.secret, BIG_ORG, generated.keys, self.options.depth, self.folder)
        floor, steady_floor = self._floor(report)
        with self._service("service.log") as service:
            check(service.base_url, fixtures)
            check_deep(service.base_url, fixtures)
            self._saturate(service, fixtures, floor, report)
            report.notes.append(erase_note(service.base_url, fixtures.writer_token))
            self._steady(service, fixtures, steady_floor, report)
            self._scale(service, fixtures, floor, report)
            self._oauth(service, fixtures, floor, report)
            self._bulk_import(service, fixtures, floor, report)
            if self.options.soak_minutes:
                self._soak(service, fixtures, floor, report)
            rss = service.worker_rss_mb()
        report.notes.append(
            "worker RSS after the run: "
            + ", ".join(f"{mb:.0f} MB" for mb in rss)
            + f" (limit {RSS_LIMIT_MB} MB: {verdict(max(rss), RSS_LIMIT_MB)})"
        )
        if not self.options.quick:
            self._access_log(fixtures, floor, report)
        return report

    def _floor(self, report: BackendReport) -> tuple[wrk.Measurement, wrk.Measurement]:
        with servers.floor(self.options.workers, self.folder / "floor.log") as floor:
            say(self.database.name, "measuring the static floor")
            saturated = wrk.run(
                "base.lua", floor.base_url + FLOOR_PATH, self.options.load, {}, floor.cpu_seconds
            )
            steady = paced.run(floor.port, lambda: FLOOR_PATH, None, self.options.steady)
        report.rows.append(Row("static floor", saturated, saturated))
        report.rows.append(Row(f"static floor @{self.options.steady.rate}/s", steady, steady))
        return saturated, steady

    def _checkpoint(self) -> None:
        """Before each run of creates: one that began in the middle of a checkpoint would pay
        for pages written in full the first time they change after it, and the other not,
        so the two could not be compared."""
        say(self.database.name, "checkpoint")
        self.database.checkpoint()

    def _service(self, log: str, **env: str) -> Server:
        return servers.service({**self.env, **env}, self.options.workers, self.folder / log)

    def _scenarios(self, base_url: str, fixtures: Fixtures) -> Iterator[Scenario]:
        """The scenarios in the order they run; those of the feed after the creates, whose
        changes they read."""
        deep = Scenario(
            "deep",
            f"deep page (depth {self.options.depth:,})",
            "base.lua",
            f"{API}?cursor={fixtures.deep_cursor}",
        )
        yield from (GET, LIST, SEARCH, WALK, NAME_WALK, deep)
        yield from filter_scenarios(sample_customer(base_url, fixtures))
        yield CREATE
        yield feed_head(feed_head_cursor(base_url, fixtures))
        yield FEED_WALK

    def _saturate(
        self, service: Server, fixtures: Fixtures, floor: wrk.Measurement, report: BackendReport
    ) -> None:
        by_key = {}
        for scenario in self._scenarios(service.base_url, fixtures):
            if scenario is CREATE:
                self._checkpoint()
            say(self.database.name, f"saturating: {scenario.label}")
            measured = saturate(scenario, service, fixtures, self.options.load)
            by_key[scenario.key] = measured
            report.rows.append(Row(scenario.label, measured, floor, self.targets.get(scenario.key)))
            if measured.walks:
                report.notes.append(f"walks followed to the last page: {measured.walks:,}")
        self._webhooks(service, fixtures, floor, by_key["create"], report)
        depth = f"{self.options.depth:,}"
        report.notes.append(
            cost_note(
                f"depth: a page after {depth} customers",
                "the first page",
                by_key["deep"],
                by_key["list"],
                DEPTH_LIMIT,
            )
        )

    def _webhooks(
        self,
        service: Server,
        fixtures: Fixtures,
        floor: wrk.Measurement,
        unsubscribed: wrk.Measurement,
        report: BackendReport,
    ) -> None:
        """Creates again with an endpoint subscribed, then how fast the server's own worker
        delivers (alongside the creates, then a backlog alone), and how long an event takes
        to arrive at a steady rate of writes."""
        with webhooks.Receiver() as receiver:
            registered_at = timestamp(utc_now())
            endpoint_id = webhooks.register(service.base_url, fixtures.writer_token, receiver.url)
            self._warm_delivery_log_up(service, fixtures, receiver)
            self._checkpoint()
            say(self.database.name, "saturating: create, one webhook endpoint subscribed")
            measured = saturate(CREATE, service, fixtures, self.options.load)
            report.rows.append(
                Row("create, 1 endpoint subscribed", measured, floor, self.targets.get("create"))
            )
            report.notes.append(
                cost_note("create with 1 subscribed endpoint", "create with none", measured,
                          unsubscribed, WEBHOOK_CREATE_LIMIT)
            )  # fmt: skip
            rate, delivered = webhooks.drain_rate(receiver)
            report.notes.append(
                f"webhooks: {rate:,.0f} events/s delivered by the server's worker while the "
                f"creates saturated the same two cores ({delivered:,} events)"
            )
            say(self.database.name, "webhooks: the same events redelivered, nothing else running")
            webhooks.redeliver(service.base_url, fixtures.writer_token, endpoint_id, registered_at)
            rate, delivered = webhooks.drain_rate(receiver)
            report.notes.append(
                f"webhooks: {rate:,.0f} events/s delivered by the server's worker from a backlog "
                f"of {delivered:,} (target {WEBHOOK_RATE_TARGET:,}/s: "
                f"{verdict(-rate, -WEBHOOK_RATE_TARGET)})"
            )
            say(self.database.name, f"webhooks: creates at {webhooks.STEADY_RATE}/s")
            steady = webhooks.steady_latency(
                service.base_url, fixtures.writer_token, receiver, self.options.steady.seconds
            )
            label = f"webhook commit to delivery @{webhooks.STEADY_RATE}/s"
            report.rows.append(Row(label, steady, floor, self.targets.get("webhook_latency")))

    def _warm_delivery_log_up(
        self, service: Server, fixtures: Fixtures, receiver: webhooks.Receiver
    ) -> None:
        """Creates for a few seconds, their events delivered, then fresh statistics: the
        delivery log as a service in use has it. A statement first prepared while the log
        was empty keeps a plan made for an empty table until the database's own upkeep
        analyzes the log (within a minute or so); measured before that, creates would pay
        for a transient."""
        say(self.database.name, "webhooks: warming the delivery log up")
        warm_up = replace(self.options.load, seconds=self.options.load.warmup_seconds)
        saturate(CREATE, service, fixtures, warm_up)
        webhooks.drain_rate(receiver)
        self.database.analyze()

    def _oauth(
        self, service: Server, fixtures: Fixtures, floor: wrk.Measurement, report: BackendReport
    ) -> None:
        """Get by id with a session token, then with a self-issued access token, back to
        back; then refresh-token exchanges, each connection following its own chain."""
        access_token = oauth.client_credentials_token(service.base_url, self.env, BIG_ORG)
        measured = {}
        for label, token in (("session", fixtures.token), ("OAuth2", access_token)):
            say(self.database.name, f"saturating: get by id, {label} token")
            env = {"BENCH_TOKEN": token, "BENCH_IDS": str(fixtures.ids_file)}
            measured[label] = wrk.run(
                "get.lua", service.base_url + API, self.options.load, env, service.cpu_seconds
            )
        label = "get by id, self-issued OAuth2 token"
        report.rows.append(Row(label, measured["OAuth2"], floor, self.targets.get("get")))
        report.notes.append(
            cost_note("get by id with a self-issued OAuth2 token", "with a session token",
                      measured["OAuth2"], measured["session"], OAUTH_GET_LIMIT)
        )  # fmt: skip
        say(self.database.name, "saturating: refresh-token exchanges")
        # Twice the connections: a chain broken by a failed exchange does not stop the load.
        count = 2 * self.options.load.connections
        client_id, tokens = oauth.refresh_tokens(
            service.base_url, self.env, BIG_ORG, count, self.folder
        )
        # No warm-up: it would spend the tokens the measured run starts from.
        load = replace(self.options.load, warmup_seconds=0)
        env = {"BENCH_CLIENT_ID": client_id, "BENCH_REFRESH_TOKENS": str(tokens)}
        refreshed = wrk.run(
            "refresh.lua", service.base_url + oauth.TOKEN_PATH, load, env, service.cpu_seconds
        )
        report.rows.append(
            Row("refresh-token exchange", refreshed, floor, self.targets.get("refresh"))
        )

    def _steady(
        self, service: Server, fixtures: Fixtures, floor: wrk.Measurement, report: BackendReport
    ) -> None:
        rate, pick = self.options.steady.rate, random.Random(11).choice
        paths = {
            "get by id": lambda: f"{API}/{pick(fixtures.ids)}",
            "list first page": lambda: API,
        }
        for label, path in paths.items():
            say(self.database.name, f"steady {rate}/s: {label}")
            measured = paced.run(service.port, path, fixtures.token, self.options.steady)
            report.rows.append(
                Row(f"{label} @{rate}/s", measured, floor, self.targets.get("steady"))
            )

    def _scale(
        self, service: Server, fixtures: Fixtures, floor: wrk.Measurement, report: BackendReport
    ) -> None:
        """Search cost as one organization grows tenfold: the big org against a huge one."""
        big, huge = self.options.big_org, self.options.huge_org
        tokens = {big: fixtures.token, huge: self._seed_huge_org(report)}
        measured = {}
        for size, token in tokens.items():
            say(self.database.name, f"saturating: q={SEARCH_TERM} in an org of {size:,}")
            url = f"{service.base_url}{API}?q={SEARCH_TERM}"
            measured[size] = wrk.run(
                "base.lua", url, self.options.load, {"BENCH_TOKEN": token}, service.cpu_seconds
            )
            label = f"list q={SEARCH_TERM}, org of {size:,}"
            report.rows.append(Row(label, measured[size], floor, self.targets.get("search")))
        report.notes.append(
            cost_note(
                f"scale: q={SEARCH_TERM} in an org of {huge:,}",
                f"what it costs in one of {big:,}",
                measured[huge],
                measured[big],
                SCALE_LIMIT,
            )
        )

    def _bulk_import(
        self, service: Server, fixtures: Fixtures, floor: wrk.Measurement, report: BackendReport
    ) -> None:
        """Each search term before and after newer customers that hold none of them, as a
        bulk import leaves behind; and a term no name holds against a sparse one."""
        before = self._searches(service, fixtures, floor, report, "")
        count = self.options.imported
        say(self.database.name, f"importing {count:,} newer customers that match no term")
        now = datetime.now(UTC)
        rows = CustomerFactory(3, now).rows(
            [BIG_ORG] * (2 * count), self.database.stamp, BIG_ORG, Generated(keys=None),
            history=now - self.end_of_history,
        )  # fmt: skip
        self.database.load(without_terms(rows, count, SEARCH_TERMS))
        after = self._searches(service, fixtures, floor, report, f", {count:,} imported")
        for term in COMMON_TERMS:
            report.notes.append(
                cost_note(f"q={term} after a bulk import of {count:,}", "before it",
                          after[term], before[term], IMPORT_LIMIT)
            )  # fmt: skip
        report.notes.append(
            cost_note(f"q={ABSENT_TERM} (in no name)", f"q={SPARSE_TERM} (1 name in 10,000)",
                      after[ABSENT_TERM], after[SPARSE_TERM], ABSENT_LIMIT)
        )  # fmt: skip

    def _searches(
        self,
        service: Server,
        fixtures: Fixtures,
        floor: wrk.Measurement,
        report: BackendReport,
        label: str,
    ) -> dict[str, wrk.Measurement]:
        measured = {}
        for term in SEARCH_TERMS:
            scenario = search(term, label)
            say(self.database.name, f"saturating: {scenario.label}")
            measured[term] = saturate(scenario, service, fixtures, self.options.load)
            target = self.targets.get("search_terms")
            report.rows.append(Row(scenario.label, measured[term], floor, target))
        return measured

    def _soak(
        self, service: Server, fixtures: Fixtures, floor: wrk.Measurement, report: BackendReport
    ) -> None:
        """Mixed traffic for minutes on end: does any worker's memory keep growing?"""
        minutes = self.options.soak_minutes
        say(self.database.name, f"soak: {minutes} min of mixed traffic")
        env = {"BENCH_TOKEN": fixtures.token, "BENCH_IDS": str(fixtures.ids_file)}
        load = replace(self.options.load, seconds=SOAK_SAMPLE_SECONDS, warmup_seconds=0)
        samples, rss = [], []
        for _ in range(minutes):
            samples.append(wrk.run("mixed.lua", service.base_url, load, env, service.cpu_seconds))
            rss.append(service.worker_rss_mb())
        report.rows.append(Row(f"mixed traffic, {minutes} min soak", combined(samples), floor))
        report.notes.append(soak_note(rss))

    def _seed_huge_org(self, report: BackendReport) -> str:
        """Add the organization ten times the size of the big one; a token for it."""
        size = self.options.huge_org
        say(self.database.name, f"seeding an org of {size:,} customers for the scale check")
        started = time.perf_counter()
        generated = Generated(keys=None)
        factory = CustomerFactory(2, self.end_of_history)
        self.database.load(
            factory.rows([HUGE_ORG] * size, self.database.stamp, HUGE_ORG, generated)
        )
        report.notes.append(
            f"seeded the org of {size:,} in {time.perf_counter() - started:.1f} s "
            f"({generated.matches:,} match q={SEARCH_TERM})"
        )
        return session_token(self.secret, HUGE_ORG)

    def _access_log(
        self, fixtures: Fixtures, floor: wrk.Measurement, report: BackendReport
    ) -> None:
        say(self.database.name, "saturating: get by id with the access log on")
        env = {"BENCH_TOKEN": fixtures.token, "BENCH_IDS": str(fixtures.ids_file)}
        with self._service("access.log", EXPENSICAT_LOG_LEVEL="INFO") as service:
            measured = wrk.run(
                "get.lua", service.base_url + API, self.options.load, env, service.cpu_seconds
            )
        report.rows.append(Row("get by id, access log on", measured, floor))
