"""Units of work on both databases: joined writes commit with the main write, once per row
it wrote; a main write that finds nothing joins nothing; a guard that fails, or a joined
write that fails, leaves everything as it was.

The joined write here stands in for a change record: a row of idempotency_keys named
after the updated customer and stamped with its new updated_at, built from `written`.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import FromClause

from expensicat.changes.records import Actor, ChangeStamp
from expensicat.config import Settings
from expensicat.customers.fields import PUBLIC_FIELDS, Customer, customer_from
from expensicat.db.compiled import POSTGRES, SQLITE, compile_for
from expensicat.db.postgres import PostgresDriver
from expensicat.db.queries import HOLD_KEY, STORED, queries_for, update_customer
from expensicat.db.sqlite import SqliteDriver
from expensicat.db.store import Driver, Store
from expensicat.db.tables import customers
from expensicat.db.tables import idempotency_keys as keys
from expensicat.db.unit_of_work import UnitOfWork, plan

pytestmark = pytest.mark.anyio

CREATED = "2026-11-28T07:16:53.123456Z"
CHANGED = "2026-11-28T08:00:00.000000Z"
LEASE_UNTIL = "2026-11-28T09:00:00.000000Z"
FIND_CHANGE = select(keys.c.request_hash, keys.c.created_at).where(
    keys.c.organization_id == bindparam("organization_id"), keys.c.key == bindparam("key")
)


def change_record(written: FromClause) -> Insert:
    return insert(keys).from_select(
        ["organization_id", "key", "request_hash", "created_at", "locked_until"],
        select(
            written.c.organization_id,
            written.c.id,
            bindparam("change"),
            written.c.updated_at,
            written.c.updated_at,
        ),
    )


def notes_with_change(*, conditional: bool = False, guarded: bool = False) -> UnitOfWork:
    """An update of the notes, joined by a change record; with `guarded`, only while an
    idempotency key is held."""
    unit = update_customer(("notes",), conditional)
    return dataclasses.replace(unit, guard=HOLD_KEY if guarded else None, joined=(change_record,))


@pytest.fixture
async def driver(migrated: Settings) -> AsyncIterator[Driver]:
    driver: Driver
    if migrated.database.is_sqlite:
        driver = SqliteDriver(migrated.database.sqlite_path)
    else:
        driver = await PostgresDriver.connect(migrated.database)
    try:
        yield driver
    finally:
        await driver.close()


ACTOR: Actor = {"type": "user", "id": "user-1"}


@pytest.fixture
async def customer(driver: Driver, org: str) -> Customer:
    values = dict.fromkeys(PUBLIC_FIELDS)
    values.update(
        id=str(uuid.uuid4()), organization_id=org, name="Acme", notes="before",
        created_at=CREATED, updated_at=CREATED,
    )  # fmt: skip
    customer = customer_from(values)
    assert await Store(driver).insert(customer, "acme", ChangeStamp.by(ACTOR))
    return customer


def values(customer: Customer, **more: Any) -> dict[str, Any]:
    return {
        "organization_id": customer["organization_id"],
        "id": customer["id"],
        "notes": "after",
        "now": CHANGED,
        "change": "notes changed",
        **more,
    }


async def current(driver: Driver, customer: Customer) -> tuple[Any, ...]:
    query = compile_for(select(*STORED).where(customers.c.id == bindparam("id")), driver.dialect)
    [row] = await driver.read(query, {"id": customer["id"]})
    return tuple(row)


async def change_of(driver: Driver, customer: Customer) -> tuple[Any, ...] | None:
    rows = await driver.read(
        compile_for(FIND_CHANGE, driver.dialect),
        {"organization_id": customer["organization_id"], "key": customer["id"]},
    )
    return tuple(rows[0]) if rows else None


async def test_joined_writes_commit_with_the_main_write(driver: Driver, customer: Customer) -> None:
    rows = await driver.write(plan(notes_with_change(), driver.dialect), values(customer))

    [row] = rows
    assert tuple(row) == await current(driver, customer)
    assert row[PUBLIC_FIELDS.index("notes")] == "after"
    assert row[-1] == 2
    assert await change_of(driver, customer) == ("notes changed", CHANGED)


async def test_a_main_write_that_finds_nothing_joins_nothing(
    driver: Driver, customer: Customer
) -> None:
    unit = notes_with_change(conditional=True)
    before = await current(driver, customer)

    rows = await driver.write(plan(unit, driver.dialect), values(customer, expected_version=7))

    assert rows == []
    assert await current(driver, customer) == before
    assert await change_of(driver, customer) is None


async def test_a_guard_that_fails_writes_nothing(driver: Driver, customer: Customer) -> None:
    before = await current(driver, customer)
    # No request holds this key: recording a response on it changes no row.
    held = values(customer, key="never-claimed", lease_until=LEASE_UNTIL, response="{}")

    rows = await driver.write(plan(notes_with_change(guarded=True), driver.dialect), held)

    assert rows == []
    assert await current(driver, customer) == before
    assert await change_of(driver, customer) is None


async def test_a_guard_that_holds_commits_with_the_rest(driver: Driver, customer: Customer) -> None:
    org = customer["organization_id"]
    claimed = await Store(driver).claim_key(org, "k1", "hash", CREATED, LEASE_UNTIL, CREATED)
    assert claimed.claimed
    held = values(customer, key="k1", lease_until=LEASE_UNTIL, response='{"done": true}')

    rows = await driver.write(plan(notes_with_change(guarded=True), driver.dialect), held)

    assert len(rows) == 1
    assert await change_of(driver, customer) == ("notes changed", CHANGED)
    replay = await Store(driver).claim_key(org, "k1", "hash", CHANGED, LEASE_UNTIL, CREATED)
    assert replay.response == '{"done": true}'


async def test_a_joined_write_that_fails_undoes_the_main_write(
    driver: Driver, customer: Customer
) -> None:
    before = await current(driver, customer)
    # Keys are at most 255 characters: the change record is refused.
    oversized = dataclasses.replace(notes_with_change(), joined=(_oversized_change,))

    with pytest.raises(Exception, match=r"(?i)check|constraint"):
        await driver.write(plan(oversized, driver.dialect), values(customer, long="k" * 256))

    assert await current(driver, customer) == before


def _oversized_change(written: FromClause) -> Insert:
    return insert(keys).from_select(
        ["organization_id", "key", "request_hash", "created_at", "locked_until"],
        select(
            written.c.organization_id,
            bindparam("long"),
            bindparam("change"),
            written.c.updated_at,
            written.c.updated_at,
        ),
    )


class TestPlans:
    def test_on_postgresql_a_unit_is_one_statement(self) -> None:
        compiled = plan(notes_with_change(guarded=True), POSTGRES)
        assert compiled.one_statement
        assert compiled.write.sql.startswith("WITH held AS")

    def test_on_sqlite_a_unit_is_its_statements_in_order(self) -> None:
        compiled = plan(notes_with_change(guarded=True), SQLITE)
        assert compiled.guard is not None
        assert compiled.write.sql.startswith("UPDATE customers")
        assert [step.sql.split()[:3] for step in compiled.joined] == [["WITH", "written", "AS"]]

    def test_update_texts_are_the_same_whatever_order_the_fields_came_in(self) -> None:
        queries = queries_for(POSTGRES)
        first = queries.update(("notes", "email", "name"), True)
        again = queries.update(("name", "notes", "email"), True)
        assert first is again
