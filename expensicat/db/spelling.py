"""What PostgreSQL and SQLite spell differently, each spelled once here.

Ids and timestamps cross the store's boundary as text on both databases: canonical UUIDs,
and RFC 3339 in UTC with microseconds, which sorts in time order. SQLite keeps that text as
it is. PostgreSQL keeps uuid and timestamptz, so its statements cast parameters on the way
in and format columns on the way out, on the server, where it costs nothing extra. The
column types below carry that difference: a statement written once with them compiles
right for either database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, LargeBinary, Table, Text, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, TypeDecorator

from expensicat.timestamps import FORMAT as RFC3339
from expensicat.timestamps import timestamp

# to_char's spelling of RFC3339.
_TO_CHAR_RFC3339 = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
# Through text first, so asyncpg sends the parameter as the string it is given.
_TIMESTAMPTZ_FROM_TEXT = "{}::text::timestamptz"


class _Wrapped(ColumnElement[Any]):
    """`inner` wrapped in a format string of each database's: `postgres`, or `sqlite` (by
    default as it is)."""

    inherit_cache = True
    # What SQLAlchemy compares and copies of the element; never changed.
    _traverse_internals = [  # noqa: RUF012
        ("inner", InternalTraversal.dp_clauseelement),
        ("postgres", InternalTraversal.dp_string),
        ("sqlite", InternalTraversal.dp_string),
        ("type", InternalTraversal.dp_type),
    ]

    def __init__(
        self, inner: ColumnElement[Any], postgres: str, type_: TypeEngine[Any], sqlite: str = "{}"
    ) -> None:
        self.inner = inner
        self.postgres = postgres
        self.sqlite = sqlite
        self.type = type_


@compiles(_Wrapped)
def _wrapped_for_sqlite(element: _Wrapped, compiler: SQLCompiler, **kw: Any) -> str:
    return element.sqlite.format(compiler.process(element.inner, **kw))


@compiles(_Wrapped, "postgresql")
def _wrapped_for_postgres(element: _Wrapped, compiler: SQLCompiler, **kw: Any) -> str:
    return element.postgres.format(compiler.process(element.inner, **kw))


def json_string(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A text value as a JSON string: quoted, and escaped where JSON needs it."""
    return _Wrapped(value, "to_json({}::text)::text", Text(), sqlite="json_quote({})")


def utf8_bytes(value: ColumnElement[Any]) -> ColumnElement[bytes]:
    """Text as its UTF-8 bytes, which the drivers hand over as they are: JSON sent on
    unread is then never decoded into a string and encoded again."""
    return _Wrapped(value, "convert_to({}, 'UTF8')", LargeBinary(), sqlite="CAST({} AS BLOB)")


class Id(TypeDecorator[str]):
    """A customer id: uuid on PostgreSQL, canonical text on SQLite; text to the store."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=False))
        return dialect.type_descriptor(Text())

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return _Wrapped(column, "{}::text", Text())

    def bind_expression(self, value: Any) -> ColumnElement[Any]:
        return _Wrapped(value, "{}::uuid", self)


class Timestamp(TypeDecorator[str]):
    """A moment: timestamptz on PostgreSQL, RFC 3339 text on SQLite; RFC 3339 to the store."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(Text())

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return _Wrapped(column, _TO_CHAR_RFC3339, Text())

    def bind_expression(self, value: Any) -> ColumnElement[Any]:
        return _Wrapped(value, _TIMESTAMPTZ_FROM_TEXT, self)


