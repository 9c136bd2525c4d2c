"""A worker's claim reads only the deliveries it leases, however many the endpoint's log
already holds: on PostgreSQL with the one generic plan every call uses."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg

from expensicat.config import Settings
from expensicat.db.compiled import POSTGRES, SQLITE
from expensicat.db.postgres import ONE_PLAN_FOR_ALL
from expensicat.db.webhooks import webhook_queries_for
from tests.support.postgres import sql_literals

ORG = "org-claim-plans"
ENDPOINT = str(uuid.UUID(int=7))
NOW = "2026-11-28T07:32:27.000000Z"
VALUES = {
    "organization_id": ORG,
    "endpoint_id": ENDPOINT,
    "now": NOW,
    "lease_until": "2026-11-28T07:33:00.000000Z",
    "limit": 5,
}
DELIVERED = 5000
PENDING = 10


Delivery = tuple[str, str, str, int, int, str, str, int]


def deliveries() -> list[Delivery]:
    """An endpoint's log: thousands delivered, a few still owed (organization, endpoint,
    change, tx, seq, type, status, attempts; the times are added per database)."""
    return [
        (ORG, ENDPOINT, str(uuid.UUID(int=n + 1)), 1, n, "customer.created",
         "delivered" if n < DELIVERED else "pending", 1)
        for n in range(DELIVERED + PENDING)
    ]  # fmt: skip


def test_a_claim_reads_only_the_deliveries_it_leases(migrated: Settings) -> None:
    if migrated.database.is_sqlite:
        plan = _plan_on_sqlite(migrated.database.sqlite_path)
        assert "SCAN webhook_deliveries\n" not in plan + "\n", plan
        assert "SEARCH webhook_deliveries USING" in plan
        return
    plan = asyncio.run(_generic_plan_on_postgres(migrated.database.url))
    assert "Seq Scan" not in plan, plan
    assert "Tid Scan on webhook_deliveries" in plan, plan
    assert "Index Scan using webhook_deliveries_due on webhook_deliveries due" in plan


def _plan_on_sqlite(path: Path) -> str:
    query = webhook_queries_for(SQLITE).claim.write
    with sqlite3.connect(path) as connection:
        connection.executemany(
            f"INSERT INTO webhook_deliveries VALUES ({', '.join('?' * 11)})",
            [(*row, NOW, None, NOW) for row in deliveries()],
        )
        connection.execute("ANALYZE")
        rows = connection.execute(f"EXPLAIN QUERY PLAN {query.sql}", query.args(VALUES))
        return "\n".join(str(row[-1]) for row in rows)


async def _generic_plan_on_postgres(url: str) -> str:
    query = webhook_queries_for(POSTGRES).claim.write
    connection = await asyncpg.connect(url)
    try:
        now = datetime.fromisoformat(NOW)
        records = [
            (org, uuid.UUID(endpoint), uuid.UUID(change), *rest, now, None, now)
            for org, endpoint, change, *rest in deliveries()
        ]
        await connection.copy_records_to_table("webhook_deliveries", records=records)
        await connection.execute("ANALYZE webhook_deliveries")
        await connection.execute(ONE_PLAN_FOR_ALL)
        await connection.execute(f"PREPARE claim AS {query.sql}")
        rows = await connection.fetch(f"EXPLAIN EXECUTE claim({sql_literals(query.args(VALUES))})")
        return "\n".join(row[0] for row in rows)
    finally:
        await connection.close()
