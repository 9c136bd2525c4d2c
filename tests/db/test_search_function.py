"""Search on PostgreSQL through search_customers (migrations 0005, 0006, 0012 and 0013), on a
real server.

The statement that calls the function is prepared once per connection and soon runs a
generic plan. The function walks the page order first, from a cached plan; a term too
sparse to fill the page there is then read month by month through the month-keyed trigram
index, however often the statements ran before. Walking the pages with a cursor must find
exactly the names that contain the term, newest first, wherever the months fall.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from expensicat.config import Settings
from expensicat.customers.fields import Customer
from expensicat.db.migrate import alembic_config, upgrade
from expensicat.db.postgres import ONE_PLAN_FOR_ALL, SEARCH_PAGE, PostgresStore
from expensicat.paging import Position
from tests.conftest import make_settings
from tests.support.postgres import PostgresServer

ORG, OTHER_ORG = "org-search", "org-search-other"
COMMON, RARE = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
SIZE = 20_000
# Every other customer has the common term; five have the rare one, three of them created in
# the same second, so that a page boundary falls between customers with equal timestamps.
RARE_ROWS = (1500, 1501, 1502, 4000, SIZE)
COMMON_ROWS = sum(1 for n in range(2, SIZE + 1, 2) if n not in RARE_ROWS)
SEED = """
INSERT INTO customers (organization_id, id, name, name_search, created_at, updated_at)
SELECT $1, gen_random_uuid(), name, lower(name), created_at, created_at
FROM (
    SELECT CASE WHEN n = ANY($4::int[]) THEN 'Rare ' || $3 || ' No ' || n
                WHEN n % 2 = 0 THEN 'Common ' || $2 || ' No ' || n
                ELSE 'Other No ' || n END AS name,
           timestamptz '2026-01-01 00:00:00Z' + (n / 3) * interval '1 second' AS created_at
    FROM generate_series(1, $5::int) AS n
) AS generated
"""
# Customers over 44 months, the term in one of every 97, none among the newest 500 (as after
# a bulk import of other names): a search reads month windows back through the years.
SPREAD_ORG, SPREAD = "org-search-months", uuid.uuid4().hex[:8]
SPREAD_SIZE, IMPORTED, SPREAD_EVERY = 4000, 500, 97
# The term in one of every 60: too few in the short walk to fill a page, enough for the long.
MIDDLING_ORG, MIDDLING, MIDDLING_EVERY = "org-search-middling", uuid.uuid4().hex[:8], 60
SPREAD_ROWS = sum(1 for n in range(SPREAD_EVERY, SPREAD_SIZE - IMPORTED + 1, SPREAD_EVERY))
SPREAD_SEED = """
INSERT INTO customers (organization_id, id, name, name_search, created_at, updated_at)
SELECT $1, gen_random_uuid(), name, lower(name), created_at, created_at
FROM (
    SELECT CASE WHEN n > $3::int - $4::int THEN 'Imported No ' || n
                WHEN n % $5::int = 0 THEN 'Spread ' || $2 || ' No ' || n
                ELSE 'Other No ' || n END AS name,
           timestamptz '2022-01-01 00:00:00Z' + n * interval '8 hours' AS created_at
    FROM generate_series(1, $3::int) AS n
) AS generated
"""
EXPECTED = """
SELECT id::text FROM customers WHERE organization_id = $1 AND strpos(name_search, $2) > 0
ORDER BY created_at DESC, id DESC
"""
FUNCTION_EXISTS = "SELECT count(*) FROM pg_proc WHERE proname = 'search_customers'"


def migrated_database(server: PostgresServer, name: str, data_dir: Path) -> Settings:
    server.create_database(name)
    settings = make_settings(server.url(name), data_dir)
    upgrade(settings.database)
    return settings


@pytest.fixture(scope="module")
def seeded(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A database of its own, so the planner's statistics describe just these customers."""
    settings = migrated_database(
        postgres_server, "expensicat_search", tmp_path_factory.mktemp("search")
    )

    async def seed() -> None:
        connection = await asyncpg.connect(settings.database.url)
        try:
            for org, size in ((ORG, SIZE), (OTHER_ORG, SIZE)):
                await connection.execute(SEED, org, COMMON, RARE, list(RARE_ROWS), size)
            for org in (SPREAD_ORG, OTHER_ORG):
                await connection.execute(
                    SPREAD_SEED, org, SPREAD, SPREAD_SIZE, IMPORTED, SPREAD_EVERY
                )
            await connection.execute(
                SPREAD_SEED, MIDDLING_ORG, MIDDLING, SPREAD_SIZE, 0, MIDDLING_EVERY
            )
            await connection.execute("ANALYZE customers")
        finally:
            await connection.close()

    asyncio.run(seed())
    return settings


