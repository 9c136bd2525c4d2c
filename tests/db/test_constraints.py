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
from sqlalchemy import Engine, create_engine, pool, text
from sqlalchemy.exc import DataError, IntegrityError

from expensicat.customers.fields import PUBLIC_FIELDS
from expensicat.db.migrate import sqlalchemy_url, upgrade
from tests.conftest import make_settings

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
