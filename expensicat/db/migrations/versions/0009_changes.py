"""the changes feed: a record of every change to a customer, and how far it has been purged

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

A change's place in the feed is (tx, seq). On PostgreSQL tx is the writing transaction's id
and seq comes from a sequence; the feed lists a change only once every transaction with a
lower id has ended (db/changes.py says why that never misses one). On SQLite, whose single
writer commits in the order it writes, tx is always 0 and seq alone orders; AUTOINCREMENT
keeps seq from ever going back, even when the purge empties the table.

`customer` is the customer as JSON text as it stood after the change, and
`customer_version` its version (its ETag) then; an erasure clears the customer in every
change to it. `purged_changes` holds the place of the last change the
retention purge deleted, so that a cursor from before it is refused rather than skipping.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TIMESTAMP = sa.Text().with_variant(sa.DateTime(timezone=True), "postgresql")
ID = sa.Text().with_variant(sa.Uuid(), "postgresql")


def _record() -> tuple[sa.Column[object], ...]:
    """The change's own columns, anew for each table that takes them."""
    return (
        sa.Column("id", ID, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("customer", sa.Text),
        sa.Column("customer_version", sa.Integer),
        sa.Column("actor_type", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "customer_changes",
            sa.Column("organization_id", sa.Text, primary_key=True),
            sa.Column("tx", sa.BigInteger, primary_key=True),
            sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
            *_record(),
        )
        # Block ranges of the append order: next to nothing to keep up, and the hourly
        # purge of the oldest changes reads only the blocks it deletes.
        op.execute(
            "CREATE INDEX customer_changes_by_time ON customer_changes USING brin (occurred_at)"
        )
    else:
        op.create_table(
            "customer_changes",
            sa.Column("organization_id", sa.Text, nullable=False),
            sa.Column("tx", sa.BigInteger, nullable=False, server_default="0"),
            # The rowid: INTEGER, to be its alias.
            sa.Column("seq", sa.Integer, primary_key=True),
            *_record(),
            sqlite_autoincrement=True,
        )
        op.create_index("customer_changes_in_order", "customer_changes",
                        ["organization_id", "tx", "seq"])  # fmt: skip
        op.create_index("customer_changes_by_time", "customer_changes", ["occurred_at"])
    # An erasure finds every change to the customer it clears.
    op.create_index(
        "customer_changes_by_customer", "customer_changes", ["organization_id", "customer_id"]
    )
    op.create_table(
        "purged_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tx", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="purged_changes_one_row"),
    )


def downgrade() -> None:
    op.drop_table("purged_changes")
    op.drop_table("customer_changes")
