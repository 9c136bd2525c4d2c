"""Clients creating customers as fast as they can, keeping every outcome for the checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.tokens import bearer, session_token

REQUEST_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Outcome:
    payload: dict[str, str]
    started: float
    seconds: float
    response: httpx.Response | None  # None when no HTTP answer came (refused, reset)
    error: str = ""

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code


class CreateLoad:
    """`clients` concurrent clients of one organization, each creating customers in a loop."""

    def __init__(self, base_url: str, org: str, clients: int = 12) -> None:
        self.org = org
        self.outcomes: list[Outcome] = []
        self._clients = clients
        self._stop = asyncio.Event()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=bearer(session_token(org)),
            timeout=REQUEST_SECONDS,
            limits=httpx.Limits(max_connections=clients),
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> CreateLoad:
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self._clients)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self._http.aclose()

    def acknowledged(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == 201]

    async def until(self, condition: Callable[[], bool], seconds: float) -> None:
        async with asyncio.timeout(seconds):
            while not condition():
                await asyncio.sleep(0.02)

    async def _client(self, number: int) -> None:
        sequence = 0
        while not self._stop.is_set():
            sequence += 1
            payload = {
                "name": f"Client {number} customer {sequence}",
                "email": f"c{number}.{sequence}@example.com",
                "city": "São Paulo",
                "country_code": "br",
                "notes": " ".join([f"created by client {number}"] * 20),
            }
            self.outcomes.append(await self._create(payload))
            if self.outcomes[-1].status != 201:
                await asyncio.sleep(0.01)  # failures come at once: do not spin on them

    async def _create(self, payload: dict[str, str]) -> Outcome:
        started = time.monotonic()
        try:
            response = await self._http.post("/api/v1/customers", json=payload)
        except httpx.HTTPError as error:
            return Outcome(payload, started, time.monotonic() - started, None, repr(error))
        return Outcome(payload, started, time.monotonic() - started, response)


def stored_customers(base_url: str, org: str) -> dict[str, dict[str, Any]]:
    """Every customer of the organization, walking the list to its end."""
    found: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"limit": 100}
    with httpx.Client(base_url=base_url, headers=bearer(session_token(org)), timeout=10) as http:
        while True:
            page = http.get("/api/v1/customers", params=params)
            assert page.status_code == 200, page.text
            found.update((customer["id"], customer) for customer in page.json()["data"])
            cursor = page.json()["meta"]["next_cursor"]
            if cursor is None:
                return found
            params["cursor"] = cursor


def assert_acknowledged_are_stored(
    outcomes: list[Outcome], stored: dict[str, dict[str, Any]]
) -> None:
    """Each 201 is in the database exactly as answered; anything else stored was sent
    whole by some client (a write whose answer was lost), never a half-written record."""
    acknowledged = set()
    for outcome in outcomes:
        if outcome.response is not None and outcome.status == 201:
            customer = outcome.response.json()["data"]
            assert stored.get(customer["id"]) == customer, customer["id"]
            acknowledged.add(customer["id"])
    sent = {outcome.payload["name"]: outcome.payload for outcome in outcomes}
    for customer_id, customer in stored.items():
        if customer_id not in acknowledged:
            payload = sent[customer["name"]]
            assert (customer["email"], customer["notes"]) == (payload["email"], payload["notes"])
