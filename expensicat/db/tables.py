"""The tables the store reads and writes, as migrations 0001 to 0007 create them.

Defined once for both databases; only the types of ids and timestamps differ, and the
types in spelling.py carry that. The migrations stay the authority on the schema (these
definitions never create anything); tests/db/test_tables.py checks that the two agree. Not
described here: the CHECK rules (0004), the indexes, PostgreSQL's search function, and
SQLite's rowid key `seq` and its name index, which only sqlite_search.py reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, Text

from expensicat.customers.fields import WRITABLE_FIELDS
from expensicat.db.spelling import Id, Timestamp

metadata = MetaData()


def _owned(name: str, key: Column[Any], *columns: Column[Any]) -> Table:
    """A table of one organization's records each, keyed by organization first, as every
    index is (on SQLite, customers' key is a unique constraint beside the rowid key)."""
    return Table(name, metadata, Column("organization_id", Text, primary_key=True), key, *columns)


customers = _owned(
    "customers",
    Column("id", Id, primary_key=True),
    Column("name", Text, nullable=False),
    # The folded name that search matches, computed by the service.
    Column("name_search", Text, nullable=False),
    *(Column(field, Text) for field in WRITABLE_FIELDS if field != "name"),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    # When the customer was archived; NULL while active (migration 0007).
    Column("archived_at", Timestamp),
)

idempotency_keys = _owned(
    "idempotency_keys",
    Column("key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    # The created customer as JSON once the create committed; NULL while in flight.
    Column("response", Text),
    Column("created_at", Timestamp, nullable=False),
    # An in-flight claim whose holder died can be taken over after this moment.
    Column("locked_until", Timestamp, nullable=False),
)
