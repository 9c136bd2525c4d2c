"""ANALYZE no longer gathers statistics of the search index's keys

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

ANALYZE keeps statistics of every index expression, so of the search index's keys too: the
most common of some 11 keys a name, over a sample of 300,000 rows (name_search's 1,000
buckets set the sample's size). No plan reads them: the function's month reads compare the
keys with arrays it builds as it runs, which the planner cannot see. On 1,000,000 customers
they were half of what ANALYZE costs, which autovacuum pays each time a tenth of the table
has changed: 8.1 s before, 4.3 s after.
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The index's one column: the keys.
KEYS = "ALTER INDEX customers_search_keys ALTER COLUMN 1 SET STATISTICS {target}"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(KEYS.format(target=0))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(KEYS.format(target=-1))
