"""Prometheus metrics at /metrics: right across several workers, free of organization and
personal data, and off or elsewhere when asked."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from expensicat.db.migrate import upgrade
from tests.conftest import Api, make_settings
from tests.support.apps import serving
from tests.support.contract import CUSTOMERS
from tests.support.postgres import free_port
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET, bearer, session_token


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
        assert requests_of(text, CUSTOMERS, "POST", "201") >= 1
        assert samples(text, "expensicat_http_request_duration_seconds_count")
        for private in (created["id"], "Privatperson", api.org):
            assert private not in text

    def test_the_database_pool_is_sampled(self, api: Api) -> None:
        text = api.client.get("/metrics").text

        (in_use,) = samples(text, "expensicat_db_pool_in_use").values()
        (waiting,) = samples(text, "expensicat_db_pool_waiting").values()
        assert in_use >= 0
        assert waiting >= 0

    def test_an_unknown_path_is_counted_under_one_label(self, api: Api) -> None:
        api.get("/no/such/path/12345")

        text = api.client.get("/metrics").text

        assert requests_of(text, "unmatched", "GET", "404") >= 1
        assert "12345" not in text

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
