"""search common terms in page order, from an index that carries the folded name

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The page-order index also carries the folded name, so a search for a common term
    # walks it in order, checks names without touching the table, and stops after one page:
    # a cost that does not grow with the organization. Rare terms still use the name index.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX customers_page_order ON customers "
            "(organization_id, created_at DESC, id DESC) INCLUDE (name_search)"
        )
        # Enough statistics for the planner to tell common terms from rare ones.
        op.execute("ALTER TABLE customers ALTER COLUMN name_search SET STATISTICS 1000")
    else:
        op.create_index(
            "customers_page_order",
            "customers",
            ["organization_id", sa.text("created_at DESC"), sa.text("id DESC"), "name_search"],
        )
    op.drop_index("customers_newest_first", "customers")


def downgrade() -> None:
    op.create_index(
        "customers_newest_first",
        "customers",
        ["organization_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.drop_index("customers_page_order", "customers")
