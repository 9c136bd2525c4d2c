"""A change keeps its entry, the JSON the feed lists: the store writes it with the change,
and migration 0018 gave the changes recorded before it the same, from their columns."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, create_engine, pool, text

from expensicat.changes.records import Actor, ChangeStamp
from expensicat.config import Settings
from expensicat.customers.fields import PUBLIC_FIELDS, customer_from
from expensicat.db import open_store
from expensicat.db.migrate import revision_module, sqlalchemy_url, upgrade
from expensicat.timestamps import timestamp, utc_now
from tests.conftest import make_settings
from tests.support.postgres import PostgresServer

ENTRY = revision_module("0018_change_entries.py")
KEYS = ["id", "type", "occurred_at", "customer_id", "customer", "actor"]
# A name, and an actor's id, that JSON must escape.
NAME = 'Müller "Rechnung" GmbH \\ Köln'
ACTOR_ID = 'user "7" \\ ünïcode'


@pytest.fixture(params=["sqlite", "postgres"])
def before_entries(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A database of each kind at the revision before entries."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'expensicat.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = f"expensicat_entries_{uuid.uuid4().hex[:8]}"
        server.create_database(name)
        url = server.url(name)
    settings = make_settings(url, tmp_path)
    upgrade(settings.database, "0017")
    return settings


@pytest.fixture
def engine(before_entries: Settings) -> Engine:
    return create_engine(sqlalchemy_url(before_entries.database.url), poolclass=pool.NullPool)


def test_changes_recorded_before_get_the_entry_their_columns_made(
    before_entries: Settings, engine: Engine
) -> None:
    org = "org-entries"
    created, erased = _change(org, "customer.created"), _change(org, "customer.erased")
    with engine.begin() as connection:
        for change in (created, erased):
            connection.execute(
                text(
                    "INSERT INTO customer_changes (organization_id, tx, id, type, occurred_at,"
                    " customer_id, customer, customer_version, actor_type, actor_id) VALUES"
                    " (:org, 0, :id, :type, :occurred_at, :customer_id, :customer, 1,"
                    " 'user', :actor_id)"
                ),
                {**change, "org": org, "actor_id": ACTOR_ID},
            )
    upgrade(before_entries.database)

    entries = [orjson.loads(entry) for entry in asyncio.run(_entries(before_entries, org))]

    assert [list(entry) for entry in entries] == [KEYS, KEYS]
    assert entries[0] == {**created, "customer": orjson.loads(created["customer"] or ""), **_ACTOR}
    assert entries[1] == {**erased, "customer": None, **_ACTOR}


def test_the_store_writes_the_entry_the_migration_would_make(
    before_entries: Settings, engine: Engine
) -> None:
    upgrade(before_entries.database)
    org = f"org-{uuid.uuid4().hex[:8]}"
    built = ENTRY.POSTGRES_ENTRY if engine.dialect.name == "postgresql" else ENTRY.SQLITE_ENTRY

    def entries() -> list[tuple[str, str]]:
        """Each change's entry as written, and as the migration builds it from its columns."""
        with engine.connect() as connection:
            query = f"SELECT entry, {built} FROM customer_changes WHERE organization_id = :org"
            return [(row[0], row[1]) for row in connection.execute(text(query), {"org": org})]

    before, after = asyncio.run(_create_update_and_erase(before_entries, org, entries))

    assert len(before) == 2
    assert len(after) == 3
    for written, from_columns in before + after:
        assert written == from_columns
    assert [orjson.loads(entry)["customer"]["name"] for entry, _ in before] == [NAME, NAME + "!"]
    assert [orjson.loads(entry)["customer"] for entry, _ in after] == [None, None, None]


_ACTOR = {"actor": {"type": "user", "id": ACTOR_ID}}


def _change(org: str, change_type: str) -> dict[str, str | None]:
    customer_id = str(uuid.uuid4())
    customer = {"id": customer_id, "organization_id": org, "name": NAME}
    return {
        "id": str(uuid.uuid4()),
        "type": change_type,
        "occurred_at": timestamp(utc_now()),
        "customer_id": customer_id,
        "customer": None if change_type == "customer.erased" else orjson.dumps(customer).decode(),
    }


async def _entries(settings: Settings, org: str) -> list[bytes]:
    store = await open_store(settings.database)
    try:
        _, page = await store.feed_page(org, (0, 0), 10)
        return [change.entry for change in page]
    finally:
        await store.close()


async def _create_update_and_erase(
    settings: Settings, org: str, entries: Callable[[], list[tuple[str, str]]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The entries after a customer is created and updated, and after it is erased."""
    store = await open_store(settings.database)
    actor: Actor = {"type": "user", "id": ACTOR_ID}
    try:
        customer = dict.fromkeys(PUBLIC_FIELDS)
        now = timestamp(utc_now())
        customer_id = str(uuid.uuid4())
        customer.update(
            id=customer_id, organization_id=org, name=NAME, created_at=now, updated_at=now
        )
        await store.insert(customer_from(customer), NAME.lower(), ChangeStamp.by(actor))
        later = timestamp(utc_now())
        await store.update(
            org, customer_id, {"name": NAME + "!"}, later, None, ChangeStamp.by(actor)
        )
        before = entries()
        erased_at = timestamp(utc_now())
        await store.erase(org, customer_id, None, "", erased_at, ChangeStamp.by(actor))
        return before, entries()
    finally:
        await store.close()
