"""an index for each list filter and sort, so that none reads a whole organization

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Each leads with organization_id, as every index does. The expressions are spelled as the
list statements spell them (db/filtered_pages.py), which is what lets a planner use them.
created_after and created_before range over the page-order index (0003, 0007).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = {
    # Then in page order, so that the matches come out newest first with no sort.
    "customers_by_email": "(organization_id, lower(email), created_at DESC, id DESC)",
    "customers_by_tax_id": (
        "(organization_id, upper(replace(tax_id, ' ', '')), created_at DESC, id DESC)"
    ),
    "customers_by_country": "(organization_id, country_code, created_at DESC, id DESC)",
    "customers_by_name": "(organization_id, name_search, id)",
    "customers_by_update": "(organization_id, updated_at, id)",
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON customers {columns}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
