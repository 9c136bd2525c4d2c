"""The SQLite store's search and read bounds, on a real file: a term common in other
organizations but rare in this one, a term whose matches lie months below newer names,
reads that outgrow the event loop, run past the statement timeout, or meet a lock.

Customers are inserted with plain SQL (the triggers keep the name index), as many as the
paths need to differ; the store is then asked directly, with small budgets where a test
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
from alembic import command

from expensicat.customers.fields import Customer
from expensicat.customers.listing import Filters
from expensicat.customers.search import fold
from expensicat.db.errors import DatabaseUnavailable
from expensicat.db.migrate import alembic_config, upgrade
from expensicat.db.sqlite import INLINE_STEPS, SqliteStore
from expensicat.db.sqlite_search import WALKED_PER_ROW, read_page
from expensicat.db.store import PageRequest
from expensicat.paging import NEWEST_FIRST, Position
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

SPARSE_ORG = "org-sparse"
SPARSE_ORG_SIZE = 30_000
# Where in the sparse organization the three names with the term are.
SPARSE_AT = (7, 15_003, 29_998)
TERM = "zqx"
# Names with the term in other organizations, all newer than the sparse organization's.
ELSEWHERE = 1200
START = datetime(2025, 1, 1, tzinfo=UTC)
# A budget of steps so small that any walk through thousands of customers leaves the
# event loop for a thread.
TINY_BUDGET = 1
STORED_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


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
    moments = [START + timedelta(seconds=n) for n in range(start, start + len(rows))]
    return insert_at(path, [(moment, *row) for moment, row in zip(moments, rows, strict=True)])


def insert_at(path: Path, rows: list[tuple[datetime, str, str]]) -> list[tuple[str, str, str]]:
    """(created_at, organization_id, name) rows, in that order; their keys and names."""
    added = [
        (moment.strftime(STORED_TIME), str(uuid.uuid4()), organization_id, name, fold(name))
        for moment, organization_id, name in rows
    ]
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


def owned_by(
    added: list[tuple[str, str, str]], rows: list[tuple[datetime, str, str]], organization: str
) -> list[tuple[str, str, str]]:
    """Of the rows `insert_at` added, the organization's."""
    return [row for row, (_, owner, _) in zip(added, rows, strict=True) if owner == organization]


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


async def search_all(
    store: SqliteStore, organization_id: str, q: str, archived: str = "false", size: int = 2
) -> list[Customer]:
    """Every customer the search finds, `size` a page, following the pages to the end."""
    found: list[Customer] = []
    after = None
    chosen = Filters(archived=archived)
    while True:
        page = await store.list_page(organization_id, size, after, q, NEWEST_FIRST, chosen)
        found += page
        if len(page) < size:
            return found
        after = Position(page[-1]["created_at"], page[-1]["id"])


def keys(customers: list[Customer]) -> list[tuple[str, str, str]]:
    return [(c["created_at"], c["id"], c["name"]) for c in customers]


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


MONTHS_ORG = "org-months"
MONTHS_TERM = "wyvern"
# Months far out of the index's range (before 2000, after 2085) share its first or last.
FAR_PAST = (datetime(1998, 12, 31, 23, 59, tzinfo=UTC), datetime(1999, 6, 1, tzinfo=UTC))
FAR_FUTURE = (datetime(2090, 1, 1, tzinfo=UTC),)


@dataclass(frozen=True, slots=True)
class Months:
    path: Path
    # (created_at, id, name) of the organization's customers with the term, newest first.
    matches: list[tuple[str, str, str]]


