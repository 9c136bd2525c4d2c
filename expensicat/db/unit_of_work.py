"""A write and whatever must commit with it: all of it, or none.

A unit of work is a main write (an INSERT or UPDATE with RETURNING), at most one guard that
must hold first, and joined writes that follow the main one. The store defines each unit
once; `plan` compiles it for a database:

- PostgreSQL runs it as one statement, so one round trip: the guard and the joined writes
  become data-modifying CTEs around the main write, which PostgreSQL applies atomically.
- SQLite, which has no data-modifying CTEs, runs the same statements one after another in
  one transaction that holds the write lock from the start (`run_in_transaction`).

The guard names one row by its key and must change it (the idempotency key this request
still holds: it records the response there); if it does not, nothing is written. A
statement cannot undo one CTE's write when another's condition fails, hence one guard at
most.

A joined write (a change record, an outbox row, a scrub) is built from `written`: the rows
the main write returned, as a table with its RETURNING columns. It runs once per such row,
so not at all when the main write found nothing (a stale version). On PostgreSQL `written`
is the main write's CTE; on SQLite it is those values bound as parameters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, bindparam, exists, insert, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import (
    ReturningDelete,
    ReturningInsert,
    ReturningUpdate,
    Update,
    UpdateBase,
)
from sqlalchemy.sql.expression import ColumnElement, FromClause, Select

from expensicat.db.compiled import Compiled, compile_for

WRITTEN = "written"
# The dialects that take INSERT, UPDATE and DELETE inside WITH.
_WRITABLE_CTES = {"postgresql"}

Condition = ColumnElement[bool]
MainWrite = ReturningInsert[Any] | ReturningUpdate[Any] | ReturningDelete[Any]
Joined = Callable[[FromClause], UpdateBase]


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """The main write, built for the condition it must also meet (None: none), the guard
    that must change exactly one row first, and the writes that join each written row."""

    write: Callable[[Condition | None], MainWrite]
    guard: Update | None = None
    joined: tuple[Joined, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """A unit compiled for one database: `write` alone when it is one statement; else the
    guard, the main write and the joined writes, to run in order in one transaction."""

    write: Compiled
    guard: Compiled | None = None
    joined: tuple[Compiled, ...] = ()
    # The main write's RETURNING columns, which a joined write reads as `written_<name>`.
    written: tuple[str, ...] = ()

    @property
    def one_statement(self) -> bool:
        return self.guard is None and not self.joined


def plan(unit: UnitOfWork, dialect: Dialect) -> Plan:
    """The unit compiled for a database: one statement where it can, else in steps."""
    if dialect.name in _WRITABLE_CTES:
        return Plan(compile_for(_one_statement(unit), dialect))
    write = unit.write(None)
    written = tuple(str(name) for name, _ in write.exported_columns.items())
    source = _bound(write)
    return Plan(
        write=compile_for(write, dialect),
        guard=None if unit.guard is None else compile_for(unit.guard, dialect),
        joined=tuple(compile_for(joined(source), dialect) for joined in unit.joined),
        written=written,
    )


def insert_row(table: Table, names: Sequence[str], when: Condition | None) -> Insert:
    """An INSERT of one row from parameters named like its columns; under a condition,
    INSERT ... SELECT ... WHERE, which inserts nothing when the condition fails."""
    values = [bindparam(name, type_=table.c[name].type) for name in names]
    if when is None:
        return insert(table).values(dict(zip(names, values, strict=True)))
    row = select(*(value.label(name) for name, value in zip(names, values, strict=True)))
    return insert(table).from_select(names, row.where(when))


def run_in_transaction(
    db: sqlite3.Connection, plan: Plan, values: Mapping[str, Any]
) -> list[Sequence[Any]]:
    """Run a plan in steps on SQLite; the rows the main write returned (none if the guard
    failed)."""
    if plan.one_statement:  # atomic on its own, and it takes the write lock as it starts
        return db.execute(plan.write.sql, plan.write.args(values)).fetchall()
    try:
        with _transaction(db):
            guard = plan.guard
            if guard is not None and db.execute(guard.sql, guard.args(values)).rowcount != 1:
                raise _GuardFailed
            rows: list[Sequence[Any]] = db.execute(
                plan.write.sql, plan.write.args(values)
            ).fetchall()
            for row in rows:
                row_values = {**values, **_written_values(plan.written, row)}
                for joined in plan.joined:
                    db.execute(joined.sql, joined.args(row_values))
    except _GuardFailed:
        return []
    return rows


def _one_statement(unit: UnitOfWork) -> MainWrite | Select[Any]:
    when = None
    if unit.guard is not None:
        held = unit.guard.returning(literal_column("1")).cte("held")
        when = exists(select(literal_column("1")).select_from(held))
    write = unit.write(when)
    if not unit.joined:
        return write
    written = write.cte(WRITTEN)
    joined = [join(written).cte(f"joined_{n}") for n, join in enumerate(unit.joined)]
    return select(*written.c).add_cte(*joined)


def _bound(write: MainWrite) -> FromClause:
    """`written` as one row of parameters, `written_<column>` each, for the steps on SQLite."""
    return select(
        *(
            bindparam(f"written_{name}", type_=column.type).label(name)
            for name, column in write.exported_columns.items()
        )
    ).cte(WRITTEN)


def _written_values(names: tuple[str, ...], row: Sequence[Any]) -> dict[str, Any]:
    return {f"written_{name}": value for name, value in zip(names, row, strict=True)}


class _GuardFailed(Exception):
    """The guard changed no row: roll back whatever the unit wrote."""


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the write lock up front, committed unless it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
