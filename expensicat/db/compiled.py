"""Statements compiled once into the plain SQL and parameter order the drivers run.

SQLAlchemy only writes the text, at start-up: no engine, no ORM, nothing of it on the
request path. asyncpg takes `$1` parameters, a name used twice being one number; sqlite3
takes `?`, a name used twice being bound twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


class _AsyncpgDialect(PGDialect):
    """PostgreSQL as asyncpg is spoken to: `$n` parameters, typed by the server from the
    statement rather than by casts SQLAlchemy would add for its own drivers."""

    bind_typing = BindTyping.NONE


POSTGRES: Dialect = _AsyncpgDialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
SQLITE: Dialect = SQLiteDialect(paramstyle="qmark")


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement's SQL, and the names of its parameters in the order the driver binds."""

    sql: str
    params: tuple[str, ...]
    # Constants SQLAlchemy made parameters of itself (a LIMIT's offset, a literal).
    fixed: Mapping[str, Any]
    _pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pick", _picker(self.params))

    def args(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional arguments, from the values named like the parameters."""
        return self._pick({**self.fixed, **values} if self.fixed else values)


def _picker(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of these names, in order, as a tuple: itemgetter's, on every request."""
    if len(names) == 1:
        (name,) = names
        return lambda values: (values[name],)
    if not names:
        return lambda values: ()
    return itemgetter(*names)


def compile_for(statement: ClauseElement, dialect: Dialect) -> Compiled:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    params = tuple(compiled.positiontup or ())
    fixed = {
        name: bind.effective_value
        for name, bind in compiled.binds.items()
        if name in params and not bind.required
    }
    return Compiled(compiled.string, params, fixed)
