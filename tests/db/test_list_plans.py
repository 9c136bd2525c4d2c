"""Each list filter and sort has an index of its own on both databases: the plans say so."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg
import pytest

from expensicat.config import Settings
from expensicat.customers.listing import SORTS
from expensicat.db.compiled import POSTGRES, SQLITE
from expensicat.db.filtered_pages import filtered_page
from expensicat.db.postgres import ONE_PLAN_FOR_ALL
from tests.support.postgres import sql_literals

NOW = "2026-11-28T07:32:27.000000Z"
VALUES: dict[str, Any] = {
    "organization_id": "org-plans",
    "limit": 21,
    "archived": "false",
    "email": "a@example.org",
    "tax_id": "DE123",
    "country_code": "DE",
    "created_after": NOW,
    "created_before": NOW,
    "updated_after": NOW,
    "updated_before": NOW,
    "after_value": NOW,
    "after_id": "0190a6b2-0000-7000-8000-000000000000",
}
# Each filter alone, and the index that must serve it.
FILTERED = {
    "email": "customers_by_email",
    "tax_id": "customers_by_tax_id",
    "country_code": "customers_by_country",
    "created_after": "customers_page_order",
    "created_before": "customers_page_order",
}
SORTED = {
    "created_at": "customers_page_order",
    "-created_at": "customers_page_order",
    "name": "customers_by_name",
    "-name": "customers_by_name",
    "updated_at": "customers_by_update",
    "-updated_at": "customers_by_update",
}


def shapes() -> list[tuple[str, tuple[str, ...], bool, str]]:
    """(sort, filters, after, index expected) for each filter and each sort."""
    found: list[tuple[str, tuple[str, ...], bool, str]] = [
        ("-created_at", ("archived", name), False, index) for name, index in FILTERED.items()
    ]
    found += [
        (sort, ("archived",), after, index)
        for sort, index in SORTED.items()
        for after in (False, True)
    ]
    return found


def plan_on_sqlite(settings: Settings, sort: str, filters: tuple[str, ...], after: bool) -> str:
    column, descending = SORTS[sort]
    query = filtered_page(SQLITE, column, descending, filters, after, False)
    values = {**VALUES, "after_value": "m" if column == "name_search" else NOW}
    with sqlite3.connect(settings.database.sqlite_path) as connection:
        rows = connection.execute(f"EXPLAIN QUERY PLAN {query.sql}", query.args(values))
        return "\n".join(str(row[-1]) for row in rows)


async def plan_on_postgres(
    url: str, sort: str, filters: tuple[str, ...], after: bool, generic: bool
) -> str:
    """The plan for these values, or with `generic`, the one plan the service's connections
    use for every value (see db/postgres.py)."""
    column, descending = SORTS[sort]
    query = filtered_page(POSTGRES, column, descending, filters, after, False)
    values = {**VALUES, "after_value": "m" if column == "name_search" else NOW}
    connection = await asyncpg.connect(url)
    try:
        # A test organization is small enough to read whole and sort; what is asked is whether
        # an index serves the query in order, so reading the whole table, bitmaps (which lose
        # the order) and sorting are taken off the planner's options.
        await connection.execute(
            "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off"
        )
        if generic:
            await connection.execute(ONE_PLAN_FOR_ALL)
            await connection.execute(f"PREPARE shape AS {query.sql}")
            arguments = sql_literals(query.args(values))
            rows = await connection.fetch(f"EXPLAIN EXECUTE shape({arguments})")
        else:
            rows = await connection.fetch(f"EXPLAIN {query.sql}", *query.args(values))
        return "\n".join(row[0] for row in rows)
    finally:
        await connection.close()


@pytest.mark.parametrize(("sort", "filters", "after", "index"), shapes())
def test_the_index_serves_the_filter_or_sort(
    migrated: Settings, sort: str, filters: tuple[str, ...], after: bool, index: str
) -> None:
    if migrated.database.is_sqlite:
        plans = [plan_on_sqlite(migrated, sort, filters, after)]
    else:
        url = migrated.database.url
        plans = [
            asyncio.run(plan_on_postgres(url, sort, filters, after, generic))
            for generic in (False, True)
        ]

    for plan in plans:
        assert index in plan, plan
        assert "SCAN customers\n" not in plan + "\n"  # SQLite reads no whole table
        assert "Seq Scan" not in plan
        assert "TEMP B-TREE" not in plan  # nor sorts what it reads: the index is in order
        assert "Sort" not in plan.replace("Sort Key", "")
