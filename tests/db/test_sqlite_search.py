"""The SQLite store's search plans and read bounds, on a real file: a term common in other
organizations but rare in this one, rarity answers that go stale, reads that outgrow the
event loop, run past the statement timeout, or meet a lock.

Customers are inserted with plain SQL (the triggers keep the name index), as many as the
plans need to differ; the store is then asked directly, with small budgets where a test
needs the slow path.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from expensicat.customers.fields import Customer
from expensicat.customers.search import fold
from expensicat.db.errors import DatabaseUnavailable
from expensicat.db.migrate import upgrade
from expensicat.db.sqlite import INLINE_STEPS, SqliteStore
from expensicat.db.sqlite_search import RARE_MATCHES, RarityCache
from expensicat.paging import Position
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

SPARSE_ORG = "org-sparse"
SPARSE_ORG_SIZE = 30_000
# Where in the sparse organization the three names with the term are.
SPARSE_AT = (7, 15_003, 29_998)
TERM = "zqx"
# Names with the term in other organizations: enough that it is not rare over the file.
ELSEWHERE = RARE_MATCHES + 200
START = datetime(2025, 1, 1, tzinfo=UTC)
# A budget of steps so small that any walk through thousands of customers leaves the
# event loop for a thread.
TINY_BUDGET = 1


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True, slots=True)
class Book:
    path: Path
    # (created_at, id, name) of the sparse organization's customers with the term.
    sparse: list[tuple[str, str, str]]


def migrated(folder: Path) -> Path:
    path = folder / "expensicat.db"
    upgrade(make_settings(f"sqlite:///{path}", folder).database)
    return path


def insert(path: Path, rows: list[tuple[str, str]], start: int = 0) -> list[tuple[str, str, str]]:
    """(organization_id, name) rows, one second apart in that order; their keys and names."""
    added = []
    for n, (organization_id, name) in enumerate(rows, start):
        moment = (START + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        added.append((moment, str(uuid.uuid4()), organization_id, name, fold(name)))
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO customers (created_at, updated_at, id, organization_id, name, "
            "name_search) VALUES (?1, ?1, ?2, ?3, ?4, ?5)",
            added,
        )
        db.execute("COMMIT")
    finally:
        db.close()
    return [(created_at, id_, name) for created_at, id_, _, name, _ in added]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    path = migrated(tmp_path_factory.mktemp("book"))
    rows = [
        (SPARSE_ORG, f"Zqx Sparse {n}" if n in SPARSE_AT else f"Customer {n}")
        for n in range(SPARSE_ORG_SIZE)
    ]
    rows += [(f"org-dense-{n % 3}", f"Dense ZQX {n}") for n in range(ELSEWHERE)]
    added = insert(path, rows)
    sparse = [row for row in added[:SPARSE_ORG_SIZE] if TERM in fold(row[2])]
    return Book(path, sorted(sparse, reverse=True))


@asynccontextmanager
async def opened(store: SqliteStore) -> AsyncIterator[SqliteStore]:
    try:
        yield store
    finally:
        await store.close()


async def search_all(store: SqliteStore, organization_id: str, q: str) -> list[Customer]:
    """Every customer the search finds, two a page, following the pages to the end."""
    found: list[Customer] = []
    after = None
    while True:
        page = await store.list_page(organization_id, 2, after, q)
        found += page
        if len(page) < 2:
            return found
        after = Position(page[-1]["created_at"], page[-1]["id"])


def keys(customers: list[Customer]) -> list[tuple[str, str, str]]:
    return [(c["created_at"], c["id"], c["name"]) for c in customers]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestRarityVerdicts:
    def test_an_answer_is_remembered_until_it_expires(self) -> None:
        clock = FakeClock()
        rarity = RarityCache(seconds=60, clock=clock)
        rarity.put("acm", False)
        clock.now += 59.9
        assert rarity.get("acm") is False
        clock.now += 0.1
        assert rarity.get("acm") is None

    def test_the_least_recently_used_term_is_forgotten_first(self) -> None:
        rarity = RarityCache(size=2, clock=FakeClock())
        rarity.put("one", True)
        rarity.put("two", False)
        assert rarity.get("one") is True
        rarity.put("three", True)
        assert (rarity.get("one"), rarity.get("two"), rarity.get("three")) == (
            True,
            None,
            True,
        )


class TestSparseTerm:
    @pytest.mark.parametrize("budget", [TINY_BUDGET, INLINE_STEPS], ids=["tiny", "default"])
    async def test_a_term_common_elsewhere_but_rare_here_finds_exactly_its_names(
        self, book: Book, budget: int
    ) -> None:
        async with opened(SqliteStore(book.path, inline_steps=budget)) as store:
            found = await search_all(store, SPARSE_ORG, TERM)
        assert keys(found) == book.sparse

    async def test_a_short_term_past_the_budget_is_walked_to_the_end(self, book: Book) -> None:
        # Too short for the trigram index: found only by reading the whole organization.
        async with opened(SqliteStore(book.path, inline_steps=TINY_BUDGET)) as store:
            assert keys(await search_all(store, SPARSE_ORG, "zq")) == book.sparse
            assert await store.list_page(SPARSE_ORG, 5, None, "yy") == []


class TestStaleVerdict:
    async def test_a_term_that_became_common_is_found_alike_then_judged_again(
        self, tmp_path: Path
    ) -> None:
        path = migrated(tmp_path)
        clock = FakeClock()
        rarity = RarityCache(seconds=60, clock=clock)
        org, term = "org-stale", "wyvern"
        async with opened(SqliteStore(path, rarity=rarity)) as store:
            first = insert(path, [(org, "Wyvern Works")])
            assert keys(await search_all(store, org, term)) == first
            assert rarity.get(term) is True
            more = insert(path, [(org, f"Wyvern {n}") for n in range(RARE_MATCHES)], start=1)
            everyone = sorted(first + more, reverse=True)
            # Still judged rare for a minute: looked up by name, every one of them found.
            assert keys(await search_all(store, org, term)) == everyone
            assert rarity.get(term) is True
            clock.now += 60
            assert keys(await search_all(store, org, term)) == everyone
            assert rarity.get(term) is False


class TestReadBounds:
    async def test_a_read_on_a_thread_past_the_statement_timeout_is_interrupted(
        self, book: Book
    ) -> None:
        # Reading 30,000 customers takes a few milliseconds; the timeout is one. A read may
        # also run out of time waiting for a thread, but not every one of them.
        store = SqliteStore(book.path, timeout=0.001, inline_steps=TINY_BUDGET)
        causes = set()
        async with opened(store):
            for _ in range(50):
                with pytest.raises(DatabaseUnavailable) as raised:
                    await store.list_page(SPARSE_ORG, 5, None, "yy")
                causes.add(str(raised.value))
                if "OperationalError" in causes:
                    break
            assert "OperationalError" in causes
            first = await store.list_page(SPARSE_ORG, 1, None, "")
            assert first[0]["name"] == f"Customer {SPARSE_ORG_SIZE - 1}"

    async def test_a_read_behind_a_lock_waits_on_a_thread_not_on_the_event_loop(
        self, tmp_path: Path
    ) -> None:
        path = migrated(tmp_path)
        ((_, customer_id, _),) = insert(path, [("org-locked", "Locked Ltd")])
        async with opened(SqliteStore(path, timeout=0.5)) as store:
            with exclusively_locked(path):
                ticker = Ticker()
                ticking = asyncio.create_task(ticker.run())
                await asyncio.sleep(0.02)
                started = time.monotonic()
                with pytest.raises(DatabaseUnavailable):
                    await store.fetch("org-locked", customer_id)
                waited = time.monotonic() - started
                ticking.cancel()
                assert 0.45 <= waited < 2
                # The loop went on serving meanwhile, never held up for long.
                assert ticker.longest_gap < 0.25
            found = await store.fetch("org-locked", customer_id)
            assert found is not None
            assert found.customer["name"] == "Locked Ltd"


class Ticker:
    """Wakes every 10 ms, and notes the longest the event loop kept it waiting."""

    def __init__(self) -> None:
        self.longest_gap = 0.0

    async def run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.longest_gap = max(self.longest_gap, now - last)
            last = now


@contextmanager
def exclusively_locked(path: Path) -> Iterator[None]:
    """Another process holds the file in exclusive locking mode: even readers must wait."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
