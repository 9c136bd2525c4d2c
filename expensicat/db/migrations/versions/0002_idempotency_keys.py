"""idempotency keys for creates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.Text().with_variant(sa.DateTime(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("organization_id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("request_hash", sa.Text, nullable=False),
        # The created customer as JSON once the create committed; NULL while in flight.
        sa.Column("response", sa.Text),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        # An in-flight claim whose holder died can be taken over after this moment.
        sa.Column("locked_until", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "key"),
        sa.CheckConstraint("length(key) BETWEEN 1 AND 255", name="key_length"),
    )
    op.create_index(
        "idempotency_keys_by_age", "idempotency_keys", ["organization_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
