"""search walks the newest customers first, and plans a search only when that falls short

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

search_customers (0005) planned every search for its own term, so the planner could choose
between walking the page order (common terms) and the trigram index (rare ones). Planning
costs as much as the walk itself (0.2-0.3 ms against its 1,000-bucket statistics on
name_search), and it trusts a sample to tell the two kinds of term apart. Now the function
first walks the page order for a bounded stretch, with a plan cached like any other
statement; only a term too sparse to fill the page there is planned for its value, as
before. The same signature, so callers do not change.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op
from sqlalchemy.engine import Connection

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The walk reads up to WALK_PER_ROW index entries per row of the page: a term found in at
# least one name in 150 fills its page there (about 0.4 ms for a page of 21 on 2 cores),
# and below that density the trigram index costs less than walking on.
WALK_PER_ROW = 150

WALK = """
            SELECT recent.id FROM (
                SELECT id, created_at, name_search FROM customers
                WHERE organization_id = search_customers.organization_id{bound}
                ORDER BY created_at DESC, id DESC LIMIT page_size * {per_row}
            ) AS recent
            WHERE recent.name_search LIKE name_pattern
            ORDER BY recent.created_at DESC, recent.id DESC LIMIT page_size"""
AFTER = "\n                AND (created_at, id) < (after_created_at, after_id)"

FUNCTION = """
CREATE OR REPLACE FUNCTION search_customers(
    organization_id text,
    name_pattern text,
    page_size integer,
    after_created_at timestamptz DEFAULT NULL,
    after_id uuid DEFAULT NULL
) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE ROWS 21
SET search_path = pg_catalog, {schema}, pg_temp
AS $function$
#variable_conflict use_column
DECLARE
    found uuid[];
BEGIN
    -- Two statements rather than one with "after_id IS NULL OR ...": a cached plan must
    -- keep the cursor as an index bound, not a filter.
    IF after_id IS NULL THEN
        found := ARRAY({first_walk});
    ELSE
        found := ARRAY({next_walk});
    END IF;
    IF cardinality(found) = page_size THEN
        RETURN QUERY SELECT unnest(found);
        RETURN;
    END IF;
    -- A sparse term: planned for its value, as in 0005, so the planner picks the trigram
    -- index for a rare one or walks on for one that is merely uncommon.
    RETURN QUERY EXECUTE
        'SELECT id FROM customers WHERE organization_id = $1 AND name_search LIKE $2'
        || CASE WHEN after_id IS NULL THEN '' ELSE ' AND (created_at, id) < ($4, $5)' END
        || ' ORDER BY created_at DESC, id DESC LIMIT $3'
        USING organization_id, name_pattern, page_size, after_created_at, after_id;
END
$function$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    first_walk = WALK.format(bound="", per_row=WALK_PER_ROW)
    next_walk = WALK.format(bound=AFTER, per_row=WALK_PER_ROW)
    op.execute(FUNCTION.format(schema=_schema(bind), first_walk=first_walk, next_walk=next_walk))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Back to the function exactly as revision 0005 wrote it.
    path = Path(__file__).with_name("0005_search_function.py")
    spec = importlib.util.spec_from_file_location("search_function_0005", path)
    assert spec is not None
    assert spec.loader is not None
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    function = previous.FUNCTION.format(schema=_schema(bind))
    op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


def _schema(bind: Connection) -> str:
    """The schema the customers table is in, for the function's fixed search path."""
    schema: str = bind.exec_driver_sql(
        "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'customers'::regclass"
    ).scalar_one()
    return schema
