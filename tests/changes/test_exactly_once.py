"""The proof that the feed never misses or repeats a change: 8 writers make 2,000 changes
through a real server while a poller tails the feed; a trigger sleeps a random while inside
every write transaction, after its change is recorded and before it commits, so that
transactions commit out of the order they began. The poller must see each change exactly
once, each customer's changes in the order they were made, and its replayed copy must equal
the table at the end.

On each backend, in a database of its own (the trigger must not slow the other tests).
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from expensicat.config import Settings
from tests.support.databases import own_database
from tests.support.server import ApiServer
from tests.support.tokens import bearer, session_token

WRITERS = 8
CHANGES_EACH = 250
CUSTOMERS = "/api/v1/customers"
CHANGES = "/api/v1/customers/changes"
# A sleep of up to 20 ms inside each write transaction, after its change row is written.
POSTGRES_PAUSE = """
CREATE FUNCTION pause_before_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(random() * 0.02); RETURN NULL; END $$;
CREATE TRIGGER pause_before_commit AFTER INSERT ON customer_changes
FOR EACH ROW EXECUTE FUNCTION pause_before_commit();
"""
# SQLite has no sleep in SQL: a join of random size takes its place (about 0 to 10 ms).
SQLITE_PAUSE = """
CREATE TABLE filler (n INTEGER);
WITH RECURSIVE up(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM up WHERE n < 999)
INSERT INTO filler SELECT n FROM up;
CREATE TRIGGER pause_before_commit AFTER INSERT ON customer_changes BEGIN
  SELECT count(*) FROM filler a, filler b WHERE a.n < abs(random() % 100);
END;
"""


@pytest.fixture(params=["sqlite", "postgres"])
def paused_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    settings = own_database(request.param, request, tmp_path)
    if settings.database.is_sqlite:
        with sqlite3.connect(settings.database.sqlite_path) as connection:
            connection.executescript(SQLITE_PAUSE)
    else:
        _run_postgres(settings.database.url, POSTGRES_PAUSE)
    return settings


def _run_postgres(url: str, script: str) -> None:
    import asyncio

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(script)
        finally:
            await connection.close()

    asyncio.run(run())


class Writer:
    """Makes CHANGES_EACH changes to customers of its own, counting each one the server
    answered as made: creates, updates, archives, restores and erasures."""

    def __init__(self, base_url: str, headers: dict[str, str], seed: int) -> None:
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        self.random = random.Random(seed)
        self.made = 0
        self.archived: dict[str, bool] = {}

    def run(self) -> int:
        with self.client:
            while self.made < CHANGES_EACH:
                self._one()
        return self.made

    def _one(self) -> None:
        if not self.archived or self.random.random() < 0.2:
            response = self.client.post(CUSTOMERS, json={"name": f"W {uuid.uuid4().hex[:8]}"})
            assert response.status_code == 201, response.text
            self.archived[response.json()["data"]["id"]] = False
        else:
            customer_id = self.random.choice(list(self.archived))
            url = f"{CUSTOMERS}/{customer_id}"
            choice = self.random.random()
            if choice < 0.05:
                assert self.client.delete(url).status_code == 204
                del self.archived[customer_id]
            elif choice < 0.25:
                archived = self.archived[customer_id]
                action = "restore" if archived else "archive"
                assert self.client.post(f"{url}/{action}").status_code == 200
                self.archived[customer_id] = not archived
            else:
                body = {"notes": uuid.uuid4().hex, "city": self.random.choice(["Köln", None])}
                assert self.client.patch(url, json=body).status_code == 200
        self.made += 1
        time.sleep(self.random.random() * 0.005)


class Poller:
    """Tails the feed from the start, keeping every change and a replayed copy."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        self.cursor: str | None = None
        self.seen: list[dict[str, Any]] = []
        self.copy: dict[str, Any] = {}
        self.polls = 0

    def poll(self) -> int:
        params = {"limit": "100", **({"cursor": self.cursor} if self.cursor else {})}
        response = self.client.get(CHANGES, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        self.polls += 1
        for change in page["data"]:
            self.seen.append(change)
            if change["type"] == "customer.erased":
                self.copy.pop(change["customer_id"], None)
            elif change["customer"] is not None:
                self.copy[change["customer_id"]] = change["customer"]
        self.cursor = page["meta"]["next_cursor"]
        return len(page["data"])

    def tail(self, writing: threading.Event) -> None:
        while writing.is_set():
            if not self.poll():
                time.sleep(0.002)
        while self.poll():  # whatever committed last
            pass


def test_a_poller_sees_every_change_exactly_once_in_order(
    paused_settings: Settings, tmp_path: Path
) -> None:
    org = f"org-{uuid.uuid4().hex[:12]}"
    headers = bearer(session_token(org))
    with ApiServer(tmp_path / "serve.log", settings=paused_settings, workers=2) as server:
        poller = Poller(server.url, headers)
        writing = threading.Event()
        writing.set()
        tailing = threading.Thread(target=poller.tail, args=(writing,))
        tailing.start()
        try:
            with ThreadPoolExecutor(WRITERS) as pool:
                writers = [Writer(server.url, headers, seed) for seed in range(WRITERS)]
                made = sum(pool.map(Writer.run, writers))
        finally:
            writing.clear()
            tailing.join(120)
        table = _every_customer(server.url, headers)

    ids = [change["id"] for change in poller.seen]
    print(f"{made} changes by {WRITERS} writers, seen in {poller.polls} polls")
    assert made == WRITERS * CHANGES_EACH
    assert len(ids) == made
    assert len(set(ids)) == made  # none twice
    _assert_each_customer_in_order(poller.seen)
    assert poller.copy == table


def _assert_each_customer_in_order(seen: list[dict[str, Any]]) -> None:
    """Each customer's changes come as they were made: updated_at moves forward, and nothing
    follows its erasure."""
    last: dict[str, str] = {}
    erased: set[str] = set()
    for change in seen:
        customer_id = change["customer_id"]
        assert customer_id not in erased
        if change["type"] == "customer.erased":
            erased.add(customer_id)
        elif change["customer"] is not None:
            assert change["customer"]["updated_at"] > last.get(customer_id, "")
            last[customer_id] = change["customer"]["updated_at"]


def _every_customer(base_url: str, headers: dict[str, str]) -> dict[str, Any]:
    customers: dict[str, Any] = {}
    cursor = None
    with httpx.Client(base_url=base_url, headers=headers) as client:
        while True:
            params = {"limit": "100", "archived": "any", **({"cursor": cursor} if cursor else {})}
            page = client.get(CUSTOMERS, params=params).json()
            customers.update((customer["id"], customer) for customer in page["data"])
            cursor = page["meta"]["next_cursor"]
            if cursor is None:
                return customers
