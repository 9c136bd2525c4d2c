"""Prometheus metrics at /metrics: right across several workers, free of organization and
personal data, and off or elsewhere when asked."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from expensicat.api.metrics import LATENCY_BUCKETS, UNMATCHED, Metrics
from expensicat.db.migrate import upgrade
from tests.conftest import Api, make_settings
from tests.support.apps import serving
from tests.support.contract import CUSTOMERS
from tests.support.postgres import free_port
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET, bearer, session_token

LATENCY = "expensicat_http_request_duration_seconds"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Each sample of one metric, keyed by its labels, as Prometheus parses the exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def requests_of(text: str, route: str, method: str, status: str) -> float:
    labels = (("method", method), ("route", route), ("status", status))
    return samples(text, "expensicat_http_requests_total").get(labels, 0.0)


def timed_of(text: str, route: str, method: str) -> float:
    labels = (("method", method), ("route", route))
    return samples(text, f"{LATENCY}_count").get(labels, 0.0)


class TestMetrics:
    def test_counts_requests_by_route_template_without_ids_or_names(self, api: Api) -> None:
        before = api.client.get("/metrics").text
        created = api.create(name="Jürgen Privatperson")
        api.get(f"{CUSTOMERS}/{created['id']}")
        api.get(f"{CUSTOMERS}/{created['id']}")

        text = api.client.get("/metrics").text

        route = "/api/v1/customers/{id}"
        assert (
            requests_of(text, route, "GET", "200") - requests_of(before, route, "GET", "200") == 2
        )
        assert timed_of(text, route, "GET") - timed_of(before, route, "GET") == 2
        assert requests_of(text, CUSTOMERS, "POST", "201") >= 1
        for private in (created["id"], "Privatperson", api.org):
            assert private not in text

    def test_the_database_pool_is_sampled(self, api: Api) -> None:
        text = api.client.get("/metrics").text

        (in_use,) = samples(text, "expensicat_db_pool_in_use").values()
        (waiting,) = samples(text, "expensicat_db_pool_waiting").values()
        assert in_use >= 0
        assert waiting >= 0

    def test_the_webhook_queue_is_sampled(self, api: Api) -> None:
        text = api.client.get("/metrics").text

        (depth,) = samples(text, "expensicat_webhook_queue_depth").values()
        (oldest,) = samples(text, "expensicat_webhook_queue_oldest_seconds").values()
        assert depth >= 0
        assert oldest >= 0

    def test_an_unknown_path_is_counted_under_one_label(self, api: Api) -> None:
        # Letters, so that the marker cannot turn up inside a figure.
        api.get("/no/such/path/zqxwv")

        text = api.client.get("/metrics").text

        assert requests_of(text, "unmatched", "GET", "404") >= 1
        assert "zqxwv" not in text

    def test_latencies_tallied_then_written_read_as_if_observed_one_by_one(self) -> None:
        # On the bounds, either side of them, past the last, and twice in one bucket.
        latencies = [0.0004, 0.001, 0.0011, 0.003, 0.003, 0.07, 0.25, 0.9, 4.0, 12.0]
        one_by_one = CollectorRegistry()
        observed = Histogram(
            LATENCY, "Time to answer, by route and method.", ["route", "method"],
            registry=one_by_one, buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        for latency in latencies:
            observed.labels(UNMATCHED, "GET").observe(latency)
        metrics = Metrics()

        _answer(metrics, latencies[:4])
        before_a_flush = _latencies(metrics.registry)
        metrics.flush()
        _answer(metrics, latencies[4:])
        metrics.flush()

        assert before_a_flush == {}, "nothing is written on the request path"
        written, expected = _latencies(metrics.registry), _latencies(one_by_one)
        labels = (("method", "GET"), ("route", UNMATCHED))
        # The same sum, added up in another order: equal but for rounding.
        total = (f"{LATENCY}_sum", labels)
        assert written.pop(total) == pytest.approx(expected.pop(total), rel=1e-12)
        assert written == expected
        assert written[f"{LATENCY}_count", labels] == len(latencies)

    def test_off_means_no_endpoint(self, tmp_path: Path) -> None:
        settings = make_settings(f"sqlite:///{tmp_path / 'e.db'}", tmp_path, metrics="off")
        upgrade(settings.database)
        with serving(settings) as client:
            assert client.get("/metrics").status_code == 404


@pytest.mark.slow
class TestAcrossWorkers:
    def test_every_workers_requests_are_in_every_scrape(self, tmp_path: Path) -> None:
        settings = make_settings(f"sqlite:///{tmp_path / 'e.db'}", tmp_path)
        env = {"session_secret": TEST_SECRET}
        headers = bearer(session_token("org-metrics"))
        with ApiServer(
            tmp_path / "serve.log", "--workers", "2", settings=settings, env=env
        ) as server:
            answered_by = set()
            for _ in range(60):
                # A new connection each time, so that both workers take some.
                response = httpx.get(f"{server.url}{CUSTOMERS}", headers=headers)
                assert response.status_code == 200
                answered_by.add(response.headers["x-request-id"][:16])
            # Each worker writes its tallies once a second: within two, every scrape has all.
            time.sleep(2.5)
            scrapes = [httpx.get(f"{server.url}/metrics").text for _ in range(6)]

        assert len(answered_by) == 2, "both workers should have answered"
        for text in scrapes:
            assert requests_of(text, CUSTOMERS, "GET", "200") == 60
            assert timed_of(text, CUSTOMERS, "GET") == 60

    def test_an_address_of_their_own_serves_them_apart_from_the_api(self, tmp_path: Path) -> None:
        settings = make_settings(f"sqlite:///{tmp_path / 'e.db'}", tmp_path)
        port = free_port()
        env = {"session_secret": TEST_SECRET, "metrics": f"127.0.0.1:{port}"}
        with ApiServer(tmp_path / "serve.log", settings=settings, env=env) as server:
            httpx.get(f"{server.url}{CUSTOMERS}", headers=bearer(session_token("org-m")))
            on_api_port = httpx.get(f"{server.url}/metrics")
            time.sleep(2.5)  # the worker that answered writes its tallies once a second
            text = _scrape_when_up(f"http://127.0.0.1:{port}/metrics")

        assert on_api_port.status_code == 404
        assert requests_of(text, CUSTOMERS, "GET", "200") == 1
        assert timed_of(text, CUSTOMERS, "GET") == 1


def _answer(metrics: Metrics, latencies: list[float]) -> None:
    """Requests no route took, each answered 200 in one of these times."""
    for seconds in latencies:
        metrics.request_started()
        metrics.request_finished({"type": "http", "method": "GET", "path": "/x"}, 200, seconds)


def _latencies(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The latency histogram's buckets, count and sum as a scrape reads them."""
    wanted = {f"{LATENCY}_bucket", f"{LATENCY}_count", f"{LATENCY}_sum"}
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
        if sample.name in wanted
    }


def _scrape_when_up(url: str) -> str:
    deadline = time.monotonic() + 15
    while True:
        try:
            return httpx.get(url).text
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"nothing answered at {url}"
            time.sleep(0.1)


def test_the_cli_never_loads_the_metrics_client() -> None:
    """`serve` must point the client at the shared folder before any worker loads it."""
    probe = "import sys, expensicat.cli; print('prometheus_client' in sys.modules)"

    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)

    assert loaded.stdout == "False\n", loaded.stderr
