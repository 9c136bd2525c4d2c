"""The tables the store's statements are written against are the tables the migrations
create: the same columns in the same order, types, nullability and keys, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, Table, create_engine, inspect, pool

from expensicat.config import Settings
from expensicat.db.migrate import sqlalchemy_url
from expensicat.db.tables import customer_changes, customers, metadata


@pytest.fixture(scope="module")
def engine(migrated: Settings) -> Iterator[Engine]:
    engine = create_engine(sqlalchemy_url(migrated.database.url), poolclass=pool.NullPool)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("table", metadata.sorted_tables, ids=lambda table: table.name)
class TestTables:
    def test_columns_match_the_migrated_schema(self, engine: Engine, table: Table) -> None:
        reflected = inspect(engine).get_columns(table.name)
        if engine.dialect.name == "sqlite" and table is customers:
            # SQLite's rowid key, which only its name index reads.
            assert reflected[0]["name"] == "seq"
            reflected = reflected[1:]

        assert [column["name"] for column in reflected] == [column.name for column in table.c]
        for found, column in zip(reflected, table.c, strict=True):
            spelled = column.type.compile(dialect=engine.dialect)
            assert found["type"].compile(dialect=engine.dialect) == spelled, column.name
            assert found["nullable"] == column.nullable, column.name

    def test_the_key_matches_the_migrated_schema(self, engine: Engine, table: Table) -> None:
        inspector = inspect(engine)
        key = [column.name for column in table.primary_key]
        found = inspector.get_pk_constraint(table.name)["constrained_columns"]
        if engine.dialect.name == "sqlite" and table is customer_changes:
            # The rowid alone: SQLite's single writer makes tx always 0 (migration 0009).
            assert found == ["seq"]
        elif engine.dialect.name == "sqlite" and table is customers:
            assert found == ["seq"]
            unique = inspector.get_unique_constraints(table.name)
            assert [constraint["column_names"] for constraint in unique] == [key]
        else:
            assert found == key