class JustAfter(ColumnElement[str]):
    """`now`, or a microsecond past `previous` if the clock has not moved past it: an
    updated_at that moves forward on every write, even when two land in one microsecond."""

    inherit_cache = True
    type = Timestamp()
    # What SQLAlchemy compares and copies of the element; never changed.
    _traverse_internals = [  # noqa: RUF012
        ("previous", InternalTraversal.dp_clauseelement),
        ("now", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, previous: ColumnElement[str], now: ColumnElement[str]) -> None:
        self.previous = previous
        self.now = now


@compiles(JustAfter, "postgresql")
def _greatest(element: JustAfter, compiler: SQLCompiler, **kw: Any) -> str:
    now, previous = compiler.process(element.now, **kw), compiler.process(element.previous, **kw)
    return f"greatest({now}, {previous} + interval '1 microsecond')"


@compiles(JustAfter, "sqlite")
def _later_than_call(element: JustAfter, compiler: SQLCompiler, **kw: Any) -> str:
    now, previous = compiler.process(element.now, **kw), compiler.process(element.previous, **kw)
    return f"{LATER_THAN}({previous}, {now})"


# SQLite has no microsecond arithmetic on text, so JustAfter calls this, registered as a
# function on every connection.
LATER_THAN = "expensicat_later_than"


def later_than(previous: str, now: str) -> str:
    """`now`, or a microsecond after `previous` if the clock has not moved past it."""
    if now > previous:
        return now
    return timestamp(datetime.strptime(previous, RFC3339) + timedelta(microseconds=1))


Upsert = postgresql.Insert | sqlite.Insert


def upsert(dialect: Dialect) -> Callable[[Table], Upsert]:
    """The dialect's INSERT that can say ON CONFLICT: both take the same arguments."""
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


class JsonObject(ColumnElement[str]):
    """A JSON object as text, of the names and values given, in their order."""

    inherit_cache = True
    type = Text()
    # What SQLAlchemy compares and copies of the element; never changed.
    _traverse_internals = [("values", InternalTraversal.dp_clauseelement_list)]  # noqa: RUF012

    def __init__(self, fields: dict[str, ColumnElement[Any]]) -> None:
        self.values = [
            part for name, value in fields.items() for part in (literal_column(f"'{name}'"), value)
        ]


@compiles(JsonObject, "postgresql")
def _json_build_object(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    # json, not jsonb: it keeps the fields in the order given.
    return f"json_build_object({_listed(element, compiler, **kw)})::text"


@compiles(JsonObject, "sqlite")
def _json_object(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object({_listed(element, compiler, **kw)})"


def _listed(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    return ", ".join(compiler.process(value, **kw) for value in element.values)


def as_text(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as the store reads it (ids and timestamps as text), inside an expression,
    where SQLAlchemy would not apply the type's own conversion."""
    converted = column.type.column_expression(column)
    return column if converted is None else converted


class _Spelled(ColumnElement[int]):
    """An integer each database spells its own way, given by name in `_SPELLINGS`."""

    inherit_cache = True
    type = BigInteger()
    _traverse_internals = [("name", InternalTraversal.dp_string)]  # noqa: RUF012

    def __init__(self, name: str) -> None:
        self.name = name


# The place of changes in the feed (db/changes.py): on PostgreSQL the writing transaction,
# and the oldest transaction still running, before which every change is final; on SQLite,
# whose single writer commits in order, 0, and the last seq issued.
_SPELLINGS = {
    "postgresql": {
        "transaction": "pg_current_xact_id()::text::bigint",
        "horizon_tx": "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        "horizon_seq": "0",
    },
    "sqlite": {
        "transaction": "0",
        "horizon_tx": "0",
        "horizon_seq": (
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'customer_changes'), 0)"
        ),
    },
}
CURRENT_TRANSACTION = _Spelled("transaction")
HORIZON_TX = _Spelled("horizon_tx")
HORIZON_SEQ = _Spelled("horizon_seq")


@compiles(_Spelled)
def _spelled(element: _Spelled, compiler: SQLCompiler, **kw: Any) -> str:
    return _SPELLINGS[compiler.dialect.name][element.name]


class PlaceBetween(ColumnElement[Any]):
    """A change's place (tx, seq) after one place and at or before another. PostgreSQL
    compares the pairs, along its index; SQLite, whose tx is always 0, would read every
    place of the organization that way, so it compares seq alone."""

    inherit_cache = True
    # Not Boolean: SQLite would get "= 1" appended to the whole comparison.
    type = NullType()
    _traverse_internals = [("parts", InternalTraversal.dp_clauseelement_list)]  # noqa: RUF012

    def __init__(
        self,
        place: tuple[ColumnElement[Any], ColumnElement[Any]],
        after: tuple[ColumnElement[Any], ColumnElement[Any]],
        until: tuple[ColumnElement[Any], ColumnElement[Any]],
    ) -> None:
        self.parts = [*place, *after, *until]


@compiles(PlaceBetween, "postgresql")
def _pairs_between(element: PlaceBetween, compiler: SQLCompiler, **kw: Any) -> str:
    tx, seq, after_tx, after_seq, until_tx, until_seq = (
        compiler.process(part, **kw) for part in element.parts
    )
    return (
        f"({tx}, {seq}) > ({after_tx}, {after_seq}) AND ({tx}, {seq}) <= ({until_tx}, {until_seq})"
    )


@compiles(PlaceBetween, "sqlite")
def _seq_between(element: PlaceBetween, compiler: SQLCompiler, **kw: Any) -> str:
    tx, seq, after_tx, after_seq, _, until_seq = (
        compiler.process(part, **kw) for part in element.parts
    )
    return f"{tx} = {after_tx} AND {seq} > {after_seq} AND {seq} <= {until_seq}"