@pytest.fixture
def months(tmp_path: Path) -> Months:
    """An organization with customers over 40 months, a few with the term, then more newer
    customers without it than a search walks; another organization with the term alike."""
    path = migrated(tmp_path)
    rows: list[tuple[datetime, str, str]] = []
    for month in range(40):
        for day in range(1, 29, 3):
            moment = datetime(2023 + month // 12, month % 12 + 1, day, 12, tzinfo=UTC)
            name = f"Wyvern {month}-{day}" if (month * 7 + day) % 13 == 0 else f"Kunde {month}"
            rows.append((moment, MONTHS_ORG, name))
            rows.append((moment, "org-other", f"Wyvern Other {month}-{day}"))
    rows += [(moment, MONTHS_ORG, "Wyvern Far") for moment in (*FAR_PAST, *FAR_FUTURE)]
    # Two customers created in the same microsecond, told apart by their ids.
    twin = datetime(2024, 5, 17, 8, tzinfo=UTC)
    rows += [(twin, MONTHS_ORG, "Wyvern Twin A"), (twin, MONTHS_ORG, "Wyvern Twin B")]
    newest = datetime(2026, 5, 30, tzinfo=UTC)
    imported = 3 * WALKED_PER_ROW * 2
    rows += [(newest + timedelta(seconds=n), MONTHS_ORG, f"Import {n}") for n in range(imported)]
    added = insert_at(path, rows)
    ours = owned_by(added, rows, MONTHS_ORG)
    return Months(path, sorted((row for row in ours if MONTHS_TERM in fold(row[2])), reverse=True))


class TestMonthWindows:
    @pytest.mark.parametrize("size", [1, 2, 5, 100])
    async def test_every_match_is_found_once_in_page_order_whatever_lies_above_it(
        self, months: Months, size: int
    ) -> None:
        async with opened(SqliteStore(months.path)) as store:
            found = await search_all(store, MONTHS_ORG, MONTHS_TERM, size=size)
        assert keys(found) == months.matches
        assert len(months.matches) > 10

    async def test_archived_matches_are_found_only_when_asked_for(self, months: Months) -> None:
        archived = {id_ for _, id_, _ in months.matches[1::3]}
        db = sqlite3.connect(months.path, isolation_level=None)
        db.executemany(
            "UPDATE customers SET archived_at = created_at WHERE id = ?", [(i,) for i in archived]
        )
        db.close()
        async with opened(SqliteStore(months.path)) as store:
            for which, expected in (
                ("false", [row for row in months.matches if row[1] not in archived]),
                ("true", [row for row in months.matches if row[1] in archived]),
                ("any", months.matches),
            ):
                assert keys(await search_all(store, MONTHS_ORG, MONTHS_TERM, which)) == expected

    async def test_a_renamed_or_deleted_customer_is_found_by_its_name_as_it_is_now(
        self, months: Months
    ) -> None:
        renamed, deleted = months.matches[3], months.matches[-2]
        db = sqlite3.connect(months.path, isolation_level=None)
        db.execute(
            "UPDATE customers SET name = 'Basilisk', name_search = 'basilisk' WHERE id = ?",
            (renamed[1],),
        )
        db.execute("DELETE FROM customers WHERE id = ?", (deleted[1],))
        db.close()
        async with opened(SqliteStore(months.path)) as store:
            found = await search_all(store, MONTHS_ORG, MONTHS_TERM)
            assert keys(found) == [row for row in months.matches if row not in (renamed, deleted)]
            assert [c["id"] for c in await search_all(store, MONTHS_ORG, "basilisk")] == [
                renamed[1]
            ]

    async def test_a_term_in_no_name_of_the_organization_finds_nothing(
        self, months: Months
    ) -> None:
        async with opened(SqliteStore(months.path)) as store:
            assert await store.list_page(MONTHS_ORG, 10, None, "other") == []
            assert await store.list_page("org-unknown", 10, None, MONTHS_TERM) == []

    def test_a_window_reads_the_index_then_each_customer_by_its_seq(self, months: Months) -> None:
        statements: list[str] = []
        db = sqlite3.connect(months.path)
        db.set_trace_callback(statements.append)
        request = PageRequest(MONTHS_ORG, 5, None, MONTHS_TERM)
        assert len(read_page(db, request)) == 5
        db.set_trace_callback(None)
        window = next(s for s in statements if "customer_search MATCH" in s)
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + window)]
        db.close()
        assert plan[0].startswith("SCAN customer_search VIRTUAL TABLE")
        assert "SEARCH customers USING INTEGER PRIMARY KEY (rowid=?)" in plan
        assert not any(step.startswith("SCAN customers") for step in plan)


class TestOrganizationNumbers:
    async def test_organizations_sharing_a_range_of_the_index_each_find_only_their_own(
        self, tmp_path: Path
    ) -> None:
        # Numbered 65,535 (the last range) and 131,071 (past 16 bits: the same range).
        path = migrated(tmp_path)
        db = sqlite3.connect(path, isolation_level=None)
        db.executemany(
            "INSERT INTO customer_search_organizations(number, organization_id) VALUES (?, ?)",
            [(65_535, "org-last"), (131_071, "org-wrapped")],
        )
        db.close()
        rows = [
            (datetime(2023 + n % 3, n % 12 + 1, 1, tzinfo=UTC), org, f"Griffin {org} {n}")
            for n in range(30)
            for org in ("org-last", "org-wrapped")
        ]
        rows += [(datetime(2026, 6, 1, tzinfo=UTC), "org-last", f"Filler {n}") for n in range(50)]
        # In the last month of the last range: its window ends at the largest rowid.
        future = datetime(2090, 1, 1, tzinfo=UTC)
        rows += [(future, org, "Griffin Future") for org in ("org-last", "org-wrapped")]
        added = insert_at(path, rows)
        async with opened(SqliteStore(path)) as store:
            for org in ("org-last", "org-wrapped"):
                expected = sorted(row for row in owned_by(added, rows, org) if "Griffin" in row[2])
                found = await search_all(store, org, "griffin")
                assert keys(found) == expected[::-1]


class TestMigration:
    def test_names_stored_before_the_monthly_index_are_found_through_it_and_after_a_downgrade(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "expensicat.db"
        database = make_settings(f"sqlite:///{path}", tmp_path).database
        upgrade(database, "0013")
        rows = [
            (datetime(2024, n % 12 + 1, 2, tzinfo=UTC), f"org-{n % 2}", f"Manticore {n}")
            for n in range(40)
        ]
        rows += [(datetime(2025, 3, 1, tzinfo=UTC), "org-0", f"Filler {n}") for n in range(100)]
        added = insert_at(path, rows)
        expected = sorted(owned_by(added, rows, "org-0"), reverse=True)
        upgrade(database)

        async def found() -> list[tuple[str, str, str]]:
            async with opened(SqliteStore(path)) as store:
                return keys(await search_all(store, "org-0", "manticore"))

        assert asyncio.run(found()) == [row for row in expected if "Manticore" in row[2]]
        command.downgrade(alembic_config(database.url), "0013")
        db = sqlite3.connect(path)
        (matches,) = db.execute(
            "SELECT count(*) FROM customer_names WHERE customer_names MATCH 'manticore'"
        ).fetchone()
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        db.close()
        assert matches == 40
        assert not {"customer_search", "customer_search_organizations"} & tables


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