@dataclass
class SearchPlans:
    """What auto_explain reported for one search: the walk, and the planned query if any."""

    walk: str = ""
    planned: str = ""
    walks: int = 0


async def search_plans(
    url: str, searches: list[tuple[str, Position | None]], org: str = ORG
) -> list[SearchPlans]:
    """The plans inside the function for each search, run in this order on one connection
    that caches statements as the service's do, as auto_explain reports them."""
    connection = await asyncpg.connect(url)
    reports: list[str] = []
    connection.add_log_listener(lambda _, message: reports.append(message.message))
    plans = []
    try:
        await connection.execute(
            "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
            "SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice"
        )
        await connection.execute(ONE_PLAN_FOR_ALL)
        for term, after in searches:
            key = [None, None] if after is None else [after.value, after.id]
            await connection.fetch(SEARCH_PAGE, org, f"%{term}%", 21, *key, "false")
            await asyncio.sleep(0.05)  # notices reach the listener through the event loop
            plans.append(SearchPlans(
                walk="".join(report for report in reports if "SELECT recent.id" in report),
                planned="".join(report for report in reports if "candidates" in report),
                walks=sum("SELECT recent.id" in report for report in reports),
            ))  # fmt: skip
            reports.clear()
        generic_runs = await connection.fetchval(
            "SELECT generic_plans FROM pg_prepared_statements WHERE statement = $1", SEARCH_PAGE
        )
    finally:
        await connection.close()
    assert generic_runs > 0, "the calling statement never ran a cached generic plan"
    return plans


async def walk(settings: Settings, term: str, limit: int, org: str = ORG) -> list[Customer]:
    store = await PostgresStore.connect(settings.database)
    try:
        customers: list[Customer] = []
        after = None
        while True:
            page = await store.list_page(org, limit, after, term)
            customers += page
            if len(page) < limit:
                return customers
            after = Position(page[-1]["created_at"], page[-1]["id"])
    finally:
        await store.close()


async def expected_ids(url: str, term: str, org: str = ORG) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return [row[0] for row in await connection.fetch(EXPECTED, org, term)]
    finally:
        await connection.close()


