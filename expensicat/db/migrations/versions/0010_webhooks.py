"""webhooks: endpoints, the deliveries each one owes, and the log of every attempt

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

An endpoint follows its organization's changes feed like any reader, from its own place
(after_tx, after_seq): the worker moves that place forward in the same transaction that
queues a delivery for each change it subscribes to, so each change is queued once. A
delivery names its change by place; the body is built from the change when it is sent, so
an erasure, which clears the change, leaves nothing of the customer here either.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TIMESTAMP = sa.Text().with_variant(sa.DateTime(timezone=True), "postgresql")
ID = sa.Text().with_variant(sa.Uuid(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("organization_id", sa.Text, primary_key=True),
        sa.Column("id", ID, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        # ",customer.created,customer.updated," or ",*,": matched with LIKE on both databases.
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.Text),
        # Sealed (AES-GCM): a dump of the database alone cannot sign a delivery.
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("previous_secret", sa.Text),
        sa.Column("previous_secret_until", TIMESTAMP),
        sa.Column("after_tx", sa.BigInteger, nullable=False),
        sa.Column("after_seq", sa.BigInteger, nullable=False),
        sa.Column("failing_since", TIMESTAMP),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("organization_id", sa.Text, primary_key=True),
        sa.Column("endpoint_id", ID, primary_key=True),
        sa.Column("change_id", ID, primary_key=True),
        sa.Column("tx", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        # pending, delivered or failed.
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("locked_until", TIMESTAMP),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    # What is due, in the order the changes were made.
    op.create_index(
        "webhook_deliveries_due",
        "webhook_deliveries",
        ["endpoint_id", "status", "tx", "seq"],
    )
    op.create_index("webhook_deliveries_by_age", "webhook_deliveries", ["created_at"])
    # What is owed, however many deliveries the log keeps: the queue's depth and age.
    op.create_index(
        "webhook_deliveries_owed",
        "webhook_deliveries",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("organization_id", sa.Text, primary_key=True),
        sa.Column("endpoint_id", ID, primary_key=True),
        sa.Column("id", ID, primary_key=True),
        sa.Column("change_id", ID, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("attempted_at", TIMESTAMP, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("next_attempt_at", TIMESTAMP),
    )
    op.create_index("webhook_attempts_by_age", "webhook_attempts", ["attempted_at"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
