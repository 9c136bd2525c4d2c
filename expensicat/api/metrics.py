"""Prometheus metrics: requests, latency, in-flight, refusals, replays, database health.

Only the app factory imports this module, so processes that never serve (the CLI that
starts the workers) never load the metrics client; in a worker it reads
PROMETHEUS_MULTIPROC_DIR, which `serve` sets, and every worker then writes its figures to
files there that any one of them adds up when scraped. Labels are route templates, methods,
statuses and classes of error: no organization, no id, no personal data.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import math
import os
from bisect import bisect_left
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from expensicat.api.endpoint import route_template
from expensicat.db.errors import DatabaseUnavailable

METRICS_PATH = "/metrics"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# A request no route took (a 404 or 405): one label for all, so paths cannot grow it.
UNMATCHED = "unmatched"
# How often each worker writes its tallies and samples its database pool; the webhook queue,
# a query, every so many of those.
POOL_SAMPLE_SECONDS = 1.0
QUEUE_SAMPLE_EVERY = 5
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
# The histogram's upper bounds as the client keeps them, +Inf last: a latency belongs to the
# first bound at or above it, which is where bisect_left finds it.
BOUNDS = (*map(float, LATENCY_BUCKETS), math.inf)


class Timings:
    """One route and method's latencies since the last write: how many fell in each bucket
    (not cumulative), and their sum."""

    __slots__ = ("counts", "seconds")

    def __init__(self) -> None:
        self.counts = [0] * len(BOUNDS)
        self.seconds = 0.0


class Metrics:
    """The service's metrics, registered once per process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "expensicat_http_requests", "Requests answered, by route template, method and status.",
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "expensicat_http_request_duration_seconds", "Time to answer, by route and method.",
            ["route", "method"], registry=self.registry, buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self.in_flight = Gauge(
            "expensicat_http_requests_in_flight", "Requests being answered now.",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.rate_limited = Counter(
            "expensicat_rate_limited", "Requests refused for a spent budget (429).",
            registry=self.registry,
        )  # fmt: skip
        self.replays = Counter(
            "expensicat_idempotent_replays", "Answers replayed for a repeated Idempotency-Key.",
            registry=self.registry,
        )  # fmt: skip
        self.database_errors = Counter(
            "expensicat_database_errors", "Database failures answered 503, by class.",
            ["error"], registry=self.registry,
        )  # fmt: skip
        self.pool_in_use = Gauge(
            "expensicat_db_pool_in_use", "Database connections in use.",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.pool_waiting = Gauge(
            "expensicat_db_pool_waiting", "Requests waiting for a database connection.",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        # Every worker reads the same queue from the database: the largest figure is it.
        self.webhook_queue = Gauge(
            "expensicat_webhook_queue_depth", "Webhook deliveries owed (due now or retrying).",
            registry=self.registry, multiprocess_mode="max",
        )  # fmt: skip
        self.webhook_age = Gauge(
            "expensicat_webhook_queue_oldest_seconds",
            "Age of the oldest webhook delivery still owed (0 when none is).",
            registry=self.registry, multiprocess_mode="max",
        )  # fmt: skip

        # Tallied on the request path in plain Python, and written to the metrics (under
        # `serve`, files shared between workers, each write behind a lock) once a second.
        self.answered: collections.Counter[tuple[str, str, int]] = collections.Counter()
        self.timed: defaultdict[tuple[str, str], Timings] = defaultdict(Timings)
        self.answering = 0
        # Each label set's histogram, found once: labels() costs more than the writes.
        self._timers: dict[tuple[str, str], Histogram] = {}

    def request_started(self) -> None:
        self.answering += 1

    def request_finished(self, scope: Scope, status: int, seconds: float) -> None:
        """Count a request by the route template the runner names, and time it."""
        self.answering -= 1
        route = route_template(scope) or UNMATCHED
        method = scope["method"]
        self.answered[route, method, status] += 1
        timings = self.timed[route, method]
        timings.counts[bisect_left(BOUNDS, seconds)] += 1
        timings.seconds += seconds

    def flush(self) -> None:
        """Write what was tallied since the last flush."""
        answered, self.answered = self.answered, collections.Counter()
        for (route, method, status), count in answered.items():
            self.requests.labels(route, method, str(status)).inc(count)
        timed, self.timed = self.timed, defaultdict(Timings)
        for key, timings in timed.items():
            self._add_timings(key, timings)
        self.in_flight.set(self.answering)

    def _add_timings(self, key: tuple[str, str], timings: Timings) -> None:
        # Why the histogram's own values (private to the client) rather than observe(): the
        # client has no call that observes many at once, and observing a stand-in value per
        # bucket would get the buckets right but the sum wrong. A histogram's whole state is
        # a value per bucket, not cumulative, and one for the sum: its count and cumulative
        # buckets are added up when read, and under `serve` these values are what goes into
        # the shared file. observe(x) adds 1 to the first bucket whose bound is at or above
        # x and x to the sum, so adding each bucket's tally and the tallied sum writes the
        # same figures (the sum up to the rounding of adding in another order), in a write
        # per bucket used rather than two per request. A test holds this against observe().
        timer = self._timers.get(key)
        if timer is None:
            timer = self._timers[key] = self.latency.labels(*key)
        for value, count in zip(timer._buckets, timings.counts, strict=True):
            if count:
                value.inc(count)
        timer._sum.inc(timings.seconds)

    def scraped(self) -> CollectorRegistry:
        """What a scrape reads: every worker's figures under `serve`, else this process's."""
        self.flush()
        if MULTIPROCESS_DIR not in os.environ:
            return self.registry
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry


class Loaded(Protocol):
    def load(self) -> tuple[int, int]:
        """Connections busy, and work waiting for one."""


# The webhook queue: deliveries owed, and how old the oldest is in seconds.
Backlog = Callable[[], Awaitable[tuple[int, float]]]


@asynccontextmanager
async def watching(metrics: Metrics, database: Loaded, backlog: Backlog) -> AsyncIterator[None]:
    """Once a second, write the tallies and sample the pool (each worker its own figures;
    a scrape adds them up); every few seconds, read the webhook queue's depth and age."""

    async def sample() -> None:
        for second in itertools.count():
            in_use, waiting = database.load()
            metrics.pool_in_use.set(in_use)
            metrics.pool_waiting.set(waiting)
            metrics.flush()
            if second % QUEUE_SAMPLE_EVERY == 0:
                await _sample_queue(metrics, backlog)
            await asyncio.sleep(POOL_SAMPLE_SECONDS)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        metrics.flush()


async def _sample_queue(metrics: Metrics, backlog: Backlog) -> None:
    try:
        depth, oldest = await backlog()
    except DatabaseUnavailable:  # counted where requests meet it; the figures wait
        return
    metrics.webhook_queue.set(depth)
    metrics.webhook_age.set(oldest)


def listen_apart(address: tuple[str, int], metrics: Metrics) -> Callable[[], None]:
    """Serve the scrape on an address of its own; returns how to stop it."""
    server, thread = start_http_server(address[1], address[0], registry=metrics.scraped())

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return stop


def metrics_route(metrics: Metrics) -> Route:
    async def scrape(request: Request) -> Response:
        """Prometheus's scrape: every worker's figures."""
        return Response(generate_latest(metrics.scraped()), media_type=CONTENT_TYPE_LATEST)

    return Route(METRICS_PATH, scrape, methods=["GET"])