class TestSearchFunction:
    def test_a_sparse_term_is_planned_for_its_value_however_often_the_statements_ran(
        self, seeded: Settings
    ) -> None:
        after = Position("2026-01-01T00:30:00.000000Z", "ffffffff-ffff-7fff-bfff-ffffffffffff")
        # Rare terms first, on a connection whose cached statements all use one generic plan,
        # as the service's do: that plan must still read a rare term's month keys.
        terms = [RARE] * 6 + [COMMON, RARE] * 3
        searches = [(term, position) for position in (None, after) for term in terms]
        plans = asyncio.run(search_plans(seeded.database.url, searches))

        assert len(plans) == len(searches)
        for (term, _), plan in zip(searches, plans, strict=True):
            assert "customers_page_order" in plan.walk, plan
            assert plan.walks == 1, plan  # the short walk: full, or too sparse to walk on
            if term == COMMON:  # found within the walk: nothing else runs
                assert plan.planned == "", plan
            else:
                assert "customers_search_keys" in plan.planned, plan

    @pytest.mark.parametrize(
        ("term", "limit", "count"),
        [(COMMON, 100, COMMON_ROWS), (RARE, 2, len(RARE_ROWS))],
        ids=["common", "rare"],
    )
    def test_pages_walked_with_a_cursor_hold_exactly_the_matching_names(
        self, seeded: Settings, term: str, limit: int, count: int
    ) -> None:
        found = asyncio.run(walk(seeded, term, limit))

        assert [customer["id"] for customer in found] == asyncio.run(
            expected_ids(seeded.database.url, term)
        )
        assert all(term in customer["name"].lower() for customer in found)
        assert {customer["organization_id"] for customer in found} == {ORG}
        assert len(found) == count

    @pytest.mark.parametrize("limit", [1, 7, 100])
    def test_a_term_absent_from_the_newest_customers_is_found_month_by_month(
        self, seeded: Settings, limit: int
    ) -> None:
        found = asyncio.run(walk(seeded, SPREAD, limit, SPREAD_ORG))

        assert [customer["id"] for customer in found] == asyncio.run(
            expected_ids(seeded.database.url, SPREAD, SPREAD_ORG)
        )
        assert {customer["organization_id"] for customer in found} == {SPREAD_ORG}
        assert len(found) == SPREAD_ROWS

    def test_a_term_found_often_in_the_short_walk_is_walked_on_rather_than_read_by_month(
        self, seeded: Settings
    ) -> None:
        (plan,) = asyncio.run(search_plans(seeded.database.url, [(MIDDLING, None)], MIDDLING_ORG))
        assert plan.walks == 2, plan
        assert plan.planned == "", plan

        found = asyncio.run(walk(seeded, MIDDLING, 21, MIDDLING_ORG))
        assert [customer["id"] for customer in found] == asyncio.run(
            expected_ids(seeded.database.url, MIDDLING, MIDDLING_ORG)
        )
        assert len(found) == SPREAD_SIZE // MIDDLING_EVERY

    def test_a_term_no_name_contains_finds_nothing(self, seeded: Settings) -> None:
        assert asyncio.run(walk(seeded, uuid.uuid4().hex[:8], 21, SPREAD_ORG)) == []

    def test_analyze_keeps_no_statistics_of_the_search_keys(self, seeded: Settings) -> None:
        """No plan reads them (migration 0017), and they were half of what ANALYZE cost."""

        async def statistics(table: str) -> int:
            connection = await asyncpg.connect(seeded.database.url)
            try:
                count: int = await connection.fetchval(
                    "SELECT count(*) FROM pg_stats WHERE tablename = $1", table
                )
                return count
            finally:
                await connection.close()

        assert asyncio.run(statistics("customers_search_keys")) == 0
        assert asyncio.run(statistics("customers")) > 0


async def seed_spread(url: str, org: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(SPREAD_SEED, org, SPREAD, SPREAD_SIZE, IMPORTED, SPREAD_EVERY)
        await connection.execute("ANALYZE customers")
    finally:
        await connection.close()


class TestSearchMigration:
    def test_names_indexed_before_the_keys_were_rewritten_are_found_with_those_after(
        self, postgres_server: PostgresServer, tmp_path: Path
    ) -> None:
        """Migration 0013 rewrites the function the index's keys come from, not the index:
        keys stored by the old function and by the new one must both match a search."""
        postgres_server.create_database("expensicat_rekeyed")
        settings = make_settings(postgres_server.url("expensicat_rekeyed"), tmp_path)
        upgrade(settings.database, "0012")
        asyncio.run(seed_spread(settings.database.url, SPREAD_ORG))
        upgrade(settings.database)
        asyncio.run(seed_spread(settings.database.url, OTHER_ORG))

        for org in (SPREAD_ORG, OTHER_ORG):
            # Pages of 2: the first walk gives up short of the term, and the keys find it.
            found = asyncio.run(walk(settings, SPREAD, 2, org))
            expected = asyncio.run(expected_ids(settings.database.url, SPREAD, org))
            assert [customer["id"] for customer in found] == expected
            assert len(found) == SPREAD_ROWS

    def test_downgrading_removes_the_function_and_upgrading_brings_it_back(
        self, postgres_server: PostgresServer, tmp_path: Path
    ) -> None:
        settings = migrated_database(postgres_server, "expensicat_downgrade", tmp_path)
        config = alembic_config(settings.database.url)

        async def functions() -> int:
            connection = await asyncpg.connect(settings.database.url)
            try:
                count: int = await connection.fetchval(FUNCTION_EXISTS)
                return count
            finally:
                await connection.close()

        assert asyncio.run(functions()) == 1
        command.downgrade(config, "0005")
        assert asyncio.run(functions()) == 1
        command.downgrade(config, "0004")
        assert asyncio.run(functions()) == 0
        command.upgrade(config, "head")
        assert asyncio.run(functions()) == 1
