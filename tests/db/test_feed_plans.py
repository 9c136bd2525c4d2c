"""A page of the changes feed is read along the index in place order, from the cursor on: it
costs the same at the head of a long feed as at its start."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg

from expensicat.config import Settings
from expensicat.db.compiled import POSTGRES, SQLITE
from expensicat.db.queries import queries_for

VALUES = {"organization_id": "org-plans", "after_tx": 0, "after_seq": 5, "limit": 101}


def test_a_feed_page_is_read_along_the_index_from_the_cursor(migrated: Settings) -> None:
    if migrated.database.is_sqlite:
        query = queries_for(SQLITE).feed_page
        with sqlite3.connect(migrated.database.sqlite_path) as connection:
            rows = connection.execute(f"EXPLAIN QUERY PLAN {query.sql}", query.args(VALUES))
            plan = "\n".join(str(row[-1]) for row in rows)
        # The seq bound is part of the search, not a filter over every change of the org.
        expected = "USING INDEX customer_changes_in_order (organization_id=? AND tx=? AND seq>?"
        assert expected in plan, plan
        assert "SCAN customer_changes" not in plan
    else:
        plan = asyncio.run(_plan_on_postgres(migrated.database.url))
        assert "Index Scan using customer_changes_pkey" in plan, plan
        assert "Index Cond: ((organization_id = 'org-plans'::text) AND (ROW(tx, seq) > ROW(" in plan
        assert "Seq Scan" not in plan


async def _plan_on_postgres(url: str) -> str:
    query = queries_for(POSTGRES).feed_page
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
        rows = await connection.fetch(f"EXPLAIN {query.sql}", *query.args(VALUES))
        return "\n".join(row[0] for row in rows)
    finally:
        await connection.close()
