"""customers can be archived: archived_at, in the page-order index and the search function

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

A list leaves archived customers out unless asked for them, so the page-order index carries
archived_at beside the folded name: a page is still read from the index alone. The search
function takes which customers to consider ('false': active ones, 'true': archived ones,
'any': both) and applies it in both of its ways in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from expensicat.db.migrate import revision_module

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIMESTAMP = sa.Text().with_variant(sa.DateTime(timezone=True), "postgresql")
OLD_SIGNATURE = "search_customers(text, text, integer, timestamptz, uuid)"
ARCHIVED = "AND (archived = 'any' OR (archived_at IS NULL) = (archived = 'false'))"


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("customers", sa.Column("archived_at", TIMESTAMP))
    op.drop_index("customers_page_order", "customers")
    if bind.dialect.name != "postgresql":
        op.create_index(
            "customers_page_order",
            "customers",
            ["organization_id", sa.text("created_at DESC"), sa.text("id DESC"), "name_search",
             "archived_at"],
        )  # fmt: skip
        return
    op.execute(
        "CREATE INDEX customers_page_order ON customers "
        "(organization_id, created_at DESC, id DESC) INCLUDE (name_search, archived_at)"
    )
    op.execute(f"DROP FUNCTION {OLD_SIGNATURE}")
    op.execute(_function(bind))


def _function(bind: Connection) -> str:
    """Migration 0006's function, with the archived condition in each of its queries."""
    walks = revision_module("0006_search_walks_first.py")
    walk = _replaced(
        walks.WALK,
        "WHERE organization_id = search_customers.organization_id{bound}",
        f"WHERE organization_id = search_customers.organization_id{{bound}}\n"
        f"                {ARCHIVED}",
    )
    function = walks.FUNCTION
    for old, new in (
        (
            "    after_id uuid DEFAULT NULL\n) RETURNS SETOF uuid",
            "    after_id uuid DEFAULT NULL,\n    archived text DEFAULT 'false'\n"
            ") RETURNS SETOF uuid",
        ),
        (
            "'SELECT id FROM customers WHERE organization_id = $1 AND name_search LIKE $2'",
            "'SELECT id FROM customers WHERE organization_id = $1 AND name_search LIKE $2 '\n"
            "        || 'AND ($6 = ''any'' OR (archived_at IS NULL) = ($6 = ''false''))'",
        ),
        (
            "USING organization_id, name_pattern, page_size, after_created_at, after_id;",
            "USING organization_id, name_pattern, page_size, after_created_at, after_id, archived;",
        ),
    ):
        function = _replaced(function, old, new)
    return (
        str(function)
        .format(
            schema=walks._schema(bind),
            first_walk=walk.format(bound="", per_row=walks.WALK_PER_ROW),
            next_walk=walk.format(bound=walks.AFTER, per_row=walks.WALK_PER_ROW),
        )
        .replace("CREATE OR REPLACE FUNCTION", "CREATE FUNCTION", 1)
    )


def _replaced(text: str, old: str, new: str) -> str:
    assert old in text, f"revision 0006 no longer reads {old!r}"
    return text.replace(old, new)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION search_customers(text, text, integer, timestamptz, uuid, text)")
        walks = revision_module("0006_search_walks_first.py")
        op.execute(
            walks.FUNCTION.format(
                schema=walks._schema(bind),
                first_walk=walks.WALK.format(bound="", per_row=walks.WALK_PER_ROW),
                next_walk=walks.WALK.format(bound=walks.AFTER, per_row=walks.WALK_PER_ROW),
            )
        )
    op.drop_index("customers_page_order", "customers")
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX customers_page_order ON customers "
            "(organization_id, created_at DESC, id DESC) INCLUDE (name_search)"
        )
    else:
        op.create_index(
            "customers_page_order",
            "customers",
            ["organization_id", sa.text("created_at DESC"), sa.text("id DESC"), "name_search"],
        )
    op.drop_column("customers", "archived_at")
