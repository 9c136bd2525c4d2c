"""Tenancy under load: many organizations reading and writing at once never see each other.

A real `expensicat serve --workers 2` on each database takes thousands of requests from
20 organizations at once: creates, gets of their own and of others' ids, lists, searches,
patches of their own and of others' customers, and others' cursors. Every customer in every
response must belong to the caller; another organization's id or cursor is refused; and at
the end each organization lists exactly what it created, unchanged by anyone else.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from expensicat.config import Settings
from tests.support.server import ApiServer
from tests.support.tokens import bearer, session_token

ORGANIZATIONS = 20
CLIENTS_PER_ORGANIZATION = 4
ACTIONS_PER_CLIENT = 25
# A bound for a machine far slower than expected; on two cores the load takes ~10 s.
TIMEOUT_SECONDS = 180
CUSTOMERS = "/api/v1/customers"


@dataclass
class Organization:
    id: str
    headers: dict[str, str]
    created: set[str] = field(default_factory=set)
    cursors: list[str] = field(default_factory=list)

    @property
    def marker(self) -> str:
        """A word in every name this organization gives, so searches can aim at it."""
        return self.id.replace("-", "")


@dataclass
class Run:
    organizations: list[Organization]
    problems: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def others(self, rng: random.Random, me: Organization) -> Organization:
        return rng.choice([org for org in self.organizations if org is not me])


class Caller:
    """One client of one organization, checking every answer it gets.

    Each action sends exactly one request; one that needs ids or cursors nobody has yet
    creates or lists instead.
    """

    def __init__(self, http: httpx.AsyncClient, run: Run, me: Organization, seed: int) -> None:
        self.http = http
        self.run = run
        self.me = me
        self.rng = random.Random(seed)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, url, headers=self.me.headers, **kwargs)
        self.run.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.problem(f"{method} {url} answered {response.status_code}: {response.text}")
        elif response.headers.get("content-type") == "application/json":
            self.check_owner(method, url, response.json())
        return response

    def check_owner(self, method: str, url: str, body: dict[str, Any]) -> None:
        data = body.get("data", [])
        for customer in data if isinstance(data, list) else [data]:
            if customer["organization_id"] != self.me.id or self.me.marker not in customer["name"]:
                self.problem(f"{method} {url} by {self.me.id} returned {customer}")

    def expect(self, response: httpx.Response, status: int) -> None:
        if response.status_code != status:
            self.problem(
                f"{response.request.method} {response.request.url} by {self.me.id}: "
                f"expected {status}, got {response.status_code}: {response.text}"
            )

    def problem(self, message: str) -> None:
        self.run.problems.append(message)

    async def create(self) -> None:
        name = f"{self.me.marker} Customer {self.rng.randrange(10**6)}"
        response = await self.request("POST", CUSTOMERS, json={"name": name})
        self.expect(response, 201)
        if response.status_code == 201:
            self.me.created.add(response.json()["data"]["id"])

    async def get_own(self) -> None:
        if not self.me.created:
            await self.create()
            return
        customer_id = self.rng.choice(sorted(self.me.created))
        self.expect(await self.request("GET", f"{CUSTOMERS}/{customer_id}"), 200)

    async def get_others(self) -> None:
        other = self.run.others(self.rng, self.me)
        if not other.created:
            await self.create()
            return
        customer_id = self.rng.choice(sorted(other.created))
        self.expect(await self.request("GET", f"{CUSTOMERS}/{customer_id}"), 404)

    async def patch_own(self) -> None:
        if not self.me.created:
            await self.create()
            return
        customer_id = self.rng.choice(sorted(self.me.created))
        notes = {"notes": f"{self.me.marker} note {self.rng.randrange(10**6)}"}
        self.expect(await self.request("PATCH", f"{CUSTOMERS}/{customer_id}", json=notes), 200)

    async def patch_others(self) -> None:
        other = self.run.others(self.rng, self.me)
        if not other.created:
            await self.create()
            return
        customer_id = self.rng.choice(sorted(other.created))
        body = {"name": f"{self.me.marker} took this", "notes": f"{self.me.marker} was here"}
        self.expect(await self.request("PATCH", f"{CUSTOMERS}/{customer_id}", json=body), 404)

    async def list_page(self) -> None:
        params = {"limit": self.rng.randint(1, 100)}
        response = await self.request("GET", CUSTOMERS, params=params)
        self.expect(response, 200)
        if response.status_code == 200 and response.json()["meta"]["next_cursor"]:
            self.me.cursors.append(response.json()["meta"]["next_cursor"])

    async def search(self) -> None:
        # "customer" is in every organization's names; the marker only in one's.
        term = self.rng.choice(
            ["customer", "CUSTOMER 1", self.run.others(self.rng, self.me).marker]
        )
        self.expect(await self.request("GET", CUSTOMERS, params={"q": term}), 200)

    async def use_others_cursor(self) -> None:
        other = self.run.others(self.rng, self.me)
        if not other.cursors:
            await self.list_page()
            return
        params = {"cursor": self.rng.choice(other.cursors)}
        self.expect(await self.request("GET", CUSTOMERS, params=params), 400)

    async def work(self) -> None:
        actions = [
            (self.create, 4),
            (self.get_own, 3),
            (self.get_others, 3),
            (self.patch_own, 2),
            (self.patch_others, 2),
            (self.list_page, 2),
            (self.search, 2),
            (self.use_others_cursor, 1),
        ]
        choices, weights = zip(*actions, strict=True)
        for _ in range(ACTIONS_PER_CLIENT):
            await self.rng.choices(choices, weights)[0]()


async def everything_listed(http: httpx.AsyncClient, org: Organization) -> list[dict[str, Any]]:
    customers: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = await http.get(CUSTOMERS, params=params, headers=org.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        customers += page["data"]
        if page["meta"]["next_cursor"] is None:
            return customers
        params["cursor"] = page["meta"]["next_cursor"]


async def load(base_url: str) -> Run:
    prefix = uuid.uuid4().hex[:8]
    organizations = [
        Organization(f"org-{prefix}-{n:02d}", bearer(session_token(f"org-{prefix}-{n:02d}")))
        for n in range(ORGANIZATIONS)
    ]
    run = Run(organizations)
    limits = httpx.Limits(max_connections=ORGANIZATIONS * CLIENTS_PER_ORGANIZATION)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        callers = [
            Caller(http, run, org, seed=n * CLIENTS_PER_ORGANIZATION + k)
            for n, org in enumerate(organizations)
            for k in range(CLIENTS_PER_ORGANIZATION)
        ]
        await asyncio.gather(*(caller.work() for caller in callers))
        for org in organizations:
            listed = await everything_listed(http, org)
            check_final_state(run, org, listed)
    return run


def check_final_state(run: Run, org: Organization, listed: list[dict[str, Any]]) -> None:
    if {customer["id"] for customer in listed} != org.created or len(listed) != len(org.created):
        run.problems.append(f"{org.id} lists {len(listed)}, created {len(org.created)}")
    for customer in listed:
        notes = customer["notes"] or org.marker
        mine = customer["organization_id"] == org.id and customer["name"].startswith(org.marker)
        if not mine or not notes.startswith(org.marker):
            run.problems.append(f"{org.id} finds a customer changed by another: {customer}")


@pytest.fixture(scope="module")
def served(
    backend_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with ApiServer(log, "--no-migrate", settings=backend_settings, workers=2) as server:
        yield server


@pytest.mark.slow
def test_organizations_under_load_see_only_their_own_customers(served: ApiServer) -> None:
    started = time.monotonic()
    run = asyncio.run(asyncio.wait_for(load(served.url), TIMEOUT_SECONDS))
    elapsed = time.monotonic() - started
    requests = sum(run.statuses.values())
    summary = (
        f"{requests} requests in {elapsed:.1f}s, statuses {dict(sorted(run.statuses.items()))}"
    )
    assert not run.problems, "\n".join([summary, *run.problems[:20]])
    assert requests == ORGANIZATIONS * CLIENTS_PER_ORGANIZATION * ACTIONS_PER_CLIENT, summary
    assert all(org.created for org in run.organizations), summary
