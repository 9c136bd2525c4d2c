"""each change keeps its entry: the change as the feed lists it, as JSON text

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

A page of the feed was built on each read from ten columns of each change: PostgreSQL
formatted the time and the ids, the service made a dict of each row, then serialized them
all. Those were 2/3 of what a page of 100 cost. A change never changes once recorded, save
that an erasure clears its customer, so its JSON is now made once, when it is recorded
(db/changes.py), and a page is its entries, joined.

The changes recorded before are given theirs here, built from their columns the way
db/changes.py builds them. On SQLite a NOT NULL column can only be added with a default;
every write gives the entry, so the default is never used.
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ENTRY = """
'{{"id":"' || {id} || '","type":"' || type || '","occurred_at":"' || {occurred_at}
|| '","customer_id":"' || {customer_id} || '","customer":' || coalesce(customer, 'null')
|| ',"actor":{{"type":"' || actor_type || '","id":' || {quoted_actor_id} || '}}}}'
"""
POSTGRES_ENTRY = ENTRY.format(
    id="id::text",
    occurred_at="""to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
    customer_id="customer_id::text",
    quoted_actor_id="to_json(actor_id)::text",
)
SQLITE_ENTRY = ENTRY.format(
    id="id",
    occurred_at="occurred_at",
    customer_id="customer_id",
    quoted_actor_id="json_quote(actor_id)",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE customer_changes ADD COLUMN entry text")
        op.execute(f"UPDATE customer_changes SET entry = {POSTGRES_ENTRY}")
        op.execute("ALTER TABLE customer_changes ALTER COLUMN entry SET NOT NULL")
    else:
        op.execute("ALTER TABLE customer_changes ADD COLUMN entry TEXT NOT NULL DEFAULT ''")
        op.execute(f"UPDATE customer_changes SET entry = {SQLITE_ENTRY}")


def downgrade() -> None:
    op.execute("ALTER TABLE customer_changes DROP COLUMN entry")
