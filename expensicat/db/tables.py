"""The tables the store reads and writes, as migrations 0001 to 0011 create them.

Defined once for both databases; only the types of ids and timestamps differ, and the
types in spelling.py carry that. The migrations stay the authority on the schema (these
definitions never create anything); tests/db/test_tables.py checks that the two agree. Not
described here: the CHECK rules (0004), the indexes, PostgreSQL's search function, and
SQLite's rowid key `seq` and its name index, which only sqlite_search.py reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, Table, Text

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

customer_changes = Table(
    "customer_changes",
    metadata,
    # The feed's order within an organization is (tx, seq): migration 0009 says how.
    Column("organization_id", Text, primary_key=True),
    Column("tx", BigInteger, primary_key=True),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("id", Id, nullable=False),
    Column("type", Text, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("customer_id", Id, nullable=False),
    # The customer as JSON after the change; NULL once the customer is erased.
    Column("customer", Text),
    # Its version (the ETag) after the change; NULL for an erasure.
    Column("customer_version", Integer),
    Column("actor_type", Text, nullable=False),
    Column("actor_id", Text, nullable=False),
    # The change as the feed lists it, as JSON text (db/changes.py).
    Column("entry", Text, nullable=False),
)

# One row: the place of the last change the retention purge deleted.
purged_changes = Table(
    "purged_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tx", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

webhook_endpoints = _owned(
    "webhook_endpoints",
    Column("id", Id, primary_key=True),
    Column("url", Text, nullable=False),
    # ",customer.created,customer.updated," or ",*," (migration 0010).
    Column("events", Text, nullable=False),
    Column("description", Text),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", Text),
    # Sealed: see expensicat.sealing.
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text),
    Column("previous_secret_until", Timestamp),
    # Where the endpoint stands in its organization's changes feed.
    Column("after_tx", BigInteger, nullable=False),
    Column("after_seq", BigInteger, nullable=False),
    Column("failing_since", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("organization_id", Text, primary_key=True),
    Column("endpoint_id", Id, primary_key=True),
    Column("change_id", Id, primary_key=True),
    # The change's place in the feed, where its body is read from when it is sent.
    Column("tx", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("locked_until", Timestamp),
    Column("created_at", Timestamp, nullable=False),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("organization_id", Text, primary_key=True),
    Column("endpoint_id", Id, primary_key=True),
    Column("id", Id, primary_key=True),
    Column("change_id", Id, nullable=False),
    Column("type", Text, nullable=False),
    Column("attempted_at", Timestamp, nullable=False),
    Column("status_code", Integer),
    Column("duration_ms", Integer, nullable=False),
    Column("error", Text),
    Column("next_attempt_at", Timestamp),
)

users = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("email", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("organization_id", Text, primary_key=True),
    Column("created_at", Timestamp, nullable=False),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("secret_hash", Text),
    Column("redirect_uris", Text, nullable=False),
    Column("organization_id", Text),
    Column("created_at", Timestamp, nullable=False),
)

oauth_grants = Table(
    "oauth_grants",
    metadata,
    Column("id", Text, primary_key=True),
    Column("client_id", Text, nullable=False),
    Column("organization_id", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_hash", Text),
    Column("revoked_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", Text, primary_key=True),
    Column("client_id", Text, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", Text, nullable=False),
    Column("organization_id", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("used_at", Timestamp),
)

oauth_refresh_tokens = Table(
    "oauth_refresh_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("grant_id", Text, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("organization_id", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("used_at", Timestamp),
)

oauth_signing_keys = Table(
    "oauth_signing_keys",
    metadata,
    Column("kid", Text, primary_key=True),
    Column("private_key", Text, nullable=False),
    Column("public_key", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)
