"""The database itself refuses rows that break the customer rules, whoever writes them.

These tests bypass the API and insert or update rows with plain SQL, on a real SQLite file
and a real PostgreSQL server migrated like production.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uuid_utils
from alembic import command
from sqlalchemy import Engine, create_engine, pool, text
from sqlalchemy.exc import DataError, IntegrityError

from expensicat.config import Settings
from expensicat.customers.fields import PUBLIC_FIELDS
from expensicat.db.migrate import alembic_config, sqlalchemy_url, upgrade
from tests.conftest import make_settings
from tests.support.postgres import PostgresServer

CREATED = "2026-11-28T07:16:53.123456Z"
COLUMNS = (*PUBLIC_FIELDS, "name_search", "version")
INSERT = text(
    f"INSERT INTO customers ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join(f':{column}' for column in COLUMNS)})"
)
REFUSED = (IntegrityError, DataError)

# Rows no API request can produce; each must be refused by every database.
BAD_VALUES: list[tuple[str, Any]] = [
    ("organization_id", None),
    ("organization_id", ""),
    ("organization_id", " \t "),
    ("organization_id", "o" * 256),
    ("id", None),
    ("id", "not-a-uuid"),
    ("name", None),
    ("name", ""),
    ("name", "   "),
    ("name", "\t\n\u3000"),
    ("name", " Acme"),
    ("name", "Acme\n"),
    ("name", "n" * 256),
    ("name", "Ac\x00me"),
    ("name_search", None),
    ("email", ""),
    ("email", "  "),
    ("email", "no-at-sign"),
    ("email", "e" * 250 + "@x.com"),
    ("phone", " +49 30 1234 "),
    ("city", "c" * 256),
    ("notes", "n" * 10_001),
    ("notes", "\x00" + "n" * 10_001),
    ("website", "acme.com"),
    ("website", "ftp://acme.com"),
    ("country_code", "de"),
    ("country_code", "D"),
    ("country_code", "DEU"),
    ("country_code", "12"),
    ("created_at", None),
    ("created_at", "not a time"),
    ("updated_at", "2026-11-27T07:16:53.123456Z"),
    ("version", 0),
]
# Ids and timestamps are text on SQLite; PostgreSQL stores them as uuid and timestamptz,
# which take these spellings and keep them in canonical form.
SQLITE_BAD_VALUES: list[tuple[str, Any]] = [
    ("id", "0190A6B2-0000-7000-8000-000000000000"),
    ("created_at", "2026-11-28 07:16:53"),
    ("updated_at", "2026-11-28T07:16:53Z"),
]


def migrated_engine(url: str, data_dir: Path) -> Engine:
    upgrade(make_settings(url, data_dir).database)
    return create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    data_dir = tmp_path_factory.mktemp("constraints")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'expensicat.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = migrated_engine(url, data_dir)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    data_dir = tmp_path_factory.mktemp("constraints")
    engine = migrated_engine(f"sqlite:///{data_dir / 'expensicat.db'}", data_dir)
    yield engine
    engine.dispose()


def valid_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        organization_id=f"org-{uuid.uuid4().hex[:12]}",
        id=str(uuid_utils.uuid7()),
        name="Müller GmbH",
        name_search="muller gmbh",
        email="billing@mueller.de",
        website="https://mueller.de",
        country_code="DE",
        notes="Pays on time.",
        created_at=CREATED,
        updated_at=CREATED,
        version=1,
    )
    row.update(changes)
    return row


def insert(engine: Engine, row: dict[str, Any]) -> None:
    with engine.begin() as connection:
        connection.execute(INSERT, row)


def update(engine: Engine, row: dict[str, Any], column: str, value: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                f"UPDATE customers SET {column} = :value WHERE organization_id = :org AND id = :id"
            ),
            {"value": value, "org": row["organization_id"], "id": row["id"]},
        )


class TestCustomersTable:
    def test_a_row_the_api_would_write_is_stored(self, engine: Engine) -> None:
        row = valid_row(phone="+49 30 1234", name="n" * 255, notes="n" * 10_000)
        insert(engine, row)
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT name, notes FROM customers WHERE organization_id = :org"),
                {"org": row["organization_id"]},
            ).one()
        assert tuple(stored) == (row["name"], row["notes"])

    @pytest.mark.parametrize(("column", "value"), BAD_VALUES)
    def test_a_broken_rule_is_refused_on_insert(
        self, engine: Engine, column: str, value: Any
    ) -> None:
        with pytest.raises(REFUSED):
            insert(engine, valid_row(**{column: value}))

    @pytest.mark.parametrize(("column", "value"), BAD_VALUES)
    def test_a_broken_rule_is_refused_on_update(
        self, engine: Engine, column: str, value: Any
    ) -> None:
        row = valid_row()
        insert(engine, row)
        with pytest.raises(REFUSED):
            update(engine, row, column, value)

    def test_an_id_twice_in_one_organization_is_refused(self, engine: Engine) -> None:
        row = valid_row()
        insert(engine, row)
        with pytest.raises(IntegrityError):
            insert(engine, valid_row(organization_id=row["organization_id"], id=row["id"]))


class TestSqliteTextColumns:
    @pytest.mark.parametrize(("column", "value"), SQLITE_BAD_VALUES)
    def test_ids_and_timestamps_keep_their_canonical_form(
        self, sqlite_engine: Engine, column: str, value: Any
    ) -> None:
        with pytest.raises(IntegrityError):
            insert(sqlite_engine, valid_row(**{column: value}))


# Each CHECK constraint on customers, as PostgreSQL prints it.
CHECKS = text(
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'customers'::regclass AND contype = 'c' ORDER BY conname"
)


def checks(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(CHECKS).all())


class TestRulesMigration:
    """Migration 0015 checks the rules in one function, under one constraint, on PostgreSQL."""

    @pytest.fixture
    def settings(self, postgres_server: PostgresServer, tmp_path: Path) -> Settings:
        """A database migrated up to the revision before."""
        name = f"expensicat_rules_{uuid.uuid4().hex[:8]}"
        postgres_server.create_database(name)
        settings = make_settings(postgres_server.url(name), tmp_path)
        upgrade(settings.database, "0014")
        return settings

    @pytest.fixture
    def rules_engine(self, settings: Settings) -> Iterator[Engine]:
        engine = create_engine(sqlalchemy_url(settings.database.url), poolclass=pool.NullPool)
        yield engine
        engine.dispose()

    def test_one_constraint_refuses_what_the_old_ones_did_and_names_the_rule(
        self, settings: Settings, rules_engine: Engine
    ) -> None:
        assert len(checks(rules_engine)) == 35
        upgrade(settings.database)
        assert list(checks(rules_engine)) == ["customer_rules"]

        with pytest.raises(IntegrityError) as refused:
            insert(rules_engine, valid_row(website="ftp://acme.com"))
        assert refused.value.orig.diag.constraint_name == "website_http"  # type: ignore[union-attr]
        assert 'violates check constraint "website_http"' in str(refused.value.orig)
        insert(rules_engine, valid_row())

    def test_downgrading_brings_back_every_constraint_as_it_was(
        self, settings: Settings, rules_engine: Engine
    ) -> None:
        before = checks(rules_engine)
        upgrade(settings.database)
        insert(rules_engine, valid_row())
        command.downgrade(alembic_config(settings.database.url), "0014")
        with rules_engine.connect() as connection:
            functions = connection.execute(
                text("SELECT count(*) FROM pg_proc WHERE proname = 'customer_rules_hold'")
            ).scalar_one()
        assert checks(rules_engine) == before
        assert functions == 0
        with pytest.raises(IntegrityError):
            insert(rules_engine, valid_row(country_code="de"))
